import { readFileSync } from 'node:fs';
import { finalEdit, freshDataDir, startBot, until, type BotProcess } from '../../tests/e2e/bot-process.js';
import { DiscordEmulator, type InteractionRecord } from '../../tests/e2e/emulator.js';
import { median, round } from './stats.js';
import { answered, answeredAt, benchBotEnv, preciseClock, requests } from './requests.js';
import { freePort } from '../../tests/helpers.js';

/**
 * The serving goals, through Discord (the real bot as `npm start` runs it, compiled, against the
 * emulator) on the benchmark models:
 *
 * - What the interaction journal (embedded PGlite) adds end to end (interaction created → final
 *   answer at Discord): two bots, one with JOURNAL_ENABLED=false, each with its own emulator,
 *   sent the same requests one at a time in alternation, so that the machine's drift falls on
 *   both alike. Ratio of medians.
 * - A class at once: 40 members of one server sending /sentiment together (slowest
 *   acknowledgement, slowest answer), and 40 /classify from 40 members of 4 servers (each
 *   server's first answer before any server's fifth).
 *
 * `node bench/dist/scripts/bench/classroom.js <benchDir> <image> [rounds]`; prints one JSON line.
 */
const [benchDir, imagePath, roundsArg] = process.argv.slice(2) as [string, string, string | undefined];
const rounds = Number(roundsArg ?? 30);
const image = readFileSync(imagePath);

const env = (extra: Record<string, string>): Record<string, string> =>
  benchBotEnv(benchDir, { LOG_LEVEL: 'warn', ...extra });

interface Side {
  emulator: DiscordEmulator;
  bot: BotProcess;
}

async function side(journal: boolean): Promise<Side> {
  const emulator = new DiscordEmulator({ now: preciseClock });
  await emulator.start();
  const settings = env({ JOURNAL_ENABLED: String(journal), LOG_LEVEL: 'debug', DATA_DIR: freshDataDir() });
  if (journal) {
    // The database's very first start (initdb, once per DATA_DIR) is not what a running bot
    // holds: measure a later start, as every restart is.
    const first = await startBot(emulator, settings, 180_000, true);
    first.child.kill('SIGTERM');
    await first.exited;
  }
  const bot = await startBot(emulator, settings, 180_000, true);
  return { emulator, bot };
}

const { member, classify, sentiment } = requests(image, 720000000000000000n);
const guildOf = (n: number): string => String(210000000000000000n + BigInt(n));

const withJournal = await side(true);
const without = await side(false);
/** Resident memory of a process in MB, from Linux's /proc. */
const residentMb = (pid: number): number =>
  Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN) / 1024;
const memory = {
  withJournalMb: round(residentMb(withJournal.bot.child.pid!)),
  withoutMb: round(residentMb(without.bot.child.pid!)),
};

/** One request at a time, alternating between the two bots; the first rounds warm both up and are not counted. */
async function alternate(send: (emulator: DiscordEmulator) => InteractionRecord, count: number) {
  const times = { journal: [] as number[], none: [] as number[] };
  const acks = { journal: [] as number[], none: [] as number[] };
  for (let turn = -3; turn < count; turn += 1) {
    const order = turn % 2 === 0 ? [withJournal, without] : [without, withJournal];
    for (const current of order) {
      const record = send(current.emulator);
      await answered([record], 'an answer');
      if (turn < 0) continue;
      (current === withJournal ? times.journal : times.none).push(answeredAt(record));
      (current === withJournal ? acks.journal : acks.none).push((record.initial?.at ?? Number.NaN) - record.createdAt);
    }
  }
  const recordLines = withJournal.bot.logs.filter((entry) => entry.msg === 'journal record');
  const recordMs = recordLines.slice(-count).map((entry) => Number(entry.ms));
  const journalMs = median(times.journal);
  const noneMs = median(times.none);
  return {
    withJournalMs: round(journalMs),
    withoutMs: round(noneMs),
    ratio: round(journalMs / noneMs, 3),
    acknowledgedWithJournalMs: round(median(acks.journal)),
    acknowledgedWithoutMs: round(median(acks.none)),
    recordMs: round(median(recordMs), 2),
  };
}

const overhead = {
  sentiment: await alternate((emulator) => sentiment(emulator, 'The lesson was surprisingly good!'), rounds),
  classify: await alternate((emulator) => classify(emulator), Math.max(10, Math.round(rounds / 2))),
};
without.bot.child.kill('SIGTERM');
await without.bot.exited;
await without.emulator.stop();

// A class at once, on the journaled bot.
const { emulator } = withJournal;
const sentimentClass = Array.from({ length: 40 }, (_, i) => sentiment(emulator, `Try it now, number ${i}!`));
await answered(sentimentClass, '40 /sentiment answers');
const classifyClass = Array.from({ length: 40 }, (_, i) => classify(emulator, guildOf(i % 4)));
await answered(classifyClass, '40 /classify answers');
const acknowledged = (records: InteractionRecord[]): number =>
  Math.max(...records.map((record) => (record.initial?.at ?? Number.NaN) - record.createdAt));
const slowest = (records: InteractionRecord[]): number => Math.max(...records.map(answeredAt));
// Fairness across servers: the moment each server got its first answer, and its fifth.
const byServer = [0, 1, 2, 3].map((server) =>
  classifyClass
    .filter((_, i) => i % 4 === server)
    .map((record) => answeredAt(record) + record.createdAt)
    .sort((a, b) => a - b),
);
const firstAnswers = byServer.map((times) => times[0]!);
const fifthAnswers = byServer.map((times) => times[4]!);
const classroom = {
  sentiment40: {
    answered: sentimentClass.filter((record) => finalEdit(record)).length,
    slowestAckMs: round(acknowledged(sentimentClass)),
    slowestAnswerMs: round(slowest(sentimentClass)),
  },
  classify40Across4Servers: {
    answered: classifyClass.filter((record) => finalEdit(record)).length,
    slowestAckMs: round(acknowledged(classifyClass)),
    slowestAnswerMs: round(slowest(classifyClass)),
    everyFirstBeforeAnyFifth: Math.max(...firstAnswers) < Math.min(...fifthAnswers),
  },
};
withJournal.bot.child.kill('SIGTERM');
await withJournal.bot.exited;
await emulator.stop();

// The HTTP interactions endpoint (no gateway), journal on: 200 signed interactions at once.
const httpEmulator = new DiscordEmulator({ now: preciseClock });
await httpEmulator.start();
const httpPort = await freePort();
const endpoint = `http://127.0.0.1:${httpPort}/interactions`;
const httpBot = await startBot(
  httpEmulator,
  env({
    INTERACTIONS_PORT: String(httpPort),
    DISCORD_PUBLIC_KEY: httpEmulator.publicKeyHex,
    DATA_DIR: freshDataDir(),
    // startBot waits for the info line that says it is ready.
    LOG_LEVEL: 'info',
  }),
  180_000,
  true,
);
const signed = Array.from({ length: 200 }, () =>
  httpEmulator.interactOverHttp(
    endpoint,
    // /help: what is measured is the endpoint taking 200 at once (signature, journal, "thinking…"),
    // not the models, which would refuse all but QUEUE_MAX of them as busy.
    { name: 'help', type: 1, options: [] },
    { userId: member() },
  ),
);
await Promise.all(signed.map((entry) => entry.response));
const httpRecords = signed.map((entry) => entry.record);
await until(
  () =>
    httpRecords.every((record) => finalEdit(record) || record.followUps.length > 0 || record.rejections.length > 0) ||
    undefined,
  300_000,
  '200 answers over HTTP',
);
const http200 = {
  acknowledged: httpRecords.filter((record) => record.initial !== undefined).length,
  slowestAckMs: round(acknowledged(httpRecords)),
  answered: httpRecords.filter((record) => finalEdit(record)).length,
};
httpBot.child.kill('SIGTERM');
await httpBot.exited;
await httpEmulator.stop();
process.stdout.write(
  `${JSON.stringify({ rounds, journalOverhead: overhead, loadedRss: memory, classroom, http200 })}\n`,
);
