import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { PGliteOptions, Results } from '@electric-sql/pglite';

/** What the journal uses of a PGlite connection or of one of its transactions. */
export interface PGliteStatements {
  query(sql: string, params?: unknown[]): Promise<Pick<Results, 'rows' | 'affectedRows'>>;
  exec(sql: string): Promise<unknown>;
}

/** What the journal needs of a PGlite instance, in this thread or another; tests may hand in one that fails. */
export interface PGliteHandle extends PGliteStatements {
  transaction<T>(work: (tx: PGliteStatements) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

type WorkerReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { name: string; message: string; stack?: string; code?: unknown; errno?: unknown } }
  | { op: 'stderr'; text: string };

const WORKER_URL = new URL('./pglite-worker.js', import.meta.url);

let baselineCompilerOnly = false;

/**
 * PostgreSQL's WebAssembly (9 MB) is compiled by V8's baseline compiler (Liftoff) only, never
 * recompiled by its optimizing one (TurboFan) as its functions get hot: those recompilations held
 * about 40–55 MB more resident memory (each new kind of statement, such as a chore's first DELETE
 * with a subquery, added 15–25 MB), and on two shared cores a journal record was not slower
 * without them (median 1.5–1.9 ms against 1.6–2.5 ms; bench/journal.md). The setting is the
 * process's: the only other WebAssembly a bot runs is Node's own (undici's HTTP parser).
 */
function useBaselineWasmCompilerOnly(): void {
  if (baselineCompilerOnly) return;
  setFlagsFromString('--liftoff-only');
  baselineCompilerOnly = true;
}

/** An error from the worker as the thread that asked would have seen it: name, errno, SQLSTATE kept. */
function revive(error: { name: string; message: string; stack?: string; code?: unknown; errno?: unknown }): Error {
  const revived = Object.assign(new Error(error.message), {
    name: error.name,
    ...(error.code === undefined ? {} : { code: error.code }),
    ...(error.errno === undefined ? {} : { errno: error.errno }),
  });
  if (error.stack) revived.stack = error.stack;
  return revived;
}

/** Where PGlite runs, as the handle sees it: a worker thread or a child process, the same messages. */
interface Channel {
  post(message: Record<string, unknown>): void;
  onMessage(listener: (message: WorkerReply) => void): void;
  /** The thread or process failed or ended; no reply will come. */
  onGone(listener: (error: Error) => void): void;
  /** Keeps the process alive while a statement is pending, and only then. */
  ref(): void;
  unref(): void;
  end(): Promise<void>;
}

function threadChannel(): Channel {
  const worker = new Worker(WORKER_URL, { execArgv: [] });
  return {
    post: (message) => worker.postMessage(message),
    onMessage: (listener) => worker.on('message', listener),
    onGone: (listener) => {
      worker.on('error', listener);
      worker.on('exit', (code) => listener(new Error(`the journal's database thread exited (code ${code})`)));
    },
    ref: () => worker.ref(),
    unref: () => worker.unref(),
    end: async () => {
      await worker.terminate();
    },
  };
}

function processChannel(): Channel {
  const child = fork(fileURLToPath(WORKER_URL), [], {
    // Plain JavaScript (no TypeScript loader); Liftoff only, as in the thread (see above).
    execArgv: ['--liftoff-only'],
    serialization: 'advanced',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    post: (message) => child.send(message),
    onMessage: (listener) => child.on('message', (message) => listener(message as WorkerReply)),
    onGone: (listener) => {
      child.on('error', listener);
      child.on('exit', (code, signal) =>
        listener(new Error(`the journal's database process exited (${signal ?? `code ${code}`})`)),
      );
    },
    // Held for its whole short life (it is opened, used and closed in one go): an IPC channel
    // unreferenced once is not reliably referenced again, and the process would exit waiting.
    ref: () => undefined,
    unref: () => undefined,
    end: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill();
      await exited;
    },
  };
}

/**
 * PGlite in a worker thread. PostgreSQL compiled to WebAssembly runs wherever its JavaScript is
 * called; on the bot's main thread each statement took 5–7 ms of the same thread that tokenizes,
 * schedules and talks to Discord (bench/journal.md). Here the main thread only posts a message;
 * rows come back already parsed (dates, JSON). The worker keeps the process alive only while a
 * statement is pending, so a forgotten handle never holds a process open.
 */
export function openPGliteInWorker(path: string, options: PGliteOptions): Promise<PGliteHandle> {
  useBaselineWasmCompilerOnly();
  return openPGliteOver(threadChannel(), path, options);
}

/**
 * PGlite in a child process, for a database opened once and closed: creating a new cluster
 * (initdb) in a thread left about 70 MB resident in the bot for good (1,017–1,024 MB on a first
 * start against 944–956 MB on later ones, bench/journal.md); a process gives it back as it ends.
 */
export function openPGliteInProcess(path: string, options: PGliteOptions): Promise<PGliteHandle> {
  return openPGliteOver(processChannel(), path, options);
}

async function openPGliteOver(channel: Channel, path: string, options: PGliteOptions): Promise<PGliteHandle> {
  const { onStderr, ...cloneable } = options;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  let gone: Error | undefined;
  const settleAll = (error: Error): void => {
    gone = error;
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  };
  channel.onMessage((message) => {
    if ('op' in message) {
      onStderr?.(message.text);
      return;
    }
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (pending.size === 0) channel.unref();
    if (message.ok) waiter.resolve(message.result);
    else waiter.reject(revive(message.error));
  });
  channel.onGone((error) => settleAll(error));
  channel.unref();

  const call = <T>(message: Record<string, unknown>): Promise<T> => {
    if (gone) return Promise.reject(gone);
    const id = (nextId += 1);
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      if (pending.size === 1) channel.ref();
      channel.post({ ...message, id });
    });
  };
  const statements = (tx?: number): PGliteStatements => ({
    query: (sql, params = []) => call({ op: 'query', sql, params, tx }),
    exec: (sql) => call({ op: 'exec', sql, tx }),
  });

  try {
    await call({ op: 'open', path, options: cloneable });
  } catch (error) {
    await channel.end();
    throw error;
  }
  return {
    ...statements(),
    async transaction<T>(work: (tx: PGliteStatements) => Promise<T>): Promise<T> {
      const tx = await call<number>({ op: 'begin' });
      let result: T;
      try {
        result = await work(statements(tx));
      } catch (error) {
        await call({ op: 'rollback', tx }).catch(() => undefined);
        throw error;
      }
      await call({ op: 'commit', tx });
      return result;
    },
    async close() {
      try {
        if (!gone) await call({ op: 'close' });
      } finally {
        await channel.end();
      }
    },
  };
}
