import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll } from 'vitest';
import type { Database, JournalLogger } from '../../../src/journal/database.js';
import { openEmbeddedDatabase } from '../../../src/journal/embedded.js';
import { openServerDatabase } from '../../../src/journal/server.js';
import { CapturingLogger } from './samples.js';

export { CapturingLogger, FakeClock, MINUTE, T0, sampleInteraction, type LogLine } from './samples.js';

const madeHere: string[] = [];
/** A new empty folder, removed with everything in it when the test file is done. */
export async function tempDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sightread-journal-'));
  madeHere.push(dir);
  return dir;
}

/** A database under test and how to get a second connection to it and to throw it away. */
export interface TestDatabase {
  database: Database;
  /** Another connection to the same database (a second process); PGlite has one connection, so the same handle. */
  another(): Promise<Database>;
  /** Runs SQL outside the code under test (to plant a corrupt row, read raw columns). */
  raw(sql: string, params?: Array<string | number | null>): Promise<unknown[]>;
  /**
   * Server only: holds a row lock from a third connection, so that queries on that row queue up
   * behind it and then run against each other when it is released (a real race, made certain).
   */
  lockRow?: (id: string) => Promise<RowLock>;
  dispose(): Promise<void>;
}

export interface RowLock {
  /** Resolves once `count` other connections wait for this lock. */
  waitForWaiters(count: number): Promise<void>;
  release(): Promise<void>;
}

export interface Backend {
  name: string;
  /** Why it is skipped, when it is. */
  skip: string | undefined;
  /** A migrated database with an empty journal, of its own. */
  open(logger?: JournalLogger): Promise<TestDatabase>;
}

const noLog = new CapturingLogger();

/**
 * PGlite's first start (initdb) takes seconds; reopening a copy of a cluster takes well under
 * one. So each test file builds one migrated cluster and every test opens a copy of its own.
 */
let template: Promise<string> | undefined;
// Registered from here for every test file that imports this module: its folders (a cluster is
// tens of MB) go when the file's tests are done.
afterAll(async () => {
  for (const dir of madeHere.splice(0)) await rm(dir, { recursive: true, force: true });
});
function embeddedTemplate(): Promise<string> {
  template ??= (async () => {
    const dataDir = await tempDataDir();
    const database = await openEmbeddedDatabase({ dataDir, logger: noLog });
    await database.close();
    return dataDir;
  })();
  return template;
}

/** A new DATA_DIR holding a copy of the migrated template cluster. */
export async function copiedDataDir(): Promise<string> {
  const dataDir = await tempDataDir();
  await cp(join(await embeddedTemplate(), 'journal'), join(dataDir, 'journal'), { recursive: true });
  return dataDir;
}

export const embeddedBackend: Backend = {
  name: 'embedded PGlite',
  skip: undefined,
  async open(logger = noLog) {
    const dataDir = await copiedDataDir();
    const database = await openEmbeddedDatabase({ dataDir, logger });
    return {
      database,
      another: async () => database,
      raw: async (sql, params) => (await database.query(sql, params)).rows,
      dispose: async () => {
        await database.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  },
};

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;
const SERVER_SKIP = 'TEST_DATABASE_URL is not set (.ci/run starts a throwaway PostgreSQL 15 and sets it)';

/** The same URL pointing at another database on that server. */
export function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/** A new database on the test server (CREATE DATABASE), opened through the code under test. */
export async function createServerDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!TEST_DATABASE_URL) throw new Error(SERVER_SKIP);
  const name = `sightread_journal_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: withDatabase(TEST_DATABASE_URL, name),
    drop: async () => {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export async function openConnected(url: string, logger: JournalLogger = noLog): Promise<Database> {
  const database = openServerDatabase({ url, logger });
  await database.connected;
  return database;
}

export const serverBackend: Backend = {
  name: 'PostgreSQL server',
  skip: TEST_DATABASE_URL ? undefined : SERVER_SKIP,
  async open(logger = noLog) {
    const { url, drop } = await createServerDatabase();
    const database = await openConnected(url, logger);
    const others: Database[] = [];
    const rawClient = new pg.Client({ connectionString: url });
    await rawClient.connect();
    return {
      database,
      another: async () => {
        const other = await openConnected(url, logger);
        others.push(other);
        return other;
      },
      raw: async (sql, params) => (await rawClient.query(sql, params)).rows as unknown[],
      lockRow: async (id) => {
        const holder = new pg.Client({ connectionString: url });
        await holder.connect();
        await holder.query('BEGIN');
        await holder.query('SELECT 1 FROM interaction_journal WHERE interaction_id = $1 FOR UPDATE', [id]);
        return {
          waitForWaiters: async (count) => {
            const deadline = Date.now() + 20_000;
            for (;;) {
              // Waiting on a lock at all: the second waiter queues behind the first, not the holder.
              const { rows } = await rawClient.query<{ waiting: number }>(
                `SELECT count(*)::int AS waiting FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock'`,
              );
              if ((rows[0]?.waiting ?? 0) >= count) return;
              if (Date.now() > deadline) throw new Error(`${count} queries never queued behind the row lock`);
              // A polling interval, not an ordering assumption: the condition above decides.
              await new Promise((resolve) => setTimeout(resolve, 5));
            }
          },
          release: async () => {
            await holder.query('COMMIT');
            await holder.end();
          },
        };
      },
      dispose: async () => {
        await rawClient.end();
        for (const other of others) await other.close();
        await database.close();
        await drop();
      },
    };
  },
};

export const BACKENDS: readonly Backend[] = [embeddedBackend, serverBackend];
if (serverBackend.skip) console.warn(`Skipping the journal's PostgreSQL-server tests: ${serverBackend.skip}.`);
