import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { UserFacingError } from '../util/errors.js';
import type { ModelEntry } from './manifest.js';

const labelFile = z.union([
  z.array(z.string()),
  z.object({ labels: z.array(z.string()) }).transform((file) => file.labels),
]);
const hubConfig = z.object({ id2label: z.record(z.string(), z.string()) });

/** The class names of a model, in output order, from the manifest's folder, the model's config.json, or inline. */
export async function loadLabels(entry: ModelEntry, manifestDir: string, modelDir: string): Promise<string[]> {
  const spec = entry.labels;
  if (!spec)
    throw new UserFacingError(`Model "${entry.id}" has no labels in the manifest.`, { code: 'manifest_invalid' });
  if ('inline' in spec) return spec.inline;
  const path = 'file' in spec ? join(manifestDir, spec.file) : join(modelDir, spec.fromConfig);
  // Replies name the file as the manifest does (relative), never by its absolute path.
  const shown = 'file' in spec ? `labels file ${spec.file}` : `${entry.id}/${spec.fromConfig}`;
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    // A file system error's message carries the absolute path; its code says enough.
    const code = (error as { code?: unknown }).code;
    const problem =
      error instanceof SyntaxError
        ? `is not valid JSON (${error.message})`
        : code === 'ENOENT'
          ? 'is missing'
          : `is unreadable (${typeof code === 'string' ? code : 'unknown error'})`;
    throw new UserFacingError(`The labels of model "${entry.id}" could not be read: ${shown} ${problem}.`, {
      code: 'manifest_invalid',
    });
  }
  if ('file' in spec) {
    const parsed = labelFile.safeParse(json);
    if (!parsed.success)
      throw new UserFacingError(`The ${shown} is not a list of labels.`, { code: 'manifest_invalid' });
    return parsed.data;
  }
  const parsed = hubConfig.safeParse(json);
  if (!parsed.success) throw new UserFacingError(`${shown} has no id2label map.`, { code: 'manifest_invalid' });
  const entries = Object.entries(parsed.data.id2label).map(([index, label]) => [Number(index), label] as const);
  const labels: string[] = [];
  for (const [index, label] of entries) labels[index] = label;
  return Array.from(labels, (label, index) => label ?? `class ${index}`);
}

export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i += 1) max = Math.max(max, logits[i]!);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i += 1) {
    out[i] = Math.exp(logits[i]! - max);
    sum += out[i]!;
  }
  for (let i = 0; i < out.length; i += 1) out[i]! /= sum;
  return out;
}

export interface Prediction {
  label: string;
  score: number;
  index: number;
}

/** The k highest scores, best first. */
export function topK(scores: ArrayLike<number>, labels: readonly string[], k: number): Prediction[] {
  const indices = Array.from({ length: scores.length }, (_, index) => index);
  indices.sort((a, b) => scores[b]! - scores[a]!);
  return indices
    .slice(0, k)
    .map((index) => ({ label: labels[index] ?? `class ${index}`, score: scores[index]!, index }));
}
