import { loadTokenizer, tokenize } from '../inference/tokenizer.js';
import {
  createPipeline,
  loadModel,
  rowsOf,
  runForOutput,
  stack,
  type PipelineContext,
  type Produced,
} from '../inference/pipeline.js';
import type { ort } from '../inference/engine.js';
import { softmax } from '../models/labels.js';
import { UserFacingError } from '../util/errors.js';
import type { RgbImage } from '../util/image.js';
import { LruCache } from '../util/lru.js';
import { prepareDecoded, type DecodedImage, type ModelInput } from './preprocess.js';

export interface LabelMatch {
  label: string;
  prompt: string;
  /** Softmax over the labels of logitScale × cosine. */
  score: number;
  cosine: number;
}

export type MatchResult = Produced<{
  matches: LabelMatch[];
  logitScale: number;
  template: string;
  textCache: { hits: number; misses: number };
  /** The pixels the vision tower saw. */
  preview: RgbImage;
}>;

export interface ClipMatcher {
  match(
    image: DecodedImage,
    labels: readonly string[],
    options?: { onPosition?: (position: number) => void },
  ): Promise<MatchResult>;
  /** The vision tower's L2-normalised image embedding (what /teach's probe learns from). */
  embed(image: DecodedImage, options?: { onPosition?: (position: number) => void }): Promise<Float32Array>;
}

function l2normalise(vector: Float32Array): Float32Array {
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm) || 1;
  return vector.map((value) => value / norm);
}

const normalisedRows = (output: ort.Tensor, count: number): Float32Array[] => rowsOf(output, count).map(l2normalise);

/**
 * CLIP zero-shot matching: a text-tower pipeline and a vision-tower pipeline, each batched. The
 * text embedding of every prompt is cached (LRU), so repeated labels cost no inference.
 */
export async function loadClipMatcher(
  context: PipelineContext,
  id: string,
  options: { template: string; cacheSize: number },
): Promise<ClipMatcher> {
  const model = await loadModel(context, id, 'zero-shot-image-classification', ['text', 'vision']);
  const { entry } = model;
  const spec = entry.preprocess;
  if (!spec)
    throw new UserFacingError(`Model "${id}" has no preprocess settings in the manifest.`, {
      code: 'manifest_invalid',
    });
  const tokenizer = await loadTokenizer(model.dir, id);
  const [text, vision] = [model.sessions.text!, model.sessions.vision!];
  const names = {
    ids: entry.inputs.ids ?? 'input_ids',
    mask: entry.inputs.mask ?? 'attention_mask',
    pixels: entry.inputs.pixels ?? 'pixel_values',
  };
  const maxTokens = entry.maxTokens ?? 77;
  const dims = [3, spec.size.height, spec.size.width];
  const logitScale = entry.logitScale ?? 100;

  const [textTower, visionTower] = await Promise.all([
    createPipeline(
      context,
      model,
      {
        prepare: (prompt: string) => prompt,
        runBatch: async (prompts) => {
          const encoded = tokenize(tokenizer, [...prompts], maxTokens);
          const feeds: Record<string, ort.Tensor> = {};
          if (text.session.inputNames.includes(names.ids)) feeds[names.ids] = encoded.ids;
          if (text.session.inputNames.includes(names.mask)) feeds[names.mask] = encoded.mask;
          return normalisedRows(
            await runForOutput(text, feeds, entry.outputs.textEmbeds ?? 'text_embeds', id),
            prompts.length,
          );
        },
        finish: (embedding: Float32Array) => ({ embedding }),
        warmUpItem: 'warm up',
      },
      'text',
    ),
    createPipeline(
      context,
      model,
      {
        prepare: (image: DecodedImage): Promise<ModelInput> => prepareDecoded(image, spec),
        runBatch: async (items) =>
          normalisedRows(
            await runForOutput(
              vision,
              {
                [names.pixels]: stack(
                  items.map((item) => item.tensor),
                  dims,
                ),
              },
              entry.outputs.imageEmbeds ?? 'image_embeds',
              id,
            ),
            items.length,
          ),
        finish: (embedding: Float32Array, _image: DecodedImage, item: ModelInput) => ({ embedding, preview: item.rgb }),
        warmUpItem: {
          tensor: new Float32Array(dims.reduce((a, b) => a * b, 1)),
          rgb: { data: Buffer.alloc(0), width: 0, height: 0 },
        },
      },
      'vision',
    ),
  ]);
  const cache = new LruCache<string, Float32Array>(options.cacheSize);

  const embedPrompts = async (prompts: readonly string[]): Promise<{ embeddings: Float32Array[]; hits: number }> => {
    const cached = prompts.map((prompt) => cache.get(prompt));
    const missing = prompts.filter((_, index) => !cached[index]);
    const fresh = missing.length > 0 ? await textTower.runMany(missing) : [];
    fresh.forEach((result, index) => cache.set(missing[index]!, result.embedding));
    let next = 0;
    const embeddings = cached.map((embedding) => embedding ?? fresh[next++]!.embedding);
    return { embeddings, hits: prompts.length - missing.length };
  };

  return {
    async embed(image, submitOptions = {}) {
      return (await visionTower.run(image, submitOptions)).embedding;
    },
    async match(image, labels, submitOptions = {}) {
      const started = performance.now();
      const prompts = labels.map((label) => options.template.replace('{}', label));
      const [seen, texts] = await Promise.all([visionTower.run(image, submitOptions), embedPrompts(prompts)]);
      const cosines = texts.embeddings.map((embedding) =>
        embedding.reduce((sum, value, index) => sum + value * seen.embedding[index]!, 0),
      );
      const scores = softmax(cosines.map((cosine) => cosine * logitScale));
      const matches = labels
        .map((label, index) => ({ label, prompt: prompts[index]!, score: scores[index]!, cosine: cosines[index]! }))
        .sort((a, b) => b.score - a.score);
      return {
        model: model.identity,
        matches,
        logitScale,
        template: options.template,
        textCache: { hits: texts.hits, misses: prompts.length - texts.hits },
        preview: seen.preview,
        timings: { ...seen.timings, totalMs: performance.now() - started },
      };
    },
  };
}
