import { readFileSync } from 'node:fs';
import { answeredPrivately, finalEdit, freshDataDir, startBot, until } from '../../tests/e2e/bot-process.js';
import { DiscordEmulator, type InteractionRecord } from '../../tests/e2e/emulator.js';
import { answered, answeredAt, benchBotEnv, preciseClock, requests } from './requests.js';
import { round } from './stats.js';

/**
 * The lab's Discord goals: every experiment acknowledged within 3 s and showing progress while
 * it runs. The real bot as `npm start` runs it (compiled, journal on) against the emulator, on
 * the benchmark models: for each image experiment, one request alone, then `class` members of
 * one server sending it at once. For each request: when Discord had the acknowledgement, the
 * progress lines ("⏳ …") it showed before its answer, and when the answer came. Then the class
 * presses *Stress test* under one /classify reply at once: one run answers in the channel, and
 * every other press is told privately whose run it is (`sharedButton`).
 *
 * `node bench/dist/scripts/bench/lab-discord.js <benchDir> <image> [class]`; prints one JSON line.
 */
const [benchDir, imagePath, classArg] = process.argv.slice(2) as [string, string, string | undefined];
const classSize = Number(classArg ?? 8);
const image = readFileSync(imagePath);

const emulator = new DiscordEmulator({ now: preciseClock });
await emulator.start();
const bot = await startBot(emulator, benchBotEnv(benchDir, { DATA_DIR: freshDataDir() }), 180_000, true);
const { imageCommand } = requests(image, 730000000000000000n);

const acknowledgedAt = (record: InteractionRecord): number => (record.initial?.at ?? Number.NaN) - record.createdAt;
/** The "⏳ …" lines shown before the answer. */
const progressLines = (record: InteractionRecord): string[] =>
  record.edits.flatMap((edit) =>
    typeof edit.json.content === 'string' && edit.json.content.startsWith('⏳') ? [edit.json.content] : [],
  );

function summary(records: InteractionRecord[]) {
  const progress = records.map(progressLines);
  return {
    requests: records.length,
    answered: records.filter((record) => finalEdit(record)).length,
    slowestAckMs: round(Math.max(...records.map(acknowledgedAt))),
    slowestAnswerMs: round(Math.max(...records.map(answeredAt))),
    // Answered in the first response (no "thinking…", nothing to show progress on).
    inline: records.filter((record) => record.initial?.type === 4).length,
    withProgress: progress.filter((lines) => lines.length > 0).length,
    progressLines: progress.reduce((sum, lines) => sum + lines.length, 0),
  };
}

const experiments = ['saliency', 'stress', 'mask'] as const;
const results: Record<
  string,
  { alone: ReturnType<typeof summary> & { lines: string[] }; atOnce: ReturnType<typeof summary> }
> = {};
const guild = '740000000000000001';
for (const name of experiments) {
  // Warm: the first run of each loads its sessions.
  const warm = imageCommand(emulator, name, guild);
  await answered([warm], `a warm-up /${name}`);
  const alone = imageCommand(emulator, name, guild);
  await answered([alone], `one /${name}`);
  const atOnce = Array.from({ length: classSize }, () => imageCommand(emulator, name, guild));
  await answered(atOnce, `${classSize} /${name} at once`);
  results[name] = { alone: { ...summary([alone]), lines: progressLines(alone) }, atOnce: summary(atOnce) };
}
// The whole class presses one button under one reply at once: one run, the rest pointed to it.
const classified = imageCommand(emulator, 'classify', guild);
await answered([classified], 'a /classify to press its buttons');
const components = (finalEdit(classified)?.json.components ?? []) as Array<{
  components: Array<{ label: string; custom_id: string }>;
}>;
const stressButton = components.flatMap((row) => row.components).find((button) => button.label === 'Stress test');
if (!stressButton) throw new Error('no Stress test button under the /classify reply');
const presses = Array.from({ length: classSize }, (_, index) =>
  emulator.press(classified, stressButton.custom_id, { userId: String(750000000000000000n + BigInt(index)) }),
);
await until(
  // Each press ends private (pointed to the run), answered, or with a private error after "thinking…".
  () =>
    presses.every((record) => answeredPrivately(record) || finalEdit(record) || record.followUps.length > 0) ||
    undefined,
  300_000,
  `${classSize} presses of one button`,
);
const pointed = presses.filter(answeredPrivately);
const ran = presses.filter((record) => !answeredPrivately(record));
const sharedButton = {
  presses: classSize,
  runs: ran.length,
  answered: ran.filter((record) => finalEdit(record)).length,
  pointedPrivately: pointed.length,
  slowestPointerMs: round(Math.max(...pointed.map(acknowledgedAt))),
  answerMs: round(Math.max(...ran.map(answeredAt))),
};
bot.child.kill('SIGTERM');
await bot.exited;
await emulator.stop();
process.stdout.write(`${JSON.stringify({ classSize, experiments: results, sharedButton })}\n`);
