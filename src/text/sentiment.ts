import { UserFacingError } from '../util/errors.js';
import type { SubmitOptions } from '../inference/batcher.js';
import type { InferenceEngine } from '../inference/engine.js';
import { loadLabels, softmax } from '../models/labels.js';
import type { Precision } from '../models/manifest.js';
import type { ModelStore } from '../models/store.js';
import type { ModelIdentity } from '../inference/pipeline.js';
import { loadTokenizer, tokenize } from '../inference/tokenizer.js';

export interface TransformerSentiment {
  model: ModelIdentity;
  label: string;
  score: number;
  scores: Record<string, number>;
  tokens: number;
  maxTokens: number;
  truncated: boolean;
  timings: { queueMs: number; inferenceMs: number; totalMs: number; batchSize: number };
}

interface BatchOutput {
  logits: Float32Array;
  tokens: number;
  truncated: boolean;
  inferenceMs: number;
  startedAt: number;
  batchSize: number;
}

/** A transformer text classifier (DistilBERT SST-2): tokenizer + shared, batched session. */
export class TextClassifier {
  private constructor(
    readonly identity: ModelIdentity,
    private readonly labels: string[],
    readonly maxTokens: number,
    private readonly submit: (text: string, options: SubmitOptions) => Promise<BatchOutput>,
  ) {}

  static async load(options: { store: ModelStore; engine: InferenceEngine; id: string; precision: Precision }): Promise<TextClassifier> {
    const { store, engine, id } = options;
    const entry = store.entry(id);
    if (entry.task !== 'text-classification') throw new UserFacingError(`Model "${id}" is a ${entry.task} model, not a text classifier.`, { code: 'unknown_model' });
    const resolved = await store.resolve(id, options.precision);
    const path = resolved.weights.model;
    if (!path) throw new UserFacingError(`Model "${id}" lists no weight file.`, { code: 'manifest_invalid' });
    const [loaded, tokenizer, labels] = await Promise.all([engine.session(path), loadTokenizer(resolved.dir), loadLabels(entry, store.manifest.baseDir, resolved.dir)]);
    const maxTokens = entry.maxTokens ?? 512;
    const names = { ids: entry.inputs.ids ?? 'input_ids', mask: entry.inputs.mask ?? 'attention_mask' };
    const outputName = entry.outputs.logits ?? 'logits';

    const run = async (texts: string[]): Promise<BatchOutput[]> => {
      const startedAt = performance.now();
      const encoded = tokenize(tokenizer, texts, maxTokens);
      const feeds = { [names.ids]: encoded.ids, [names.mask]: encoded.mask };
      const output = (await loaded.session.run(feeds))[outputName];
      if (!output) throw new Error(`${id}: output "${outputName}" missing`);
      const classes = Number(output.dims[output.dims.length - 1]);
      const data = output.data as Float32Array;
      const inferenceMs = performance.now() - startedAt;
      return texts.map((_, index) => ({
        logits: data.slice(index * classes, (index + 1) * classes),
        tokens: encoded.lengths[index]!,
        truncated: encoded.truncated[index]!,
        inferenceMs,
        startedAt,
        batchSize: texts.length,
      }));
    };
    await run(['warm up']);
    const batcher = engine.batcher(`${id}:${resolved.precision}`, run);
    const identity: ModelIdentity = { id, name: entry.name, architecture: entry.architecture, precision: resolved.precision, executionProvider: loaded.executionProvider };
    return new TextClassifier(identity, labels, maxTokens, (text, submitOptions) => batcher.submit(text, submitOptions));
  }

  async classify(text: string, options: SubmitOptions = {}): Promise<TransformerSentiment> {
    const started = performance.now();
    const output = await this.submit(text, options);
    const probabilities = softmax(output.logits);
    const scores = Object.fromEntries(this.labels.map((label, index) => [label, probabilities[index]!]));
    let best = 0;
    probabilities.forEach((p, index) => {
      if (p > probabilities[best]!) best = index;
    });
    return {
      model: this.identity,
      label: this.labels[best] ?? `class ${best}`,
      score: probabilities[best]!,
      scores,
      tokens: output.tokens,
      maxTokens: this.maxTokens,
      truncated: output.truncated,
      timings: { queueMs: Math.max(0, output.startedAt - started), inferenceMs: output.inferenceMs, totalMs: performance.now() - started, batchSize: output.batchSize },
    };
  }
}
