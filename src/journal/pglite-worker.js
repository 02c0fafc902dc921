// PGlite in its own thread (see pglite-thread.ts): PostgreSQL's WebAssembly runs here, so the
// bot's main thread, which also tokenizes, schedules and talks to Discord, does not run it.
// The same file runs as a child process to create a new database (initdb), so that the memory
// that takes is returned when the process ends. Plain JavaScript, like the inference worker, so
// that it needs no TypeScript loader.
import { parentPort } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

/** The thread's port, or the child process's IPC channel: the same messages either way. */
const port = parentPort ?? {
  postMessage: (/** @type {unknown} */ message) => {
    if (process.connected) process.send?.(message);
  },
  on: (/** @type {'message'} */ event, /** @type {(message: any) => void} */ listener) => process.on(event, listener),
};

// As a child process: if the bot goes (killed during a first start), so does this process, at
// once, rather than finishing a cluster that the next start will delete anyway.
if (!parentPort) process.on('disconnect', () => process.exit(0));

/** @type {PGlite | undefined} */
let pglite;
/** Open transactions by id: the transaction object, and how to end it. */
const transactions = new Map();
let nextTransaction = 0;

/** Errors cross the thread as plain fields: the ones the main thread classifies (errno, SQLSTATE) kept. */
function serialize(error) {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const { code, errno } = /** @type {{ code?: unknown; errno?: unknown }} */ (error);
  return {
    name: error.name,
    message: error.message,
    stack: error.stack,
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    ...(typeof errno === 'number' ? { errno } : {}),
  };
}

const reply = (id, result) => port.postMessage({ id, ok: true, result });
const fail = (id, error) => port.postMessage({ id, ok: false, error: serialize(error) });

/** Results without PGlite's parsers and blobs: rows (dates and JSON already parsed) and counts. */
const plain = (results) => ({ rows: results.rows, affectedRows: results.affectedRows ?? 0 });

/** The connection a statement runs on: an open transaction's, or the database's. */
function target(tx) {
  if (tx === undefined) return pglite;
  const open = transactions.get(tx);
  if (!open) throw new Error(`transaction ${tx} is not open`);
  return open.tx;
}

class Rollback extends Error {}

async function handle(message) {
  const { id, op } = message;
  switch (op) {
    case 'open': {
      pglite = new PGlite(message.path, {
        ...message.options,
        onStderr: (text) => {
          port.postMessage({ op: 'stderr', text });
          return false;
        },
      });
      await pglite.waitReady;
      return reply(id, null);
    }
    case 'query':
      return reply(id, plain(await target(message.tx).query(message.sql, message.params)));
    case 'exec':
      await target(message.tx).exec(message.sql);
      return reply(id, null);
    case 'begin': {
      const transaction = (nextTransaction += 1);
      let end;
      const ended = new Promise((resolve) => (end = resolve));
      let started;
      const ready = new Promise((resolve) => (started = resolve));
      // PGlite's own transaction (it holds the connection, queuing other statements, until it
      // ends): kept open until the main thread says commit or rollback.
      const finished = pglite.transaction(async (tx) => {
        transactions.set(transaction, { tx, end });
        started();
        if ((await ended) === 'rollback') throw new Rollback();
      });
      // A BEGIN that fails rejects `finished` before the transaction ever starts.
      await Promise.race([ready, finished]);
      transactionsFinished.set(transaction, finished);
      return reply(id, transaction);
    }
    case 'commit':
    case 'rollback': {
      const open = transactions.get(message.tx);
      const finished = transactionsFinished.get(message.tx);
      if (!open || !finished) throw new Error(`transaction ${message.tx} is not open`);
      transactions.delete(message.tx);
      transactionsFinished.delete(message.tx);
      open.end(op);
      try {
        await finished;
      } catch (error) {
        if (!(error instanceof Rollback)) throw error;
      }
      return reply(id, null);
    }
    case 'close':
      await pglite?.close();
      pglite = undefined;
      return reply(id, null);
    default:
      throw new Error(`unknown operation ${op}`);
  }
}

/** How each transaction ends: PGlite's promise for it. */
const transactionsFinished = new Map();

port.on('message', (message) => {
  handle(message).catch((error) => fail(message.id, error));
});
