import { readFileSync } from 'node:fs';
import { benchBotEnv, preciseClock } from './requests.js';
import { startBot, until } from '../../tests/e2e/bot-process.js';
import { DiscordEmulator } from '../../tests/e2e/emulator.js';
import { median, percentile, round } from './stats.js';

/**
 * The bot exactly as `npm start` runs it (compiled, in its own process) on the benchmark models:
 * cold start, memory with every model loaded, and 32 concurrent /classify interactions through
 * the Discord emulator: how fast each is acknowledged, answered, and how late the event loop runs.
 */
const [benchDir, imagePath] = process.argv.slice(2) as [string, string];
const emulator = new DiscordEmulator({ now: preciseClock });
await emulator.start();
const healthPort = 20000 + Math.floor(Math.random() * 20000);
/** Resident and peak resident memory of a process, from Linux's /proc. */
const memoryOf = (pid: number): { rssMb: number; peakMb: number } => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
};
const spawned = performance.now();
const bot = await startBot(
  emulator,
  {
    ...benchBotEnv(benchDir),
    GUILD_MAX_IN_FLIGHT: '64',
    HEALTH_PORT: String(healthPort),
    LOG_LEVEL: 'info',
  },
  120_000,
  true,
);
const readyMs = performance.now() - spawned;
const loaded = memoryOf(bot.child.pid!);
/** Cumulative event-loop lag bucket counts from the bot's /metrics, by upper bound in seconds. */
const lagBuckets = async (): Promise<Array<[number, number]>> => {
  const text = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
  return [...text.matchAll(/^sightread_event_loop_lag_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)].map((m) => [
    m[1] === '+Inf' ? Infinity : Number(m[1]),
    Number(m[2]),
  ]);
};
const lagBefore = await lagBuckets();
const bytes = readFileSync(imagePath);
const records = Array.from({ length: 32 }, (_, i) => {
  const attachment = emulator.attachment(`photo-${i}.jpg`, 'image/jpeg', bytes);
  return emulator.interact(
    {
      name: 'classify',
      type: 1,
      options: [{ name: 'image', type: 11, value: attachment.id }],
      resolved: { attachments: { [attachment.id]: attachment } },
    },
    { userId: String(700000000000000000n + BigInt(i)) },
  );
});
await until(
  () => records.every((r) => r.edits.some((e) => Array.isArray(e.json.embeds)) || r.followUps.length > 0) || undefined,
  180_000,
  'all 32 answers',
);
const underLoad = memoryOf(bot.child.pid!);
// p99 of the lag during the load only (start-up excluded): the first bucket holding 99% of the window's samples.
const lagAfter = await lagBuckets();
const inWindow = lagAfter.map(([bound, count], index) => [bound, count - (lagBefore[index]?.[1] ?? 0)] as const);
const samples = inWindow.at(-1)![1];
const lag = (inWindow.find(([, count]) => count >= 0.99 * samples)?.[0] ?? Number.NaN) * 1000;
const acks = records.map((r) => r.initial!.at - r.createdAt);
const finals = records.map(
  (r) => (r.edits.find((e) => Array.isArray(e.json.embeds))?.at ?? r.followUps[0]!.at) - r.createdAt,
);
bot.child.kill('SIGTERM');
await bot.exited;
await emulator.stop();
process.stdout.write(
  `${JSON.stringify({
    interactions: records.length,
    answered: records.filter((r) => r.edits.some((e) => Array.isArray(e.json.embeds))).length,
    rejected: records.reduce((n, r) => n + r.rejections.length, 0),
    ackMaxMs: round(Math.max(...acks)),
    ackP50Ms: round(median(acks)),
    finalP50Ms: round(median(finals)),
    finalP95Ms: round(percentile(finals, 0.95)),
    eventLoopLagP99Ms: round(lag),
    eventLoopLagSamples: samples,
    coldStartMs: round(readyMs, 0),
    loadedRssMb: round(loaded.rssMb),
    peakRssUnderLoadMb: round(underLoad.peakMb),
  })}\n`,
);
