import type { InferenceEngine } from '../inference/engine.js';
import type { ModelIdentity } from '../inference/pipeline.js';
import { ort } from '../inference/engine.js';
import type { MicroBatcher, SubmitOptions } from '../inference/batcher.js';
import { UserFacingError } from '../util/errors.js';
import { loadLabels, softmax, topK, type Prediction } from '../models/labels.js';
import type { ImagePreprocess, ModelEntry, Precision } from '../models/manifest.js';
import type { ModelStore } from '../models/store.js';
import { decodeImage, neededShorterSide, prepareDecoded, type DecodedImage, type PreparedImage } from './preprocess.js';
import type { ImageLimits } from './intake.js';

export type { ModelIdentity };

export interface Classification {
  model: ModelIdentity;
  predictions: Prediction[];
  /** Milliseconds: decode+preprocess, waiting in the queue, the batched session.run, and all of it. */
  timings: { preprocessMs: number; queueMs: number; inferenceMs: number; totalMs: number; batchSize: number };
  image: PreparedImage;
}

interface BatchOutput {
  logits: Float32Array;
  inferenceMs: number;
  batchSize: number;
  startedAt: number;
}

/** Stacks per-image tensors into one [N, ...dims] tensor of the model's input type. */
export function stack(items: ReadonlyArray<Float32Array | Uint8Array>, dims: readonly number[]): ort.Tensor {
  const size = items[0]?.length ?? 0;
  const first = items[0];
  // A batch of one is the item itself: no 600 KB copy on the event loop.
  if (items.length === 1 && first) return new ort.Tensor(first instanceof Uint8Array ? 'uint8' : 'float32', first, [1, ...dims]);
  const data = first instanceof Uint8Array ? new Uint8Array(size * items.length) : new Float32Array(size * items.length);
  items.forEach((item, index) => data.set(item, index * size));
  return new ort.Tensor(data instanceof Uint8Array ? 'uint8' : 'float32', data, [items.length, ...dims]);
}

/** A CNN or ViT ImageNet-style classifier: one shared session, batched, with its labels and preprocessing. */
export class ImageClassifier {
  private constructor(
    readonly entry: ModelEntry,
    readonly identity: ModelIdentity,
    private readonly preprocess: ImagePreprocess,
    private readonly labels: string[],
    private readonly limits: ImageLimits,
    private readonly batcher: MicroBatcher<Float32Array | Uint8Array, BatchOutput>,
  ) {}

  static async load(options: { store: ModelStore; engine: InferenceEngine; id: string; precision: Precision; limits: ImageLimits }): Promise<ImageClassifier> {
    const { store, engine, id } = options;
    const entry = store.entry(id);
    if (entry.task !== 'image-classification' || !entry.preprocess) {
      throw new UserFacingError(`Model "${id}" is a ${entry.task} model, not an image classifier.`, { code: 'unknown_model' });
    }
    const resolved = await store.resolve(id, options.precision);
    const path = resolved.weights.model;
    if (!path) throw new UserFacingError(`Model "${id}" lists no weight file.`, { code: 'manifest_invalid' });
    const [loaded, labels] = await Promise.all([engine.session(path), loadLabels(entry, store.manifest.baseDir, resolved.dir)]);
    const inputName = entry.inputs.pixels ?? loaded.session.inputNames[0]!;
    const outputName = entry.outputs.logits ?? loaded.session.outputNames[0]!;
    const spec = entry.preprocess;
    const dims = spec.layout === 'nchw' ? [3, spec.size.height, spec.size.width] : [spec.size.height, spec.size.width, 3];

    const run = async (batch: Array<Float32Array | Uint8Array>): Promise<BatchOutput[]> => {
      const startedAt = performance.now();
      const result = await loaded.session.run({ [inputName]: stack(batch, dims) });
      const output = result[outputName];
      if (!output) throw new Error(`${id}: output "${outputName}" missing; the session has ${loaded.session.outputNames.join(', ')}`);
      const classes = Number(output.dims[output.dims.length - 1]);
      if (classes !== labels.length) throw new Error(`${id}: the model has ${classes} classes but ${labels.length} labels`);
      const data = output.data as Float32Array;
      const inferenceMs = performance.now() - startedAt;
      return batch.map((_, index) => ({
        logits: data.slice(index * classes, (index + 1) * classes),
        inferenceMs,
        batchSize: batch.length,
        startedAt,
      }));
    };
    // Warm-up: the first run allocates arenas and picks kernels; users should not pay for it.
    const size = dims.reduce((a, b) => a * b, 1);
    await run([spec.dtype === 'uint8' ? new Uint8Array(size) : new Float32Array(size)]);

    const batcher = engine.batcher(`${id}:${resolved.precision}`, run);
    const identity: ModelIdentity = {
      id,
      name: entry.name,
      architecture: entry.architecture,
      precision: resolved.precision,
      executionProvider: loaded.executionProvider,
    };
    return new ImageClassifier(entry, identity, spec, labels, options.limits, batcher);
  }

  get spec(): ImagePreprocess {
    return this.preprocess;
  }

  /** Classifies raw bytes, or an image already decoded once for several models. */
  async classify(input: Buffer | DecodedImage, top: number, options: SubmitOptions = {}): Promise<Classification> {
    const started = performance.now();
    const arrived = this.batcher.announce();
    let image: PreparedImage;
    try {
      const decoded = Buffer.isBuffer(input) ? await decodeImage(input, this.limits, neededShorterSide(this.preprocess)) : input;
      image = await prepareDecoded(decoded, this.preprocess);
    } catch (error) {
      arrived();
      throw error;
    }
    const queuedAt = performance.now();
    const output = await this.batcher.submit(image.tensor, { ...options, announced: arrived });
    const scores = softmax(output.logits);
    return {
      model: this.identity,
      predictions: topK(scores, this.labels, top),
      timings: {
        preprocessMs: image.ms,
        queueMs: Math.max(0, output.startedAt - queuedAt),
        inferenceMs: output.inferenceMs,
        totalMs: performance.now() - started + (Buffer.isBuffer(input) ? 0 : input.ms),
        batchSize: output.batchSize,
      },
      image,
    };
  }
}
