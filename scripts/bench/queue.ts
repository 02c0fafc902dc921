import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { freshDataDir, startBot, type BotProcess } from '../../tests/e2e/bot-process.js';
import { DiscordEmulator } from '../../tests/e2e/emulator.js';
import { HAS_REDIS, REDIS_SKIP_REASON, RedisServer } from '../../tests/redis.js';
import { median, round } from './stats.js';
import { answered, answeredAt, benchBotEnv, preciseClock, requests } from './requests.js';

/**
 * Scaling out, through Discord (the compiled bot against the emulator) on the benchmark models:
 *
 * - One worker through Redis versus the single process: /classify one at a time, end to end
 *   (interaction created → final answer at Discord), the two deployments sent the same request in
 *   alternation, each on its own emulator, so that the machine's drift falls on both alike.
 *   Ratio of medians (goal ≤ 1.10).
 * - Two workers versus one: a burst of /classify from several servers at once; the time until the
 *   last answer with one worker, then with a second one started beside it. Ratio one ÷ two of the
 *   throughputs' inverse (> 1: two are faster; the goal is ≥ 1, "not slower in total").
 *
 * `node … scripts/bench/queue.ts <benchDir> <image> [rounds] [burst]`; prints one JSON line
 * (`{"skipped": "…"}` without redis-server).
 */
const [benchDir, imagePath, roundsArg, burstArg] = process.argv.slice(2) as [
  string,
  string,
  string | undefined,
  string | undefined,
];
const rounds = Number(roundsArg ?? 20);
const burst = Number(burstArg ?? 24);
if (!HAS_REDIS) {
  process.stdout.write(`${JSON.stringify({ skipped: REDIS_SKIP_REASON })}\n`);
  process.exit(0);
}
const image = readFileSync(imagePath);

const env = (extra: Record<string, string>): Record<string, string> => benchBotEnv(benchDir, extra);

const { classify } = requests(image, 730000000000000000n);
const guildOf = (n: number): string => String(220000000000000000n + BigInt(n));

const running: BotProcess[] = [];
const start = async (
  emulator: DiscordEmulator,
  extra: Record<string, string>,
  script: 'index' | 'worker' = 'index',
): Promise<BotProcess> => {
  const process = await startBot(emulator, env(extra), 180_000, true, script);
  running.push(process);
  return process;
};

const redis = await RedisServer.start();
try {
  const single = { emulator: new DiscordEmulator({ now: preciseClock }) };
  const queued = { emulator: new DiscordEmulator({ now: preciseClock }) };
  await Promise.all([single.emulator.start(), queued.emulator.start()]);
  // The single process as deployed by default: with its journal (embedded PGlite).
  await start(single.emulator, { DATA_DIR: freshDataDir() });
  await start(queued.emulator, { REDIS_URL: redis.url });
  await start(queued.emulator, { REDIS_URL: redis.url }, 'worker');

  const times = { single: [] as number[], queued: [] as number[] };
  for (let turn = -3; turn < rounds; turn += 1) {
    const order = turn % 2 === 0 ? [single, queued] : [queued, single];
    for (const side of order) {
      const record = classify(side.emulator);
      await answered([record], 'an answer');
      if (turn >= 0) (side === single ? times.single : times.queued).push(answeredAt(record));
    }
  }
  const singleMs = median(times.single);
  const queuedMs = median(times.queued);
  const oneWorker = {
    singleProcessMs: round(singleMs),
    throughRedisMs: round(queuedMs),
    ratio: round(queuedMs / singleMs, 3),
  };

  /** A burst of /classify from four servers; ms until the last answer. */
  const burstMs = async (): Promise<number> => {
    const records = Array.from({ length: burst }, (_, i) => classify(queued.emulator, guildOf(i % 4)));
    await answered(records, `${burst} answers`);
    return Math.max(...records.map(answeredAt));
  };
  await burstMs(); // warm-up
  const one = median([await burstMs(), await burstMs(), await burstMs()]);
  // Two workers on one host split its cores between them, as docker-compose.yml's worker service
  // does (ORT_INTRA_OP_THREADS): left at the default, each would run every core's worth of
  // inference threads, twice as many threads as cores.
  const threadsEach = Math.max(1, Math.floor(availableParallelism() / 2));
  const firstWorker = running.at(-1)!;
  firstWorker.child.kill('SIGTERM');
  await firstWorker.exited;
  running.splice(running.indexOf(firstWorker), 1);
  await Promise.all(
    [0, 1].map(() =>
      start(queued.emulator, { REDIS_URL: redis.url, ORT_INTRA_OP_THREADS: String(threadsEach) }, 'worker'),
    ),
  );
  await burstMs(); // the two workers' warm-up
  const two = median([await burstMs(), await burstMs(), await burstMs()]);
  const twoWorkers = {
    burst,
    threadsEach,
    oneWorkerMs: round(one),
    twoWorkersMs: round(two),
    speedup: round(one / two, 3),
  };

  for (const process of running) process.child.kill('SIGTERM');
  await Promise.all(running.map((process) => process.exited));
  await Promise.all([single.emulator.stop(), queued.emulator.stop()]);
  process.stdout.write(`${JSON.stringify({ rounds, oneWorker, twoWorkers })}\n`);
} finally {
  for (const process of running) if (process.child.exitCode === null) process.child.kill('SIGKILL');
  await redis.dispose();
}
