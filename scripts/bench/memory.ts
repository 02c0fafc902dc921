import { readFileSync, readdirSync } from 'node:fs';
import { benchBotEnv } from './requests.js';
import { freshDataDir, startBot } from '../../tests/e2e/bot-process.js';
import { DiscordEmulator } from '../../tests/e2e/emulator.js';

/**
 * Resident memory of the compiled bot once loaded, as the classroom bench reads it (issue 7's
 * budget): the bot on the benchmark models against the emulator, with the journal (started once
 * before on the same DATA_DIR, as every restart is) and without. Each bot is started `runs`
 * times; every start is read 3 s after its ready line, once the start-up chores have run.
 *
 * `npx tsx scripts/bench/memory.ts <benchDir> [runs]` (after `npm run -s build`); prints one JSON line.
 */
const [benchDir, runsArg] = process.argv.slice(2) as [string, string | undefined];
const runs = Number(runsArg ?? 2);

const env = (extra: Record<string, string>): Record<string, string> => benchBotEnv(benchDir, extra);

/** A field of /proc/<pid>/status in MB (VmRSS, RssAnon, RssFile). */
const statusMb = (pid: number, field: string): number =>
  Math.round(
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) /
      1024,
  );

interface Reading {
  residentMb: number;
  anonymousMb: number;
  fileMb: number;
  threads: number;
}

/** A started bot's memory, 3 s after its ready line (after the start-up chores), then stopped. */
async function readAndStop(bot: Awaited<ReturnType<typeof startBot>>): Promise<Reading> {
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const pid = bot.child.pid!;
  const reading = {
    residentMb: statusMb(pid, 'VmRSS'),
    anonymousMb: statusMb(pid, 'RssAnon'),
    fileMb: statusMb(pid, 'RssFile'),
    threads: readdirSync(`/proc/${pid}/task`).length,
  };
  bot.child.kill('SIGTERM');
  await bot.exited;
  return reading;
}

/** With the journal: the database's very first start (it is created then), and a later start. */
async function measure(journal: boolean): Promise<{ first?: Reading; later: Reading }> {
  const emulator = new DiscordEmulator();
  await emulator.start();
  try {
    const settings = env({ JOURNAL_ENABLED: String(journal), DATA_DIR: freshDataDir() });
    const first = journal ? await readAndStop(await startBot(emulator, settings, 180_000, true)) : undefined;
    const later = await readAndStop(await startBot(emulator, settings, 180_000, true));
    return { ...(first ? { first } : {}), later };
  } finally {
    await emulator.stop();
  }
}

const withJournal: Reading[] = [];
const withJournalFirstStart: Reading[] = [];
const without: Reading[] = [];
for (let run = 0; run < runs; run += 1) {
  const journaled = await measure(true);
  withJournal.push(journaled.later);
  if (journaled.first) withJournalFirstStart.push(journaled.first);
  without.push((await measure(false)).later);
}
console.log(JSON.stringify({ withJournal, withJournalFirstStart, without }));
process.exit(0);
