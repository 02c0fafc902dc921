import { Worker } from 'node:worker_threads';

/**
 * OpenAI's o200k_base byte-level BPE (GPT-4o's tokenizer, 200k tokens against GPT-2's 50k), the
 * modern vocabulary /languages compares: the real ranks ship inside js-tiktoken, so it works offline.
 * Building it parses a 2 MB rank table, a synchronous second or more on a busy 2-core machine, so
 * it is built and used in its own worker thread (o200k-worker.js), started once and shared; the
 * bot starts it while preloading, so the first /languages finds it ready.
 */
export interface O200kTokenizer {
  name: 'o200k';
  id: 'o200k_base';
  algorithm: 'byte-level BPE';
  /** The worker thread that built the encoder and encodes (never the main thread's 0). */
  threadId: number;
  encode(texts: readonly string[]): Promise<number[][]>;
}

type Reply =
  | { op: 'ready'; threadId: number }
  | { op: 'encoded'; id: number; tokens: number[][] }
  | { op: 'error'; id: number; message: string };

const WORKER_URL = new URL('./o200k-worker.js', import.meta.url);

let loading: Promise<O200kTokenizer> | undefined;

function start(): Promise<O200kTokenizer> {
  // The worker is plain JavaScript, so it must not inherit a TypeScript loader's flags.
  const worker = new Worker(WORKER_URL, { execArgv: [] });
  const pending = new Map<number, { resolve: (tokens: number[][]) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  return new Promise<O200kTokenizer>((resolve, reject) => {
    const fail = (error: Error): void => {
      loading = undefined;
      reject(error);
      for (const waiter of pending.values()) waiter.reject(error);
      pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the o200k worker exited with code ${code}`)));
    worker.on('message', (reply: Reply) => {
      if (reply.op === 'ready') {
        // An idle encoder must not keep a finished process (the bot's shutdown, the CLI, a
        // benchmark) alive; building it and a request in flight do.
        worker.unref();
        resolve({
          name: 'o200k',
          id: 'o200k_base',
          algorithm: 'byte-level BPE',
          threadId: reply.threadId,
          encode: (texts) =>
            new Promise((done, failed) => {
              const id = (nextId += 1);
              if (pending.size === 0) worker.ref();
              pending.set(id, { resolve: done, reject: failed });
              worker.postMessage({ id, texts: [...texts] });
            }),
        });
        return;
      }
      const waiter = pending.get(reply.id);
      if (!waiter) return;
      pending.delete(reply.id);
      if (pending.size === 0) worker.unref();
      if (reply.op === 'error') waiter.reject(new Error(reply.message));
      else waiter.resolve(reply.tokens);
    });
  });
}

/** The shared o200k encoder, its worker started on the first call. */
export function loadO200k(): Promise<O200kTokenizer> {
  loading ??= start();
  return loading;
}
