import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { UserFacingError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { loadOnce } from '../util/load-once.js';
import { MicroBatcher, type BatcherOptions } from './batcher.js';
import { graphOperators } from './onnx-operators.js';
import { withPooledOutput } from './pooled-output.js';
import { InferenceWorker, type SessionLike } from './remote-session.js';

export type ExecutionProviderSetting = 'auto' | 'cpu' | 'cuda' | 'webgpu';
export type ExecutionProvider = 'cpu' | 'cuda' | 'webgpu';
type GpuProvider = Exclude<ExecutionProvider, 'cpu'>;

export interface EngineOptions {
  executionProvider: ExecutionProviderSetting;
  intraOpThreads: number;
  interOpThreads: number;
  batch: { maxBatchSize: number; maxWaitMs: number; maxQueue: number; timeoutMs: number };
  logger: Logger;
  /** Worker threads hosting sessions; sessions in one worker run one at a time. */
  workers?: number;
  /** Injected by tests to create sessions in this thread (and to simulate a GPU or its absence). */
  createSession?: (path: string, options: ort.InferenceSession.SessionOptions) => Promise<SessionLike>;
  /** Injected by tests; defaults to {@link gpuProviderInstalled}. */
  gpuInstalled?: (provider: GpuProvider) => boolean;
  /** Told about every batched run, for metrics. */
  onRun?: (key: string, ms: number, batchSize: number) => void;
}

/**
 * Operators that quantize activations at run time with one scale for the whole tensor: ONNX's
 * DynamicQuantizeLinear, and onnxruntime's fused forms of it (com.microsoft), as an optimised
 * graph saved by onnxruntime may hold them.
 */
const RUN_TIME_QUANTIZERS = ['DynamicQuantizeLinear', 'DynamicQuantizeMatMul', 'DynamicQuantizeLSTM'];

export interface LoadedSession {
  session: SessionLike;
  executionProvider: ExecutionProvider;
  path: string;
  loadMs: number;
  /**
   * The graph quantizes activations at run time (DynamicQuantizeLinear, as onnxruntime's
   * quantize_dynamic and transformers.js's int8 files do), with one scale for the whole tensor:
   * in a batch, an input's answer would depend on the other inputs (see pipeline.ts).
   */
  dynamicQuantization: boolean;
}

/**
 * Whether this onnxruntime-node install can offer a GPU provider. CUDA needs the files that
 * ONNXRUNTIME_NODE_INSTALL=cuda12 downloads; checking for them first avoids onnxruntime's loud
 * native error on every CPU-only machine. WebGPU (Dawn, on Vulkan under Linux) is bundled with
 * the default Linux x64, Windows and macOS builds.
 */
export function gpuProviderInstalled(provider: GpuProvider): boolean {
  if (provider === 'webgpu') return ort.listSupportedBackends().some((backend) => backend.name === 'webgpu');
  const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
  const binDir = join(dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch);
  return existsSync(join(binDir, 'libonnxruntime_providers_cuda.so'));
}

const NOT_INSTALLED: Record<GpuProvider, string> = {
  cuda: 'the CUDA build of onnxruntime-node is not installed (npm ci with ONNXRUNTIME_NODE_INSTALL=cuda12)',
  webgpu: 'this build of onnxruntime-node has no WebGPU provider',
};

/**
 * The one place that creates onnxruntime sessions. Sessions are shared per file, created with
 * full graph optimisation on the configured execution provider (falling back to CPU when the GPU
 * provider cannot load), and disposed together on shutdown.
 */
export class InferenceEngine {
  private readonly sessions = new Map<string, Promise<LoadedSession>>();
  /** Per model file: whether its graph quantizes at run time (read once, for its edited sessions too). */
  private readonly runTimeQuantized = new Map<string, Promise<boolean>>();
  private readonly batchers = new Map<string, MicroBatcher<unknown, unknown>>();
  /** The GPU provider to try first; `auto` means CUDA, the one that needs an explicit install. */
  private readonly gpu: GpuProvider | undefined;
  private gpuUnavailable: string | undefined;
  private readonly workers: InferenceWorker[] = [];
  private nextWorker = 0;
  private readonly configuredWorkers: number;

  constructor(private readonly options: EngineOptions) {
    const setting = options.executionProvider;
    this.gpu = setting === 'cpu' ? undefined : setting === 'auto' ? 'cuda' : setting;
    this.configuredWorkers = Math.max(1, options.workers ?? 1);
    if (this.gpu && !(options.gpuInstalled ?? gpuProviderInstalled)(this.gpu)) this.noGpu(NOT_INSTALLED[this.gpu]);
    if (this.gpu === 'webgpu' && !this.gpuUnavailable && this.configuredWorkers > 1) {
      options.logger.warn(
        { ORT_WORKERS: this.configuredWorkers },
        'WebGPU sessions all run in one worker thread (onnxruntime-node crashes when they are spread over several); ORT_WORKERS ignored',
      );
    }
  }

  /**
   * Worker threads that host sessions. WebGPU sessions share one: onnxruntime-node 1.30 crashed
   * (SIGSEGV) on an H200 when they were created in two threads; the GPU runs them in turn anyway.
   */
  get workerThreads(): number {
    return this.gpu === 'webgpu' && !this.gpuUnavailable ? 1 : this.configuredWorkers;
  }

  /** The provider sessions actually run on, once at least one session has loaded. */
  get activeProvider(): ExecutionProvider | 'none yet' {
    if (!this.gpu || this.gpuUnavailable) return 'cpu';
    return this.sessions.size > 0 ? this.gpu : 'none yet';
  }

  get providerSetting(): ExecutionProviderSetting {
    return this.options.executionProvider;
  }

  /** Loads (once) and returns the session for a model file. */
  session(path: string): Promise<LoadedSession> {
    return loadOnce(this.sessions, path, () => this.load(path));
  }

  /**
   * Loads (once per path and variant) a session from a model file edited in memory: an experiment
   * that needs internal tensors as extra outputs gets its own session, the plain one stays as it is.
   */
  editedSession(path: string, variant: string, edit: (bytes: Uint8Array) => Uint8Array): Promise<LoadedSession> {
    return loadOnce(this.sessions, `${path}#${variant}`, async () => {
      const bytes = edit(new Uint8Array(await readFile(path)));
      return this.load(path, bytes);
    });
  }

  /**
   * A session of a model file whose graph also outputs the global average of an internal tensor
   * (see pooled-output.ts): a CNN's penultimate features as an embedding.
   */
  pooledSession(path: string, tensor: string): Promise<LoadedSession> {
    return this.editedSession(path, `pooled:${tensor}`, (bytes) => withPooledOutput(bytes, tensor));
  }

  /** The options every session gets: also used by the benchmark to time models without the worker hop. */
  sessionOptions(provider: ExecutionProvider): ort.InferenceSession.SessionOptions {
    return {
      // Operators the GPU provider lacks run on the CPU provider inside the same session.
      executionProviders: provider === 'cpu' ? ['cpu'] : [{ name: provider }, 'cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: this.options.intraOpThreads,
      interOpNumThreads: this.options.interOpThreads,
      executionMode: 'sequential',
      // Each session has its own thread pool. Threads that keep spinning after a run steal the
      // cores the next session needs (ResNet-50 then ViT-B/16: 123 ms with spinning, 79 ms without),
      // but spinning within a run saves waking a thread for every operator: spin during a run and
      // stop when it ends (measured here against no spinning: the same pair 85 → 72 ms, ViT-B/16 int8 alone 55 → 47 ms).
      extra: {
        session: { force_spinning_stop: '1', intra_op: { allow_spinning: '1' }, inter_op: { allow_spinning: '0' } },
      },
    };
  }

  /**
   * Sessions run in worker threads because onnxruntime-node's run() blocks the calling
   * thread for the whole inference; the event loop (gateway heartbeats, new interactions)
   * must stay free. Sessions are spread over the workers round-robin.
   */
  private inWorker(
    path: string,
    sessionOptions: ort.InferenceSession.SessionOptions,
    bytes?: Uint8Array,
  ): Promise<SessionLike> {
    if (this.workers.length < this.workerThreads) this.workers.push(new InferenceWorker());
    const worker = this.workers[this.nextWorker % this.workers.length]!;
    this.nextWorker += 1;
    return worker.load(`${path}#${this.nextWorker}`, path, sessionOptions, bytes);
  }

  /**
   * Read beside the session's load, once per file (the nodes only, not the weights); an edited
   * graph has its file's operators. A file that cannot be read this way is taken as batchable.
   */
  private quantizesAtRunTime(path: string): Promise<boolean> {
    return loadOnce(this.runTimeQuantized, path, () =>
      graphOperators(path).then(
        (operators) => RUN_TIME_QUANTIZERS.some((operator) => operators.has(operator)),
        (error: unknown) => {
          this.options.logger.warn({ path, err: error }, 'could not read the operators of a model file');
          return false;
        },
      ),
    );
  }

  private async load(path: string, bytes?: Uint8Array): Promise<LoadedSession> {
    const injected = this.options.createSession;
    const create = (file: string, sessionOptions: ort.InferenceSession.SessionOptions): Promise<SessionLike> =>
      // Tests that create sessions in this thread get edited graphs in this thread too.
      injected
        ? bytes
          ? ort.InferenceSession.create(bytes, sessionOptions)
          : injected(file, sessionOptions)
        : this.inWorker(file, sessionOptions, bytes);
    const started = performance.now();
    const dynamicQuantization = this.quantizesAtRunTime(path);
    const gpu = this.gpuUnavailable ? undefined : this.gpu;
    if (gpu) {
      try {
        const session = await create(path, this.sessionOptions(gpu));
        this.options.logger.info(
          { path, executionProvider: gpu, ms: Math.round(performance.now() - started) },
          'session loaded',
        );
        return {
          session,
          executionProvider: gpu,
          path,
          loadMs: performance.now() - started,
          dynamicQuantization: await dynamicQuantization,
        };
      } catch (error) {
        this.noGpu((error as Error).message.split('\n')[0] ?? 'unknown error');
      }
    }
    try {
      const session = await create(path, this.sessionOptions('cpu'));
      this.options.logger.info(
        { path, executionProvider: 'cpu', ms: Math.round(performance.now() - started) },
        'session loaded',
      );
      return {
        session,
        executionProvider: 'cpu',
        path,
        loadMs: performance.now() - started,
        dynamicQuantization: await dynamicQuantization,
      };
    } catch (error) {
      // onnxruntime's message names the absolute path: it goes to the log, the reply names the file only.
      this.options.logger.error({ path, err: error }, 'onnxruntime could not load a model file');
      throw new UserFacingError(
        `The model file ${basename(path)} could not be loaded by onnxruntime (operators: the log has the path and why).`,
        { code: 'model_invalid', cause: error },
      );
    }
  }

  /** Every later session runs on CPU; said once, as a warning when the GPU was asked for by name. */
  private noGpu(reason: string): void {
    this.gpuUnavailable = reason;
    const setting = this.options.executionProvider;
    this.options.logger[setting === 'auto' ? 'info' : 'warn'](
      { reason },
      `${this.gpu} unavailable (EXECUTION_PROVIDER=${setting}); running on CPU`,
    );
  }

  /** One micro-batching queue per key (normally a model id + part), created on first use. */
  batcher<I, O>(key: string, run: BatcherOptions<I, O>['run']): MicroBatcher<I, O> {
    let batcher = this.batchers.get(key) as MicroBatcher<I, O> | undefined;
    if (!batcher) {
      batcher = new MicroBatcher<I, O>({
        name: key,
        ...this.options.batch,
        run: async (inputs) => {
          const started = performance.now();
          const outputs = await run(inputs);
          this.options.onRun?.(key, performance.now() - started, inputs.length);
          return outputs;
        },
      });
      this.batchers.set(key, batcher as MicroBatcher<unknown, unknown>);
    }
    return batcher;
  }

  queueDepth(): number {
    let depth = 0;
    for (const batcher of this.batchers.values()) depth += batcher.depth;
    return depth;
  }

  batcherStats(): Record<string, MicroBatcher<unknown, unknown>['stats'] & { depth: number }> {
    return Object.fromEntries(
      [...this.batchers].map(([key, batcher]) => [key, { ...batcher.stats, depth: batcher.depth }]),
    );
  }

  async dispose(): Promise<void> {
    for (const batcher of this.batchers.values()) batcher.close();
    const loaded = await Promise.allSettled(this.sessions.values());
    this.sessions.clear();
    await Promise.allSettled(
      loaded.map((result) => (result.status === 'fulfilled' ? result.value.session.release() : undefined)),
    );
    await Promise.allSettled(this.workers.splice(0).map((worker) => worker.terminate()));
  }
}

export { ort };
