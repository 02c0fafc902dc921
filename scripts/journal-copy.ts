import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { Database } from '../src/journal/database.js';
import { copyJournal } from '../src/journal/copy.js';
import { openEmbeddedDatabase } from '../src/journal/embedded.js';
import { openServerDatabase, describeServer } from '../src/journal/server.js';
import { StorageError } from '../src/journal/storage-error.js';

const USAGE = `Usage: npx tsx scripts/journal-copy.ts --from <DATA_DIR | postgres://…> --to <DATA_DIR | postgres://…>

Copies the interaction journal between the embedded database (a DATA_DIR folder) and a PostgreSQL
server (a URL), either way, in one transaction; rows already in the target are kept. Stop the bot
first: the embedded database takes one process at a time. Prints one line of JSON.
Exit codes: 0 copied, 2 usage, 69 server unreachable, 74 disk failure, 78 unusable DATA_DIR.`;

const SERVER_WAIT_MS = 15_000;

function fail(code: number, message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

const isUrl = (place: string): boolean => /^postgres(ql)?:\/\//.test(place);

/** Opens one side: a server (waiting a while for it, unlike the bot) or a DATA_DIR. */
async function open(place: string, logger: pino.Logger): Promise<Database> {
  if (!isUrl(place)) return openEmbeddedDatabase({ dataDir: place, logger });
  const server = openServerDatabase({ url: place, logger, retry: { initialMs: 500, maxMs: 2000 } });
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), SERVER_WAIT_MS).unref());
  if ((await Promise.race([server.connected.then(() => 'connected' as const), timeout])) === 'timeout') {
    await server.close();
    throw new StorageError('unreachable', `${describeServer(place)} did not answer within ${SERVER_WAIT_MS / 1000} s.`);
  }
  return server;
}

const { values } = parseArgs({ options: { from: { type: 'string' }, to: { type: 'string' } } });
if (!values.from || !values.to || values.from === values.to) fail(2, USAGE);

// Logs (connection retries) go to stderr; stdout carries only the result.
const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination({ fd: 2, sync: true }));
const opened: Database[] = [];
try {
  const source = await open(values.from, logger);
  opened.push(source);
  const target = await open(values.to, logger);
  opened.push(target);
  const outcome = await copyJournal(source, target);
  process.stdout.write(`${JSON.stringify({ from: source.location, to: target.location, ...outcome })}\n`);
} catch (error) {
  if (!(error instanceof StorageError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exitCode = error.exitCode;
} finally {
  for (const database of opened) await database.close();
}
