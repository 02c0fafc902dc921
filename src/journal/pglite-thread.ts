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

/**
 * PGlite in a worker thread. PostgreSQL compiled to WebAssembly runs wherever its JavaScript is
 * called; on the bot's main thread each statement took 5–7 ms of the same thread that tokenizes,
 * schedules and talks to Discord (bench/journal.md). Here the main thread only posts a message;
 * rows come back already parsed (dates, JSON). The worker keeps the process alive only while a
 * statement is pending, so a forgotten handle never holds a process open.
 */
export async function openPGliteInWorker(path: string, options: PGliteOptions): Promise<PGliteHandle> {
  const { onStderr, ...cloneable } = options;
  useBaselineWasmCompilerOnly();
  const worker = new Worker(WORKER_URL, { execArgv: [] });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  let gone: Error | undefined;
  const settleAll = (error: Error): void => {
    gone = error;
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  };
  worker.on('message', (message: WorkerReply) => {
    if ('op' in message) {
      onStderr?.(message.text);
      return;
    }
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (pending.size === 0) worker.unref();
    if (message.ok) waiter.resolve(message.result);
    else waiter.reject(revive(message.error));
  });
  worker.on('error', (error) => settleAll(error));
  worker.on('exit', (code) => settleAll(new Error(`the journal's database thread exited (code ${code})`)));
  worker.unref();

  const call = <T>(message: Record<string, unknown>): Promise<T> => {
    if (gone) return Promise.reject(gone);
    const id = (nextId += 1);
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      if (pending.size === 1) worker.ref();
      worker.postMessage({ ...message, id });
    });
  };
  const statements = (tx?: number): PGliteStatements => ({
    query: (sql, params = []) => call({ op: 'query', sql, params, tx }),
    exec: (sql) => call({ op: 'exec', sql, tx }),
  });

  try {
    await call({ op: 'open', path, options: cloneable });
  } catch (error) {
    await worker.terminate();
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
        await worker.terminate();
      }
    },
  };
}
