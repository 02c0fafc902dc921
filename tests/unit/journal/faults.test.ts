import { spawn } from 'node:child_process';
import * as fsPromises from 'node:fs/promises';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { PGliteOptions, Transaction } from '@electric-sql/pglite';
import { afterEach, describe, expect, it } from 'vitest';
import { openEmbeddedDatabase, type DataDirFs, type PGliteHandle } from '../../../src/journal/embedded.js';
import { openJournalOrExit } from '../../../src/journal/open.js';
import { openServerDatabase } from '../../../src/journal/server.js';
import { StorageError, classifyDiskFailure } from '../../../src/journal/storage-error.js';
import { rejectionOf } from '../../helpers.js';
import { CapturingLogger, FakeClock, T0, TEST_DATABASE_URL, tempDataDir } from './support.js';

/** A file system error as Node raises it. */
function errnoError(code: string, syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: failure injected by the test, ${syscall}`), { code, syscall });
}

/** PGlite's own file errors: Emscripten's ErrnoError, which carries only its own errno number (51 = ENOSPC). */
class ErrnoError extends Error {
  override name = 'ErrnoError';
  constructor(readonly errno: number) {
    super();
  }
}

/** Real file operations except one, which fails with `error`. */
function failing(operation: keyof DataDirFs, error: Error): DataDirFs {
  return {
    ...fsPromises,
    [operation]: async () => {
      throw error;
    },
  };
}

/**
 * Stands in for PGlite where a test is about the folder, not the database: it writes a
 * PG_VERSION file (what marks a cluster) and answers every statement with no rows.
 */
async function stubPGlite(path: string): Promise<PGliteHandle> {
  await mkdir(path, { recursive: true });
  await writeFile(join(path, 'PG_VERSION'), '17\n');
  const result = { rows: [], fields: [], affectedRows: 0 };
  const executor = { query: async () => result, exec: async () => [result] };
  const transaction = executor as unknown as Transaction;
  return {
    ...executor,
    transaction: async <T>(work: (tx: Transaction) => Promise<T>): Promise<T> => work(transaction),
    close: async () => undefined,
  } as unknown as PGliteHandle;
}

const logger = new CapturingLogger();

describe('an unusable DATA_DIR stops start-up with a clear message and its exit code', () => {
  it('a path through a regular file (what a read-only folder looks like to root): not writable, 78', async () => {
    const parent = join(await tempDataDir(), 'a-file');
    await writeFile(parent, 'not a folder');
    const dataDir = join(parent, 'data');
    const error = await rejectionOf(openEmbeddedDatabase({ dataDir, logger }), StorageError);
    expect(error.failure).toBe('not_writable');
    expect(error.exitCode).toBe(78);
    expect(error.message).toBe(
      `DATA_DIR ${dataDir}: cannot write there (ENOTDIR); point DATA_DIR at a writable folder (or fix its owner and permissions).`,
    );
  });

  it('a read-only file system (EROFS injected into the write check): 78, and nothing is created', async () => {
    const dataDir = join(await tempDataDir(), 'data');
    const error = await rejectionOf(
      openEmbeddedDatabase({ dataDir, logger, fs: failing('writeFile', errnoError('EROFS', 'open')) }),
      StorageError,
    );
    expect([error.failure, error.exitCode]).toEqual(['not_writable', 78]);
    expect(error.message).toContain('(EROFS)');
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('a full disk (ENOSPC injected into the write check): 74, and the half-written check file is removed', async () => {
    const dataDir = join(await tempDataDir(), 'data');
    // As on a real full disk: the file is created, then its first write fails.
    const fs: DataDirFs = {
      ...fsPromises,
      writeFile: async (path: Parameters<typeof fsPromises.writeFile>[0]) => {
        await fsPromises.writeFile(path, '');
        throw errnoError('ENOSPC', 'write');
      },
    };
    const error = await rejectionOf(openEmbeddedDatabase({ dataDir, logger, fs }), StorageError);
    expect([error.failure, error.exitCode]).toEqual(['no_space', 74]);
    expect(error.message).toContain('free some space on that disk');
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('a disk that fills while the cluster is created (PGlite’s ErrnoError 51): 74, and no half-made cluster is left', async () => {
    const dataDir = join(await tempDataDir(), 'data');
    const openPGlite = async (path: string): Promise<PGliteHandle> => {
      await mkdir(join(path, 'pg_wal'), { recursive: true });
      await writeFile(join(path, 'pg_wal', '000000010000000000000001'), 'half a segment');
      throw new ErrnoError(51);
    };
    const error = await rejectionOf(openEmbeddedDatabase({ dataDir, logger, openPGlite }), StorageError);
    expect([error.failure, error.exitCode]).toEqual(['no_space', 74]);
    expect(error.message).toContain('could not create the journal (ENOSPC)');
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('PGlite failing to start on a full disk: 74, with PostgreSQL’s own reason from its log', async () => {
    const dataDir = join(await tempDataDir(), 'data');
    await stubPGlite(join(dataDir, 'journal'));
    const openPGlite = async (_path: string, options: PGliteOptions): Promise<PGliteHandle> => {
      options.onStderr?.('2026-12-02 01:35:07.665 UTC [42] LOG:  redo done at 0/1C29A48');
      options.onStderr?.(
        '2026-12-02 01:35:07.822 UTC [42] FATAL:  could not write to file "pg_wal/xlogtemp.42": No space left on device',
      );
      throw new Error('PGlite failed to initialize properly');
    };
    const error = await rejectionOf(openEmbeddedDatabase({ dataDir, logger, openPGlite }), StorageError);
    expect([error.failure, error.exitCode]).toEqual(['no_space', 74]);
    expect(error.message).toContain(
      'could not open the journal (could not write to file "pg_wal/xlogtemp.42": No space left on device)',
    );
    // The lock is released: once the disk has room, the next start may open it.
    expect((await readdir(dataDir)).sort()).toEqual(['journal']);
  });

  it('a folder where the cluster should be that holds something else: 78, never overwritten', async () => {
    const dataDir = join(await tempDataDir(), 'data');
    await mkdir(join(dataDir, 'journal'), { recursive: true });
    await writeFile(join(dataDir, 'journal', 'notes.txt'), 'mine');
    const error = await rejectionOf(openEmbeddedDatabase({ dataDir, logger, openPGlite: stubPGlite }), StorageError);
    expect([error.failure, error.exitCode]).toEqual(['not_a_journal', 78]);
    expect(await readdir(join(dataDir, 'journal'))).toEqual(['notes.txt']);
  });

  it('openJournalOrExit writes the reason and exits with the code, without a stack', async () => {
    const parent = join(await tempDataDir(), 'a-file');
    await writeFile(parent, 'not a folder');
    let written = '';
    let exitCode: number | undefined;
    class Exited extends Error {}
    const seams = {
      write: (text: string) => {
        written += text;
      },
      exit: (code: number): never => {
        exitCode = code;
        throw new Exited();
      },
    };
    await rejectionOf(
      openJournalOrExit(
        { DATA_DIR: join(parent, 'data'), DATABASE_URL: undefined, JOURNAL_RETENTION_HOURS: 24 },
        { logger },
        seams,
      ),
      Exited,
    );
    expect(exitCode).toBe(78);
    expect(written).toMatch(
      /^Cannot start the interaction journal:\n {2}- DATA_DIR .*: cannot write there \(ENOTDIR\)/,
    );
    expect(written).not.toMatch(/\n\s+at /);
  });

  it('classifies PostgreSQL’s disk_full (53100) from a running database as no space', () => {
    const diskFull = Object.assign(new Error('could not extend file "base/5/16384": No space left on device'), {
      code: '53100',
    });
    expect(classifyDiskFailure(diskFull)).toBe('no_space');
    expect(classifyDiskFailure(new Error('something else'))).toBe('io_error');
    expect(new StorageError('io_error', 'x').exitCode).toBe(74);
  });
});

describe('one process per DATA_DIR (PGlite has no lock of its own)', () => {
  it('refuses a second open in the same process, even one racing the first', async () => {
    const dataDir = await tempDataDir();
    const [first, racing] = await Promise.allSettled([
      openEmbeddedDatabase({ dataDir, logger, openPGlite: stubPGlite }),
      openEmbeddedDatabase({ dataDir, logger, openPGlite: stubPGlite }),
    ]);
    if (first.status !== 'fulfilled') throw first.reason;
    try {
      expect(racing.status).toBe('rejected');
      const error = racing.status === 'rejected' ? (racing.reason as StorageError) : undefined;
      expect([error?.failure, error?.exitCode]).toEqual(['in_use', 78]);
    } finally {
      await first.value.close();
    }
    const again = await openEmbeddedDatabase({ dataDir, logger, openPGlite: stubPGlite });
    await again.close();
  });

  it('refuses a folder locked by another live process, naming it', async () => {
    const dataDir = await tempDataDir();
    const alive = process.ppid;
    await writeFile(
      join(dataDir, 'journal.lock'),
      JSON.stringify({ pid: alive, host: hostname(), since: '2026-12-01T12:00:00.000Z' }),
    );
    const error = await rejectionOf(openEmbeddedDatabase({ dataDir, logger, openPGlite: stubPGlite }), StorageError);
    expect(error.failure).toBe('in_use');
    expect(error.message).toContain(`in use by process ${alive}`);
    expect(error.message).toContain('set DATABASE_URL');
  });

  it('takes over a lock left by a process that has exited (a crash or a kill -9)', async () => {
    const dataDir = await tempDataDir();
    const child = spawn(process.execPath, ['-e', '']);
    const deadPid = child.pid;
    await new Promise((resolve) => child.once('exit', resolve));
    await writeFile(
      join(dataDir, 'journal.lock'),
      JSON.stringify({ pid: deadPid, host: hostname(), since: '2026-12-01T12:00:00.000Z' }),
    );
    const database = await openEmbeddedDatabase({ dataDir, logger, openPGlite: stubPGlite });
    const lock = JSON.parse(await fsPromises.readFile(join(dataDir, 'journal.lock'), 'utf8')) as { pid: number };
    expect(lock.pid).toBe(process.pid);
    await database.close();
    expect(await readdir(dataDir)).not.toContain('journal.lock');
  });
});

/** A port on 127.0.0.1 where nothing listens (connections are refused at once). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('an unreachable DATABASE_URL', () => {
  const opened: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const database of opened.splice(0)) await database.close();
  });

  it('keeps ready() false, logs each attempt with the wait before the next, and backs off to the cap', async () => {
    const port = await closedPort();
    const clock = new FakeClock(T0);
    const log = new CapturingLogger();
    const url = `postgres://sightread:hunter22secret@127.0.0.1:${port}/journal`;
    const database = openServerDatabase({ url, logger: log, clock, retry: { initialMs: 1000, maxMs: 4000 } });
    opened.push(database);

    await clock.sleptTimes(1);
    expect(database.ready()).toBe(false);
    expect(log.messages('warn')[0]).toBe(
      `journal database at postgres://sightread@127.0.0.1:${port}/journal is unreachable (connect ECONNREFUSED 127.0.0.1:${port}); ` +
        'retrying in 1 s; check that the server in DATABASE_URL is running and reachable',
    );
    for (let attempt = 2; attempt <= 4; attempt += 1) {
      clock.advance(clock.requestedSleeps.at(-1) ?? 0);
      await clock.sleptTimes(attempt);
    }
    expect(clock.requestedSleeps).toEqual([1000, 2000, 4000, 4000]);
    expect(log.lines.map((line) => line.details.attempt)).toEqual([1, 2, 3, 4]);
    expect(JSON.stringify(log.lines)).not.toContain('hunter22secret');

    const error = await rejectionOf(database.query('SELECT 1'), StorageError);
    expect([error.failure, database.ready()]).toEqual(['unreachable', false]);
  });

  it('stops retrying when closed', async () => {
    const clock = new FakeClock(T0);
    const database = openServerDatabase({
      url: `postgres://sightread@127.0.0.1:${await closedPort()}/journal`,
      logger: new CapturingLogger(),
      clock,
    });
    await clock.sleptTimes(1);
    await database.close();
    await database.connected;
    clock.advance(60_000);
    expect(clock.requestedSleeps).toHaveLength(1);
  });
});

/** A TCP proxy to the test server that can be switched on and off, to make the server appear and vanish. */
class SwitchableProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  async up(): Promise<void> {
    const { createConnection } = await import('node:net');
    this.server = createServer((client) => {
      const upstream = createConnection(this.target);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
  }

  async down(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)));
    this.server = undefined;
  }
}

describe.skipIf(TEST_DATABASE_URL === undefined)('a DATABASE_URL whose server comes and goes', () => {
  it('becomes ready when the server appears, and reconnects after losing it', async () => {
    const target = new URL(TEST_DATABASE_URL ?? '');
    const proxy = new SwitchableProxy(await closedPort(), { host: target.hostname, port: Number(target.port) });
    const clock = new FakeClock(T0);
    const log = new CapturingLogger();
    const url = new URL(TEST_DATABASE_URL ?? '');
    url.port = String(proxy.port);
    const database = openServerDatabase({ url: url.toString(), logger: log, clock });
    try {
      await clock.sleptTimes(1);
      expect(database.ready()).toBe(false);

      await proxy.up();
      clock.advance(1000);
      await database.connected;
      expect(database.ready()).toBe(true);
      expect(log.messages('info')).toEqual(['connected to the journal database']);
      expect((await database.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);

      await proxy.down();
      const error = await rejectionOf(database.query('SELECT 1'), StorageError);
      expect([error.failure, database.ready()]).toEqual(['unreachable', false]);
      await clock.sleptTimes(2);

      await proxy.up();
      clock.advance(clock.requestedSleeps.at(-1) ?? 0);
      while (!database.ready()) await new Promise((resolve) => setImmediate(resolve));
      expect((await database.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
    } finally {
      await database.close();
      await proxy.down();
    }
  });
});
