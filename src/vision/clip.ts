import { UserFacingError } from '../util/errors.js';
import type { MicroBatcher, SubmitOptions } from '../inference/batcher.js';
import type { ort} from '../inference/engine.js';
import { type InferenceEngine, type LoadedSession } from '../inference/engine.js';
import { LruCache } from '../util/lru.js';
import { softmax } from '../models/labels.js';
import type { ModelEntry, Precision } from '../models/manifest.js';
import type { ModelStore } from '../models/store.js';
import { loadTokenizer, tokenize } from '../inference/tokenizer.js';
import { stack, type ModelIdentity } from './classifier.js';
import type { ImageLimits } from './intake.js';
import { prepareImage, type PreparedImage } from './preprocess.js';

export const MIN_LABELS = 2;
export const MAX_LABELS = 20;
export const MAX_LABEL_CHARS = 100;

/** Splits and validates the user's labels: count, length, blanks and duplicates, each with a clear message. */
export function parseLabels(input: string | readonly string[]): string[] {
  const parts = typeof input === 'string' ? input.split(/[,\n|]/) : [...input];
  const labels = parts.map((label) => label.replace(/\s+/g, ' ').trim());
  const nonEmpty = labels.filter((label) => label.length > 0);
  if (nonEmpty.length === 0) throw new UserFacingError(`Give ${MIN_LABELS}–${MAX_LABELS} labels separated by commas, e.g. "a cat, a dog".`, { code: 'bad_labels' });
  if (nonEmpty.length < labels.length && labels.length > 1) {
    throw new UserFacingError('One of the labels is empty (two commas in a row, or only spaces); remove it and try again.', { code: 'bad_labels' });
  }
  if (nonEmpty.length < MIN_LABELS) throw new UserFacingError(`Give at least ${MIN_LABELS} labels to choose between, separated by commas.`, { code: 'bad_labels' });
  if (nonEmpty.length > MAX_LABELS) throw new UserFacingError(`That is ${nonEmpty.length} labels; the limit is ${MAX_LABELS}.`, { code: 'bad_labels' });
  nonEmpty.forEach((label, index) => {
    if (label.length > MAX_LABEL_CHARS) {
      throw new UserFacingError(`Label ${index + 1} is ${label.length} characters long; the limit is ${MAX_LABEL_CHARS}.`, { code: 'bad_labels' });
    }
  });
  const seen = new Map<string, string>();
  for (const label of nonEmpty) {
    const key = label.toLowerCase();
    if (seen.has(key)) throw new UserFacingError(`The label "${label}" appears twice; each label must be different.`, { code: 'bad_labels' });
    seen.set(key, label);
  }
  return nonEmpty;
}

export interface LabelMatch {
  label: string;
  prompt: string;
  /** Softmax over the labels of logitScale × cosine. */
  score: number;
  cosine: number;
}

export interface MatchResult {
  model: ModelIdentity;
  matches: LabelMatch[];
  logitScale: number;
  textCache: { hits: number; misses: number };
  timings: { preprocessMs: number; imageMs: number; textMs: number; totalMs: number };
  image: PreparedImage;
}

function l2normalise(vector: Float32Array): Float32Array {
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm) || 1;
  return vector.map((value) => value / norm);
}

function rows(output: ort.Tensor, count: number): Float32Array[] {
  const width = Number(output.dims[output.dims.length - 1]);
  const data = output.data as Float32Array;
  return Array.from({ length: count }, (_, index) => l2normalise(data.slice(index * width, (index + 1) * width)));
}

/**
 * CLIP zero-shot matching with separate text and vision towers. Both towers are batched, and
 * the text embedding of every prompt is cached (LRU), so repeated labels cost no inference.
 */
export class ClipMatcher {
  private constructor(
    readonly entry: ModelEntry,
    readonly identity: ModelIdentity,
    private readonly limits: ImageLimits,
    private readonly template: string,
    private readonly cache: LruCache<string, Float32Array>,
    private readonly embedText: (prompt: string, options: SubmitOptions) => Promise<Float32Array>,
    private readonly visionBatcher: MicroBatcher<Float32Array | Uint8Array, Float32Array>,
  ) {}

  static async load(options: {
    store: ModelStore;
    engine: InferenceEngine;
    id: string;
    precision: Precision;
    limits: ImageLimits;
    template: string;
    cacheSize: number;
  }): Promise<ClipMatcher> {
    const { store, engine, id } = options;
    const entry = store.entry(id);
    if (entry.task !== 'zero-shot-image-classification' || !entry.preprocess) {
      throw new UserFacingError(`Model "${id}" is a ${entry.task} model, not a CLIP model.`, { code: 'unknown_model' });
    }
    const resolved = await store.resolve(id, options.precision);
    const { text: textPath, vision: visionPath } = resolved.weights;
    if (!textPath || !visionPath) throw new UserFacingError(`Model "${id}" needs a "text" and a "vision" weight file in the manifest.`, { code: 'manifest_invalid' });
    const [text, vision, tokenizer] = await Promise.all([engine.session(textPath), engine.session(visionPath), loadTokenizer(resolved.dir)]);
    const spec = entry.preprocess;
    const names = { ids: entry.inputs.ids ?? 'input_ids', mask: entry.inputs.mask ?? 'attention_mask', pixels: entry.inputs.pixels ?? 'pixel_values' };
    const textOutput = entry.outputs.textEmbeds ?? 'text_embeds';
    const imageOutput = entry.outputs.imageEmbeds ?? 'image_embeds';
    const maxTokens = entry.maxTokens ?? 77;

    const runText = async (prompts: string[]): Promise<Float32Array[]> => {
      const encoded = tokenize(tokenizer, prompts, maxTokens);
      const feeds: Record<string, ort.Tensor> = {};
      if (text.session.inputNames.includes(names.ids)) feeds[names.ids] = encoded.ids;
      if (text.session.inputNames.includes(names.mask)) feeds[names.mask] = encoded.mask;
      const output = (await text.session.run(feeds))[textOutput];
      if (!output) throw new Error(`${id}: text output "${textOutput}" missing`);
      return rows(output, prompts.length);
    };
    const dims = [3, spec.size.height, spec.size.width];
    const runVision = async (images: Array<Float32Array | Uint8Array>): Promise<Float32Array[]> => {
      const output = (await vision.session.run({ [names.pixels]: stack(images, dims) }))[imageOutput];
      if (!output) throw new Error(`${id}: image output "${imageOutput}" missing`);
      return rows(output, images.length);
    };
    await Promise.all([runText(['warm up']), runVision([new Float32Array(dims.reduce((a, b) => a * b, 1))])]);

    const textBatcher = engine.batcher(`${id}:text`, runText);
    const visionBatcher = engine.batcher(`${id}:vision`, runVision);
    const identity: ModelIdentity = {
      id,
      name: entry.name,
      architecture: entry.architecture,
      precision: resolved.precision,
      executionProvider: providerOf(text, vision),
    };
    return new ClipMatcher(
      entry,
      identity,
      options.limits,
      options.template,
      new LruCache(options.cacheSize),
      (prompt, submitOptions) => textBatcher.submit(prompt, submitOptions),
      visionBatcher,
    );
  }

  get logitScale(): number {
    return this.entry.logitScale ?? 100;
  }

  promptFor(label: string): string {
    return this.template.replace('{}', label);
  }

  private async textEmbedding(prompt: string, options: SubmitOptions): Promise<{ embedding: Float32Array; cached: boolean }> {
    const cached = this.cache.get(prompt);
    if (cached) return { embedding: cached, cached: true };
    const embedding = await this.embedText(prompt, options);
    this.cache.set(prompt, embedding);
    return { embedding, cached: false };
  }

  async match(bytes: Buffer, labels: readonly string[], options: SubmitOptions = {}): Promise<MatchResult> {
    const started = performance.now();
    const arrived = this.visionBatcher.announce();
    let image: PreparedImage;
    try {
      image = await prepareImage(bytes, this.entry.preprocess!, this.limits);
    } catch (error) {
      arrived();
      throw error;
    }
    const prompts = labels.map((label) => this.promptFor(label));
    const imageStarted = performance.now();
    const imageEmbedding = this.visionBatcher.submit(image.tensor, { ...options, announced: arrived }).then((embedding) => ({ embedding, ms: performance.now() - imageStarted }));
    const textStarted = performance.now();
    const texts = await Promise.all(prompts.map((prompt) => this.textEmbedding(prompt, options)));
    const textMs = performance.now() - textStarted;
    const { embedding, ms: imageMs } = await imageEmbedding;
    const cosines = texts.map(({ embedding: text }) => text.reduce((sum, value, index) => sum + value * embedding[index]!, 0));
    const scores = softmax(cosines.map((cosine) => cosine * this.logitScale));
    const matches = labels
      .map((label, index) => ({ label, prompt: prompts[index]!, score: scores[index]!, cosine: cosines[index]! }))
      .sort((a, b) => b.score - a.score);
    const hits = texts.filter((text) => text.cached).length;
    return {
      model: this.identity,
      matches,
      logitScale: this.logitScale,
      textCache: { hits, misses: texts.length - hits },
      timings: { preprocessMs: image.ms, imageMs, textMs, totalMs: performance.now() - started },
      image,
    };
  }
}

/** The towers' common provider; CPU when they differ, since the CPU one then bounds the time. */
function providerOf(...sessions: LoadedSession[]): ModelIdentity['executionProvider'] {
  const [first, ...rest] = sessions.map((session) => session.executionProvider);
  return first && rest.every((provider) => provider === first) ? first : 'cpu';
}
