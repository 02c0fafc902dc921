import type { Command } from './definition.js';
import { acceptedValues } from './options.js';

/** One command as /help, the CLI's usage and the README show it, all derived from its declaration. */
export interface CatalogueEntry {
  /** As a Discord user finds it: `/classify`, `Apps → Classify image`. */
  name: string;
  what: string;
  /** A Discord example (`/classify image:<photo.jpg> model:both top:5`), absent for context menus. */
  example: string | undefined;
  /** The terminal usage line and an example, absent for context menus. */
  cli: { usage: string; example: string } | undefined;
}

const quoted = (value: string): string => (/[\s"'|&;<>()$`\\]/.test(value) ? JSON.stringify(value) : value);

export function catalogueEntry(command: Command): CatalogueEntry {
  if (command.kind === 'message') {
    return { name: `Apps → ${command.name}`, what: command.help.what, example: undefined, cli: undefined };
  }
  const specs = Object.entries(command.options.specs);
  const example = Object.entries(command.help.example ?? {});
  const discordValue = (name: string, value: string): string =>
    command.options.specs[name]?.kind === 'attachment' ? `<${value}>` : value;
  const usage = [
    command.name,
    ...command.positional.map((name, index) => {
      const spec = command.options.specs[name]!;
      const shown = spec.kind === 'attachment' ? `<${name}>` : `"<${name}>"`;
      if (command.variadic && index === command.positional.length - 1) return `[${shown}…]`;
      return index === 0 && command.positionalFile ? `${shown}|<${command.positionalFile}>` : shown;
    }),
    ...specs
      .filter(([name]) => !command.positional.includes(name) && name !== command.positionalFile)
      .map(([name, spec]) => {
        const flag = `--${name} ${acceptedValues(name, spec)}`;
        return spec.kind === 'string' && spec.required ? flag : `[${flag}]`;
      }),
  ].join(' ');
  const cliExample = [
    command.name,
    ...command.positional.flatMap((name) =>
      command.help.example?.[name] === undefined ? [] : [quoted(command.help.example[name])],
    ),
    ...example
      .filter(([name]) => !command.positional.includes(name))
      .map(([name, value]) => `--${name} ${quoted(value)}`),
  ].join(' ');
  return {
    name: `/${command.name}`,
    what: command.help.what,
    example: [`/${command.name}`, ...example.map(([name, value]) => `${name}:${discordValue(name, value)}`)].join(' '),
    cli: { usage, example: `npm run cli -- ${cliExample}` },
  };
}

/** Slash commands in a teaching order, then the context menus. */
const ORDER = [
  'classify',
  'saliency',
  'stress',
  'mask',
  'match',
  'tokenize',
  'languages',
  'sentiment',
  'saliency-text',
  'stress-text',
  'mask-text',
  'preprocess',
  'explain',
  'ask',
  'quiz',
  'status',
  'help',
];

export function catalogue(commands: Iterable<Command>): CatalogueEntry[] {
  const rank = (command: Command): number =>
    command.kind === 'message'
      ? ORDER.length + 1
      : ORDER.indexOf(command.name) < 0
        ? ORDER.length
        : ORDER.indexOf(command.name);
  return [...commands].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name)).map(catalogueEntry);
}

/** The README's command table (between its `commands` markers), generated so it cannot drift. */
export function readmeCommandTable(commands: Iterable<Command>): string {
  const cell = (text: string): string => text.replace(/\|/g, '\\|');
  const rows = catalogue(commands).flatMap((entry) =>
    entry.cli ? [`| \`${cell(entry.cli.usage)}\` | ${cell(entry.what)} | \`${cell(entry.cli.example)}\` |`] : [],
  );
  return ['| command | what it shows | example |', '| --- | --- | --- |', ...rows].join('\n');
}
