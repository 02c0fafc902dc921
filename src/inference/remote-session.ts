import { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

/** What the engine needs from a session, whether it runs in this thread (tests) or in a worker. */
export interface SessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
}

type TensorMessage = { type: ort.Tensor.Type; dims: readonly number[]; data: ArrayBufferView };
type Reply =
  | { op: 'loaded'; id: number; inputNames: string[]; outputNames: string[] }
  | { op: 'result'; id: number; outputs: Record<string, TensorMessage> }
  | { op: 'released'; id: number }
  | { op: 'error'; id: number; message: string };

const WORKER_URL = new URL('./worker.js', import.meta.url);

/** A worker thread hosting onnxruntime sessions; requests are matched to replies by id. */
export class InferenceWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  private nextId = 0;

  constructor() {
    // The worker is plain JavaScript, so it must not inherit a TypeScript loader's flags.
    this.worker = new Worker(WORKER_URL, { execArgv: [] });
    this.worker.on('message', (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.op === 'error') waiter.reject(new Error(reply.message));
      else waiter.resolve(reply);
    });
    this.worker.on('error', (error) => this.failAll(error));
    this.worker.on('exit', (code) => this.failAll(new Error(`inference worker exited with code ${code}`)));
  }

  private failAll(error: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }

  request(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<Reply> {
    const id = (this.nextId += 1);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  /** Opens a session on a model file, or on `bytes` (a graph edited in memory) when given. */
  async load(
    key: string,
    path: string,
    options: ort.InferenceSession.SessionOptions,
    bytes?: Uint8Array,
  ): Promise<SessionLike> {
    const reply = await this.request({ op: 'load', key, path, options, ...(bytes ? { bytes } : {}) });
    if (reply.op !== 'loaded') throw new Error(`unexpected reply ${reply.op}`);
    return new RemoteSession(this, key, reply.inputNames, reply.outputNames);
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

class RemoteSession implements SessionLike {
  constructor(
    private readonly worker: InferenceWorker,
    private readonly key: string,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
  ) {}

  async run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
    const message: Record<string, TensorMessage> = {};
    for (const [name, tensor] of Object.entries(feeds)) {
      message[name] = { type: tensor.type, dims: tensor.dims, data: tensor.data as ArrayBufferView };
    }
    // Inputs are copied rather than transferred: callers may reuse their tensors.
    const reply = await this.worker.request({
      op: 'run',
      key: this.key,
      feeds: message,
    });
    if (reply.op !== 'result') throw new Error(`unexpected reply ${reply.op}`);
    return Object.fromEntries(
      Object.entries(reply.outputs).map(([name, t]) => [name, new ort.Tensor(t.type, t.data as Float32Array, t.dims)]),
    );
  }

  async release(): Promise<void> {
    await this.worker.request({ op: 'release', key: this.key });
  }
}
