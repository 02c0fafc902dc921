// @ts-check
// The o200k_base encoder's thread. Building it parses a 2 MB rank table into maps, a
// synchronous second or two that would otherwise stall the event loop serving Discord; encoding
// here also keeps the 200k-entry maps out of the main thread's heap.
// Plain JavaScript on purpose: a worker thread starts without the TypeScript loader.
import { parentPort, threadId } from 'node:worker_threads';
import { Tiktoken } from 'js-tiktoken/lite';
import ranks from 'js-tiktoken/ranks/o200k_base';

if (!parentPort) throw new Error('o200k-worker.js must run in a worker thread');
const port = parentPort;

const encoder = new Tiktoken(ranks);
port.postMessage({ op: 'ready', threadId });

port.on('message', (/** @type {{ id: number, texts: string[] }} */ message) => {
  try {
    port.postMessage({ op: 'encoded', id: message.id, tokens: message.texts.map((text) => encoder.encode(text)) });
  } catch (error) {
    port.postMessage({ op: 'error', id: message.id, message: error instanceof Error ? error.message : String(error) });
  }
});
