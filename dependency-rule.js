// @ts-check
/**
 * The dependency rule: each layer may import only the layers listed for it (and itself), so
 * dependencies point one way: front ends → commands → model kinds → inference → models, with
 * render/ taking plain data only. `npm run lint` enforces it (import-x/no-restricted-paths);
 * tests/unit/dependency-rule.test.ts shows a wrong-way import failing it.
 */

/** Every layer, by the folders (or files) that form it. */
export const LAYERS = {
  util: ['src/util'],
  config: ['src/config'],
  models: ['src/models'],
  inference: ['src/inference'],
  render: ['src/render'],
  vision: ['src/vision'],
  text: ['src/text'],
  knowledge: ['src/knowledge'],
  journal: ['src/journal'],
  teach: ['src/teach'],
  serverData: ['src/server-data'],
  quiz: ['src/quiz'],
  queue: ['src/queue'],
  services: ['src/app.ts'],
  command: ['src/command'],
  commands: ['commands'],
  discord: ['src/discord'],
  cli: ['src/cli'],
  entry: ['src/index.ts', 'src/sharded.ts', 'src/worker.ts'],
};

/** What each layer may import besides itself. */
export const ALLOWED = {
  util: ['config'],
  config: [],
  models: ['util', 'config'],
  inference: ['models', 'util', 'config'],
  render: ['util'],
  vision: ['inference', 'models', 'util', 'config'],
  text: ['inference', 'models', 'util', 'config'],
  // Explanations are chosen for the results of vision and text models.
  knowledge: ['vision', 'text', 'util', 'config'],
  // The interaction journal stores plain data: it knows nothing of discord.js, commands or models.
  journal: ['util', 'config'],
  // /teach: the probe, its per-server rows (in the journal's database) and the images it embeds.
  teach: ['vision', 'journal', 'util', 'config'],
  // The job queue carries the journal's plain shape of an interaction: no discord.js, no commands.
  queue: ['journal', 'util', 'config'],
  // What the bot stores per server (teach, settings, …): settings, /forget, departures, retention.
  serverData: ['journal', 'quiz', 'util', 'config'],
  // /quiz: rounds built from real model results, held and scored in the journal's database.
  quiz: ['vision', 'text', 'knowledge', 'journal', 'util', 'config'],
  services: [
    'vision',
    'text',
    'knowledge',
    'journal',
    'teach',
    'serverData',
    'quiz',
    'inference',
    'models',
    'render',
    'util',
    'config',
  ],
  command: ['services', 'render', 'util', 'config'],
  // Commands compute through the services' facades: never the engine or the model store.
  commands: [
    'command',
    'services',
    'vision',
    'text',
    'knowledge',
    'teach',
    'quiz',
    'serverData',
    'render',
    'util',
    'config',
  ],
  discord: ['command', 'commands', 'services', 'journal', 'queue', 'quiz', 'serverData', 'render', 'util', 'config'],
  cli: ['command', 'commands', 'services', 'journal', 'render', 'util', 'config'],
  // The entry points open the journal first: an unusable DATA_DIR stops start-up with its exit code.
  entry: ['discord', 'cli', 'command', 'services', 'journal', 'queue', 'util', 'config'],
};

/** import-x/no-restricted-paths zones: for each layer, every other layer it may not import. */
export const layerZones = Object.entries(LAYERS).flatMap(([layer, targets]) => {
  const allowed = new Set([layer, ...ALLOWED[/** @type {keyof typeof ALLOWED} */ (layer)]]);
  const forbidden = Object.entries(LAYERS).filter(([other]) => !allowed.has(other));
  return targets.flatMap((target) =>
    forbidden.flatMap(([other, paths]) =>
      paths.map((from) => ({
        target: `./${target}`,
        from: `./${from}`,
        message: `${layer} may not import ${other} (dependency-rule.js)`,
      })),
    ),
  );
});
