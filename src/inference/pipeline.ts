import { describeModel, type ModelEntry, type Precision } from '../models/manifest.js';
import type { ModelStore } from '../models/store.js';
import { UserFacingError } from '../util/errors.js';
import type { MicroBatcher, SubmitOptions } from './batcher.js';
import { ort, type ExecutionProvider, type InferenceEngine, type LoadedSession } from './engine.js';

/** Which model produced a result, as every reply names it. */
export interface ModelIdentity {
  id: string;
  name: string;
  architecture: ModelEntry['architecture'];
  precision: Precision;
  executionProvider: ExecutionProvider;
}

/** Milliseconds: preparing the input on the CPU, waiting for a batch, the batched session.run, and all of it. */
export interface PipelineTimings {
  prepareMs: number;
  queueMs: number;
  inferenceMs: number;
  totalMs: number;
  batchSize: number;
  /** The session runs the batch took: 1, or one per input for a dynamically quantized model. */
  sessionRuns: number;
}

/** Every pipeline output says which model produced it and how long it took. */
export type Produced<Output> = Output & { model: ModelIdentity; timings: PipelineTimings };

/**
 * What a model kind supplies, in the spirit of transformers.js pipelines: prepare one input on
 * the CPU, run many prepared items as one session.run, and finish one raw output into a result.
 */
export interface PipelineKind<Input, Item, Raw, Output> {
  prepare(input: Input): Item | Promise<Item>;
  runBatch(items: readonly Item[]): Promise<Raw[]>;
  finish(raw: Raw, input: Input, item: Item): Output;
  /** An item of the right shape for the warm-up run (zeros, a short text). */
  warmUpItem: Item;
}

/** What the pipeline layer needs to load any model kind. */
export interface PipelineContext {
  store: ModelStore;
  engine: InferenceEngine;
  precision: Precision;
}

/** A model's manifest entry, its verified files and one session per weight file. */
export interface LoadedModel {
  entry: ModelEntry;
  identity: ModelIdentity;
  /** Absolute folder of the model's files (tokenizer, labels). */
  dir: string;
  sessions: Record<string, LoadedSession>;
}

interface BatchedRaw<Raw> {
  raw: Raw;
  inferenceMs: number;
  batchSize: number;
  sessionRuns: number;
  startedAt: number;
}

const TASK_NAMES: Record<ModelEntry['task'], string> = {
  'image-classification': 'an image classifier',
  'zero-shot-image-classification': 'a CLIP model',
  'text-classification': 'a text classifier',
  'fill-mask': 'a fill-mask (masked language) model',
  tokenizer: 'a tokenizer',
};

/** The parts' common provider; CPU when they differ, since the CPU part then bounds the time. */
function commonProvider(sessions: readonly LoadedSession[]): ExecutionProvider {
  const [first, ...rest] = sessions.map((session) => session.executionProvider);
  return first && rest.every((provider) => provider === first) ? first : 'cpu';
}

/**
 * Resolves a model for a task: checks its kind, verifies (or downloads) its files at the
 * configured precision and opens one shared session per weight file part ("model", or CLIP's
 * "text" and "vision").
 */
export async function loadModel(
  context: PipelineContext,
  id: string,
  task: ModelEntry['task'],
  parts: readonly string[],
): Promise<LoadedModel> {
  const entry = context.store.entry(id);
  if (entry.task !== task) {
    throw new UserFacingError(`Model "${id}" is a ${entry.task} model, not ${TASK_NAMES[task]}.`, {
      code: 'unknown_model',
    });
  }
  const resolved = await context.store.resolve(id, context.precision);
  const paths = parts.map((part) => {
    const path = resolved.weights[part];
    if (!path) {
      throw new UserFacingError(`Model "${id}" lists no "${part}" weight file in the manifest.`, {
        code: 'manifest_invalid',
      });
    }
    return path;
  });
  const loaded = await Promise.all(paths.map((path) => context.engine.session(path))).catch((error: unknown) => {
    if (!(error instanceof UserFacingError) || error.code !== 'model_invalid') throw error;
    throw new UserFacingError(
      `${describeModel(entry)} could not be loaded: onnxruntime refused its weights (operators: the log says which file and why).`,
      { code: 'model_invalid', cause: error },
    );
  });
  const sessions = Object.fromEntries(parts.map((part, index) => [part, loaded[index]!]));
  const identity: ModelIdentity = {
    id,
    name: entry.name,
    architecture: entry.architecture,
    precision: resolved.precision,
    executionProvider: commonProvider(loaded),
  };
  return { entry, identity, dir: resolved.dir, sessions };
}

/**
 * One model kind over a shared, micro-batched session: `run` for one input, `runMany` for many
 * variants of one input (an experiment) submitted together, so they leave as one batch.
 */
export class Pipeline<Input, Item, Raw, Output> {
  constructor(
    readonly identity: ModelIdentity,
    readonly entry: ModelEntry,
    private readonly batcher: MicroBatcher<Item, BatchedRaw<Raw>>,
    private readonly kind: PipelineKind<Input, Item, Raw, Output>,
  ) {}

  async run(input: Input, options: SubmitOptions = {}): Promise<Produced<Output>> {
    const [output] = await this.runMany([input], options);
    return output!;
  }

  async runMany(inputs: readonly Input[], options: SubmitOptions = {}): Promise<Array<Produced<Output>>> {
    const started = performance.now();
    // Announced first: a batch about to run waits for these items instead of leaving without them.
    const arrived = this.batcher.announce();
    let items: Item[];
    try {
      items = await Promise.all(inputs.map((input) => this.kind.prepare(input)));
    } catch (error) {
      arrived();
      throw error;
    }
    const queuedAt = performance.now();
    const raws = await this.batcher.submitAll(items, { ...options, announced: arrived });
    return raws.map((batched, index) => {
      const output = this.kind.finish(batched.raw, inputs[index]!, items[index]!);
      return {
        ...output,
        model: this.identity,
        timings: {
          prepareMs: queuedAt - started,
          queueMs: Math.max(0, batched.startedAt - queuedAt),
          inferenceMs: batched.inferenceMs,
          totalMs: performance.now() - started,
          batchSize: batched.batchSize,
          sessionRuns: batched.sessionRuns,
        },
      };
    });
  }
}

/**
 * Builds a pipeline: one warm-up run (the first run allocates arenas and picks kernels; users
 * should not pay for it), then a micro-batching queue keyed by model and precision.
 */
export async function createPipeline<Input, Item, Raw, Output>(
  context: PipelineContext,
  model: LoadedModel,
  kind: PipelineKind<Input, Item, Raw, Output>,
  part = '',
): Promise<Pipeline<Input, Item, Raw, Output>> {
  await kind.runBatch([kind.warmUpItem]);
  const key = `${model.identity.id}:${part || model.identity.precision}`;
  // A dynamically quantized graph takes one scale over the whole batch, so an input's answer
  // would depend on whatever was batched with it: another member's photo, or the stress test's
  // noisiest variant moving the original's score. Such a model runs each input alone, in turn:
  // the answer is the one the input gets by itself (on two CPU cores a batch of 11 costs
  // 11.5-12.4 single runs anyway, bench/lab.md). Other models keep the batched run.
  const alone = Object.values(model.sessions).some((session) => session.dynamicQuantization);
  const batcher = context.engine.batcher<Item, BatchedRaw<Raw>>(key, async (items) => {
    const startedAt = performance.now();
    const raws: Raw[] = [];
    if (alone) for (const item of items) raws.push(...(await kind.runBatch([item])));
    else raws.push(...(await kind.runBatch(items)));
    const inferenceMs = performance.now() - startedAt;
    const sessionRuns = alone ? items.length : 1;
    return raws.map((raw) => ({ raw, inferenceMs, batchSize: items.length, sessionRuns, startedAt }));
  });
  return new Pipeline(model.identity, model.entry, batcher, kind);
}

/**
 * How many session runs a request's results took: each distinct batch counted once (its items
 * share one inference time), with its own count of runs (1, or one per input for a model
 * quantized at run time).
 */
export function sessionRunsOf(timings: readonly PipelineTimings[]): number {
  const batches = new Map(timings.map((timing) => [`${timing.inferenceMs}:${timing.batchSize}`, timing.sessionRuns]));
  return [...batches.values()].reduce((sum, runs) => sum + runs, 0);
}

/** Stacks per-item tensors into one [N, ...dims] tensor of the model's input type. */
export function stack(items: ReadonlyArray<Float32Array | Uint8Array>, dims: readonly number[]): ort.Tensor {
  const first = items[0];
  const type = first instanceof Uint8Array ? 'uint8' : 'float32';
  // A batch of one is the item itself: no copy on the event loop.
  if (items.length === 1 && first) return new ort.Tensor(type, first, [1, ...dims]);
  const size = first?.length ?? 0;
  const data = type === 'uint8' ? new Uint8Array(size * items.length) : new Float32Array(size * items.length);
  items.forEach((item, index) => data.set(item, index * size));
  return new ort.Tensor(type, data, [items.length, ...dims]);
}

/** Runs a session and returns one named output, failing clearly when the graph lacks it. */
export async function runForOutput(
  session: LoadedSession,
  feeds: Record<string, ort.Tensor>,
  output: string,
  model: string,
): Promise<ort.Tensor> {
  const result = (await session.session.run(feeds))[output];
  if (!result)
    throw new Error(`${model}: output "${output}" missing; the session has ${session.session.outputNames.join(', ')}`);
  return result;
}

/** The rows of a [N, width] float output, one copy per item so results outlive the batch. */
export function rowsOf(output: ort.Tensor, count: number): Float32Array[] {
  const width = Number(output.dims[output.dims.length - 1]);
  const data = output.data as Float32Array;
  return Array.from({ length: count }, (_, index) => data.slice(index * width, (index + 1) * width));
}
