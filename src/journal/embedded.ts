import * as fsPromises from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { PGliteOptions, Results } from '@electric-sql/pglite';
import { z } from 'zod';
import type { Database, JournalLogger, SqlExecutor, SqlResult, SqlValue } from './database.js';
import { openPGliteInProcess, openPGliteInWorker, type PGliteHandle, type PGliteStatements } from './pglite-thread.js';
import { migrate } from './migrations.js';
import { StorageError, adviceFor, classifyDiskFailure, errnoName, type StorageFailure } from './storage-error.js';

/** The file operations on DATA_DIR; tests replace one to fail it on demand (ENOSPC, EROFS). */
export type DataDirFs = Pick<
  typeof fsPromises,
  'mkdir' | 'writeFile' | 'readFile' | 'rm' | 'rename' | 'readdir' | 'link'
>;

export type { PGliteHandle } from './pglite-thread.js';

export interface EmbeddedOptions {
  /** DATA_DIR: the cluster lives in `<dataDir>/journal`, the lock in `<dataDir>/journal.lock`. */
  dataDir: string;
  logger: JournalLogger;
  fs?: DataDirFs;
  openPGlite?: (path: string, options: PGliteOptions) => Promise<PGliteHandle>;
}

const CLUSTER = 'journal';
const LOCK = 'journal.lock';
const INIT_PREFIX = 'journal.init-';
/** PostgreSQL's default 128 MB of shared buffers cost PGlite ~100 MB more resident memory; the journal needs little. */
const POSTGRES_SETTINGS = ['shared_buffers=8MB'];
/** Enough of PostgreSQL's stderr to explain a failed start ("could not write …: No space left on device"). */
const SERVER_LOG_LINES = 40;

const lockFile = z.object({ pid: z.number().int().positive(), host: z.string(), since: z.string() });

/** Folders this process has open: the lock file cannot tell two handles of one process apart. */
const openHere = new Set<string>();

function toResult(result: Pick<Results, 'rows' | 'affectedRows'>): SqlResult {
  return { rows: result.rows, rowCount: Math.max(result.affectedRows ?? 0, result.rows.length) };
}

function executor(target: PGliteStatements): SqlExecutor {
  return {
    query: async (sql, params = []) => toResult(await target.query(sql, [...params])),
    exec: async (script) => {
      await target.exec(script);
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return errnoName(error) === 'EPERM';
  }
}

function diskError(
  failure: StorageFailure,
  dataDir: string,
  what: string,
  cause: unknown,
  serverLog = '',
): StorageError {
  const reason = errnoName(cause) ?? (cause instanceof Error && cause.message ? cause.message : String(cause));
  const detail = serverLog
    .split('\n')
    .filter((line) => /\b(FATAL|PANIC|ERROR):/.test(line))
    .slice(-2)
    .map((line) => line.replace(/^.*?\b(FATAL|PANIC|ERROR):\s*/, ''))
    .join('; ');
  return new StorageError(failure, `DATA_DIR ${dataDir}: ${what} (${detail || reason}); ${adviceFor(failure)}.`, {
    cause,
  });
}

/**
 * PostgreSQL embedded in the process (PGlite), persisted in DATA_DIR. Start-up proves the folder
 * is writable before anything else, creates a new cluster under a temporary name and renames it
 * into place only once it is complete and migrated (so a full disk or a crash during the first
 * start leaves no half-made cluster behind), and holds a lock file, since PGlite has no lock of
 * its own and two processes on one folder would corrupt it.
 */
export async function openEmbeddedDatabase(options: EmbeddedOptions): Promise<Database> {
  const fs = options.fs ?? fsPromises;
  // In a worker thread: PostgreSQL's WebAssembly must not run on the bot's main thread.
  const openPGlite = options.openPGlite ?? openPGliteInWorker;
  // A new cluster is made in a child process, whose memory goes when it ends (see openPGliteInProcess).
  const createPGlite = options.openPGlite ?? openPGliteInProcess;
  const dataDir = resolve(options.dataDir);
  const clusterDir = join(dataDir, CLUSTER);
  const lockPath = join(dataDir, LOCK);
  const serverLog: string[] = [];
  const pgliteOptions: PGliteOptions = {
    postgresqlconf: POSTGRES_SETTINGS,
    onStderr: (text) => {
      serverLog.push(text);
      if (serverLog.length > SERVER_LOG_LINES) serverLog.shift();
      return false;
    },
  };

  // Claimed before the first await, so that two opens racing in one process cannot both pass.
  if (openHere.has(dataDir)) {
    throw new StorageError('in_use', `DATA_DIR ${dataDir} is already open in this process; ${adviceFor('in_use')}.`);
  }
  openHere.add(dataDir);

  try {
    // 1. The folder exists and takes a write: fail here, with the errno, rather than deep in PGlite.
    // On a full disk the probe file is created and then cannot be written: it is removed either way.
    const probe = join(dataDir, `.write-probe-${process.pid}`);
    try {
      await fs.mkdir(dataDir, { recursive: true });
      await fs.writeFile(probe, 'sightread checks that DATA_DIR is writable\n'.repeat(64), { flush: true });
    } catch (error) {
      throw diskError(classifyDiskFailure(error), dataDir, 'cannot write there', error);
    } finally {
      await fs.rm(probe, { force: true }).catch(() => undefined);
    }

    // 2. One process per folder.
    await takeLock(fs, dataDir, lockPath, options.logger);
  } catch (error) {
    openHere.delete(dataDir);
    throw error;
  }

  let pglite: PGliteHandle | undefined;
  try {
    // 3. A new cluster is built aside and renamed into place when complete.
    const exists = await fs.readdir(clusterDir).catch(() => undefined);
    if (exists === undefined || exists.length === 0) {
      for (const entry of await fs.readdir(dataDir)) {
        if (entry.startsWith(INIT_PREFIX)) await fs.rm(join(dataDir, entry), { recursive: true, force: true });
      }
      const initDir = join(dataDir, `${INIT_PREFIX}${process.pid}`);
      try {
        const fresh = await createPGlite(initDir, pgliteOptions);
        try {
          await migrate({ transaction: (work) => fresh.transaction((tx) => work(executor(tx))) });
        } finally {
          await fresh.close();
        }
        await fs.rename(initDir, clusterDir);
      } catch (error) {
        await fs.rm(initDir, { recursive: true, force: true }).catch(() => undefined);
        if (error instanceof StorageError) throw error;
        const log = serverLog.join('\n');
        throw diskError(classifyDiskFailure(error, log), dataDir, 'could not create the journal', error, log);
      }
      options.logger.info({ dataDir }, 'created the embedded journal database');
    } else if (!exists.includes('PG_VERSION')) {
      throw new StorageError(
        'not_a_journal',
        `DATA_DIR ${dataDir}: ${clusterDir} exists but is not a PostgreSQL data folder; ${adviceFor('not_a_journal')}.`,
      );
    }

    // 4. Open and bring the schema up to date (a no-op when the cluster was just built).
    try {
      pglite = await openPGlite(clusterDir, pgliteOptions);
      const handle = pglite;
      await migrate({ transaction: (work) => handle.transaction((tx) => work(executor(tx))) });
    } catch (error) {
      if (error instanceof StorageError) throw error;
      const log = serverLog.join('\n');
      throw diskError(classifyDiskFailure(error, log), dataDir, 'could not open the journal', error, log);
    }
  } catch (error) {
    await pglite?.close().catch(() => undefined);
    await releaseLock(fs, dataDir, lockPath);
    throw error;
  }

  const db = pglite;
  let closed = false;
  const direct = executor(db);
  return {
    backend: 'embedded',
    location: dataDir,
    ready: () => !closed,
    query: (sql: string, params?: readonly SqlValue[]) => direct.query(sql, params),
    exec: (script: string) => direct.exec(script),
    transaction: (work) => db.transaction((tx) => work(executor(tx))),
    close: async () => {
      if (closed) return;
      closed = true;
      await db.close();
      await releaseLock(fs, dataDir, lockPath);
    },
  };
}

async function takeLock(fs: DataDirFs, dataDir: string, lockPath: string, logger: JournalLogger): Promise<void> {
  const mine = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() });
  // Written whole under a private name, then linked into place: link() fails if the lock exists,
  // and a process reading the lock never sees it half-written.
  const draft = `${lockPath}.${process.pid}`;
  try {
    await fs.writeFile(draft, mine);
    try {
      await fs.link(draft, lockPath);
      return;
    } catch (error) {
      if (errnoName(error) !== 'EEXIST') throw error;
    }
    const holder = lockFile.safeParse(
      await fs
        .readFile(lockPath, 'utf8')
        .then((text) => JSON.parse(text) as unknown)
        .catch(() => undefined),
    );
    // A lock left by a process that is gone (or by an earlier life of this very pid, as after a
    // container restart) is stale. A holder on another host cannot be checked, only reported.
    if (!holder.success) {
      logger.warn({ lockPath }, 'DATA_DIR had an unreadable lock file; taking the lock over');
    } else if (holder.data.host !== hostname()) {
      logger.warn(
        { lockPath, holder: holder.data },
        'DATA_DIR was locked by a process on another host; taking the lock over (never share DATA_DIR between hosts)',
      );
    } else if (holder.data.pid !== process.pid && isAlive(holder.data.pid)) {
      throw new StorageError(
        'in_use',
        `DATA_DIR ${dataDir} is in use by process ${holder.data.pid} (since ${holder.data.since}); ${adviceFor('in_use')}. ` +
          `If no such process runs, delete ${lockPath}.`,
      );
    }
    await fs.rename(draft, lockPath);
  } catch (error) {
    if (error instanceof StorageError) throw error;
    throw diskError(classifyDiskFailure(error), dataDir, 'cannot write its lock file', error);
  } finally {
    await fs.rm(draft, { force: true }).catch(() => undefined);
  }
}

async function releaseLock(fs: DataDirFs, dataDir: string, lockPath: string): Promise<void> {
  openHere.delete(dataDir);
  await fs.rm(lockPath, { force: true }).catch(() => undefined);
}
