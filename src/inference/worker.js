// @ts-check
// The onnxruntime worker thread. onnxruntime-node runs session.run synchronously on the
// thread that calls it, so sessions live here, off the event loop that serves Discord.
// Plain JavaScript on purpose: a worker thread starts without the TypeScript loader.
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

if (!parentPort) throw new Error('worker.js must run in a worker thread');
const port = parentPort;

/** @type {Map<string, import('onnxruntime-node').InferenceSession>} */
const sessions = new Map();

/** @typedef {Float32Array | Uint8Array | Int32Array | BigInt64Array} TensorData */

/** @param {TensorData} view */
const transferable = (view) =>
  view.byteOffset === 0 && view.byteLength === view.buffer.byteLength ? view : view.slice();

port.on('message', async (/** @type {any} */ message) => {
  try {
    if (message.op === 'load') {
      // An edited graph arrives as bytes; the path then only names it in errors.
      const session = message.bytes
        ? await ort.InferenceSession.create(message.bytes, message.options)
        : await ort.InferenceSession.create(message.path, message.options);
      sessions.set(message.key, session);
      port.postMessage({
        op: 'loaded',
        id: message.id,
        inputNames: session.inputNames,
        outputNames: session.outputNames,
      });
    } else if (message.op === 'run') {
      const session = sessions.get(message.key);
      if (!session) throw new Error(`no session ${message.key} in this worker`);
      /** @type {Record<string, import('onnxruntime-node').Tensor>} */
      const feeds = {};
      for (const [name, t] of Object.entries(message.feeds)) feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
      const results = await session.run(feeds);
      /** @type {Record<string, {type: string, dims: readonly number[], data: ArrayBufferView}>} */
      const outputs = {};
      /** @type {ArrayBuffer[]} */
      const transfer = [];
      for (const [name, tensor] of Object.entries(results)) {
        const data = transferable(/** @type {TensorData} */ (tensor.data));
        outputs[name] = { type: tensor.type, dims: tensor.dims, data };
        transfer.push(/** @type {ArrayBuffer} */ (data.buffer));
      }
      port.postMessage({ op: 'result', id: message.id, outputs }, transfer);
    } else if (message.op === 'release') {
      await sessions.get(message.key)?.release();
      sessions.delete(message.key);
      port.postMessage({ op: 'released', id: message.id });
    }
  } catch (error) {
    port.postMessage({ op: 'error', id: message.id, message: error instanceof Error ? error.message : String(error) });
  }
});
