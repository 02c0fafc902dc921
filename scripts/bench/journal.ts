import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import type { Database, JournalLogger } from '../../src/journal/database.js';
import { openEmbeddedDatabase } from '../../src/journal/embedded.js';
import { snowflakeAt, type InteractionToRecord } from '../../src/journal/entry.js';
import { InteractionJournal } from '../../src/journal/journal.js';
import { openServerDatabase } from '../../src/journal/server.js';
import { median, percentile } from './stats.js';

/**
 * `npx tsx scripts/bench/journal.ts [--rounds 300] [--sentiment-ms 6] [--classify-ms 51.5]`: what
 * the interaction journal costs one interaction, on embedded PGlite and (when TEST_DATABASE_URL
 * is set) on that PostgreSQL server. Prints one line of JSON: medians and p90 in ms of `record`,
 * `markDone` and both, the floor of one round trip (`SELECT 1`), a multi-row INSERT of 8 records
 * (what group commit would cost per interaction), the event-loop delay while it runs,
 * start-up and memory for PGlite, and the share of /sentiment's and /classify's end-to-end time
 * that record + markDone would add (the goal: at most 5% and 2%).
 */
const { values } = parseArgs({
  options: {
    // Internal: the first start runs in a child process, so that its memory is not counted in the reopen's.
    'first-start-in': { type: 'string' },
    rounds: { type: 'string', default: '300' },
    'sentiment-ms': { type: 'string', default: '6' },
    'classify-ms': { type: 'string', default: '51.5' },
  },
});
const rounds = Math.max(50, Number(values.rounds));
const WARMUP = 30;
const sentimentMs = Number(values['sentiment-ms']);
const classifyMs = Number(values['classify-ms']);

const quiet: JournalLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const round = (ms: number): number => Math.round(ms * 1000) / 1000;

let sequence = 0;
function interaction(): InteractionToRecord {
  sequence += 1;
  return {
    id: snowflakeAt(Date.now(), sequence),
    applicationId: '1100000000000000001',
    token: `aW50ZXJhY3Rpb246${randomBytes(40).toString('base64url')}`,
    commandName: 'sentiment',
    options: { text: 'The movie was not bad at all, honestly the best one this year!' },
    guildId: '1200000000000000002',
    channelId: '1300000000000000003',
    userId: '1400000000000000004',
  };
}

async function measure(database: Database): Promise<Record<string, unknown>> {
  const journal = new InteractionJournal(database, { logger: quiet, workerId: 'bench' });
  const recordMs: number[] = [];
  const markDoneMs: number[] = [];
  const bothMs: number[] = [];
  const floorMs: number[] = [];
  const loop = monitorEventLoopDelay({ resolution: 1 });
  for (let i = 0; i < WARMUP + rounds; i += 1) {
    if (i === WARMUP) loop.enable();
    const next = interaction();
    const started = performance.now();
    await journal.record(next);
    const recorded = performance.now();
    await journal.markDone(next.id);
    const done = performance.now();
    const floorStart = performance.now();
    await database.query('SELECT 1');
    const floorEnd = performance.now();
    if (i >= WARMUP) {
      recordMs.push(recorded - started);
      markDoneMs.push(done - recorded);
      bothMs.push(done - started);
      floorMs.push(floorEnd - floorStart);
    }
    // Let timers run between interactions, as a bot's event loop would.
    await new Promise((resolve) => setImmediate(resolve));
  }
  loop.disable();

  // CPU time of this process (PGlite runs in it) for record + markDone: unlike wall time, other
  // processes competing for the cores hardly change it. Measured in a loop of its own, after the
  // first (so that WebAssembly's optimising compiler has finished with PGlite).
  // Summed over the loop: the kernel accounts CPU time too coarsely to time one call.
  let cpuStart = process.cpuUsage();
  for (let i = 0; i < WARMUP + rounds; i += 1) {
    if (i === WARMUP) cpuStart = process.cpuUsage();
    const next = interaction();
    await journal.record(next);
    await journal.markDone(next.id);
  }
  const cpuUsed = process.cpuUsage(cpuStart);
  const cpuMsPerInteraction = (cpuUsed.user + cpuUsed.system) / 1000 / rounds;

  // Group commit, as a proposal would do it: the records of 8 interactions arriving together
  // written by one multi-row INSERT (one statement, one commit).
  const perRowInBatchMs: number[] = [];
  const BATCH = 8;
  const rowPlaceholders = Array.from({ length: BATCH }, (_, row) => {
    const n = row * 6;
    return `($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4}, $${n + 5}::jsonb, $${n + 6}, now(), now(), 'running', 'bench', now(), 1)`;
  }).join(', ');
  for (let i = 0; i < 60; i += 1) {
    const batch = Array.from({ length: BATCH }, interaction);
    const started = performance.now();
    await database.query(
      `INSERT INTO interaction_journal (interaction_id, application_id, token, command_name, options, user_id,
         created_at, recorded_at, state, claimed_by, lease_until, attempts)
       VALUES ${rowPlaceholders}`,
      batch.flatMap((entry) => [
        entry.id,
        entry.applicationId,
        entry.token,
        entry.commandName,
        JSON.stringify(entry.options),
        entry.userId,
      ]),
    );
    perRowInBatchMs.push((performance.now() - started) / BATCH);
  }
  await database.query(`DELETE FROM interaction_journal WHERE claimed_by = 'bench'`);

  const both = median(bothMs);
  const record = median(recordMs);
  return {
    recordMs: { median: round(record), p90: round(percentile(recordMs, 0.9)) },
    markDoneMs: { median: round(median(markDoneMs)), p90: round(percentile(markDoneMs, 0.9)) },
    recordPlusMarkDoneMs: { median: round(both), p90: round(percentile(bothMs, 0.9)) },
    recordPlusMarkDoneMeanCpuMsOfThisProcess: round(cpuMsPerInteraction),
    selectOneFloorMs: round(median(floorMs)),
    multiRowInsertOf8MsPerInteraction: round(median(perRowInBatchMs)),
    eventLoopDelayP99Ms: round(loop.percentile(99) / 1e6),
    shareOfSentimentPct: {
      recordPlusMarkDone: round((both / sentimentMs) * 100),
      recordOnly: round((record / sentimentMs) * 100),
    },
    shareOfClassifyPct: {
      recordPlusMarkDone: round((both / classifyMs) * 100),
      recordOnly: round((record / classifyMs) * 100),
    },
  };
}

if (values['first-start-in']) {
  const started = performance.now();
  const first = await openEmbeddedDatabase({ dataDir: values['first-start-in'], logger: quiet });
  await first.close();
  process.stdout.write(`${Math.round(performance.now() - started)}\n`);
  process.exit(0);
}

const results: Record<string, unknown> = { rounds, sentimentMs, classifyMs, node: process.version };

// Embedded: a first start (initdb) in a new folder, in a child process, then a reopen here, as the bot would start.
const dataDir = await mkdtemp(join(tmpdir(), 'sightread-journal-bench-'));
try {
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--import',
    'tsx',
    fileURLToPath(import.meta.url),
    '--first-start-in',
    dataDir,
  ]);
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  const embedded = await openEmbeddedDatabase({ dataDir, logger: quiet });
  const reopenMs = performance.now() - started;
  const rssAfterOpenMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  const measured = await measure(embedded);
  results.embedded = {
    firstStartMs: Number(stdout.trim()),
    reopenMs: Math.round(reopenMs),
    residentMemoryAddedByOpenMb: Math.round(rssAfterOpenMb),
    residentMemoryAddedAfterRunMb: Math.round((process.memoryUsage().rss - rssBefore) / 2 ** 20),
    ...measured,
  };
  await embedded.close();
} finally {
  await rm(dataDir, { recursive: true, force: true });
}

const url = process.env.TEST_DATABASE_URL;
if (url) {
  const server = openServerDatabase({ url, logger: quiet });
  await server.connected;
  const settings = Object.fromEntries(
    await Promise.all(
      ['fsync', 'synchronous_commit', 'server_version'].map(
        async (name) => [name, ((await server.query(`SHOW ${name}`)).rows[0] as Record<string, string>)[name]] as const,
      ),
    ),
  );
  results.server = { location: server.location, settings, ...(await measure(server)) };
  await server.close();
} else {
  results.server = 'skipped: TEST_DATABASE_URL is not set';
}

process.stdout.write(`${JSON.stringify(results)}\n`);
