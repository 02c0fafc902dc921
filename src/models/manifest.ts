import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { UserFacingError } from '../util/errors.js';

const sha256 = z.string().regex(/^[a-f0-9]{64}$/, 'must be 64 lowercase hex digits');
const relativePath = z
  .string()
  .min(1)
  .refine(
    (value) => !isAbsolute(value) && !value.split(/[\\/]/).includes('..'),
    'must be a relative path inside the model folder',
  );
const precision = z.enum(['fp32', 'fp16', 'q8', 'int8']);
export type Precision = z.infer<typeof precision>;

const modelFile = z.strictObject({
  path: relativePath,
  sha256: sha256.optional(),
  url: z.url().optional(),
  /** Only fetched when this precision is the one in use; files without one are always needed. */
  precision: precision.optional(),
  /** For models split into towers (CLIP): which part this file is. */
  part: z.string().min(1).optional(),
});
export type ModelFile = z.infer<typeof modelFile>;

const source = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('huggingface'),
    repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'must be owner/name'),
    revision: z.string().min(1),
  }),
  z.strictObject({ type: z.literal('url') }),
  z.strictObject({ type: z.literal('local'), path: z.string().min(1) }),
]);

const triple = z.tuple([z.number(), z.number(), z.number()]);
const imagePreprocess = z.strictObject({
  resize: z.enum(['shorter-side-then-crop', 'squash']),
  /** Target of the shorter side (crop mode) before the centre crop. */
  shorterSide: z.number().int().positive().optional(),
  size: z.strictObject({ width: z.number().int().positive(), height: z.number().int().positive() }),
  interpolation: z.enum(['bilinear', 'bicubic', 'nearest']).default('bilinear'),
  rescale: z
    .number()
    .positive()
    .default(1 / 255),
  mean: triple,
  std: triple,
  channelOrder: z.enum(['rgb', 'bgr']).default('rgb'),
  layout: z.enum(['nchw', 'nhwc']).default('nchw'),
  dtype: z.enum(['float32', 'uint8']).default('float32'),
});
export type ImagePreprocess = z.infer<typeof imagePreprocess>;

const labels = z.union([
  z.strictObject({ file: relativePath }),
  z.strictObject({ fromConfig: relativePath }),
  z.strictObject({ inline: z.array(z.string()).min(2) }),
]);

const modelEntry = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be lowercase letters, digits, ".", "_" or "-"'),
    name: z.string().min(1),
    task: z.enum([
      'image-classification',
      'zero-shot-image-classification',
      'text-classification',
      'fill-mask',
      'tokenizer',
    ]),
    architecture: z.enum(['cnn', 'vit', 'clip', 'transformer', 'tokenizer']),
    license: z.string().optional(),
    source,
    files: z.array(modelFile).min(1),
    preprocess: imagePreprocess.optional(),
    labels: labels.optional(),
    inputs: z.record(z.string(), z.string()).default({}),
    outputs: z.record(z.string(), z.string()).default({}),
    /** CLIP's learned temperature, exp(logit_scale); 100 for the OpenAI checkpoints. */
    logitScale: z.number().positive().optional(),
    maxTokens: z.number().int().positive().optional(),
    /** Side of the square patches a ViT-style model cuts its input into. */
    patchSize: z.number().int().positive().optional(),
  })
  .superRefine((entry, ctx) => {
    if (entry.source.type === 'url') {
      entry.files.forEach((file, index) => {
        if (!file.url)
          ctx.addIssue({
            code: 'custom',
            path: ['files', index, 'url'],
            message: 'is required when source.type is "url"',
          });
      });
    }
    if (
      (entry.task === 'image-classification' || entry.task === 'zero-shot-image-classification') &&
      !entry.preprocess
    ) {
      ctx.addIssue({ code: 'custom', path: ['preprocess'], message: `is required for ${entry.task}` });
    }
    if ((entry.task === 'image-classification' || entry.task === 'text-classification') && !entry.labels) {
      ctx.addIssue({ code: 'custom', path: ['labels'], message: `is required for ${entry.task}` });
    }
  });
export type ModelEntry = z.infer<typeof modelEntry>;

const manifestSchema = z
  .strictObject({ $schemaVersion: z.literal(1), models: z.array(modelEntry).min(1) })
  .superRefine((manifest, ctx) => {
    const seen = new Set<string>();
    manifest.models.forEach((model, index) => {
      if (seen.has(model.id))
        ctx.addIssue({ code: 'custom', path: ['models', index, 'id'], message: `duplicate id "${model.id}"` });
      seen.add(model.id);
    });
  });

export interface Manifest {
  /** Folder the manifest lives in; label files and local sources are relative to it. */
  readonly baseDir: string;
  readonly models: ReadonlyMap<string, ModelEntry>;
}

/** Validates a parsed manifest; every problem is listed with its JSON path. */
export function parseManifest(json: unknown, baseDir: string): Manifest {
  const result = manifestSchema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new UserFacingError(`The model manifest is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      code: 'manifest_invalid',
    });
  }
  return { baseDir, models: new Map(result.data.models.map((model) => [model.id, model])) };
}

export function loadManifest(path: string): Manifest {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UserFacingError(`The model manifest ${path} could not be read.`, { code: 'manifest_missing' });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UserFacingError(`The model manifest ${path} is not valid JSON: ${(error as Error).message}`, {
      code: 'manifest_invalid',
    });
  }
  return parseManifest(json, dirname(resolve(path)));
}

export function getModel(manifest: Manifest, id: string): ModelEntry {
  const entry = manifest.models.get(id);
  if (!entry) {
    throw new UserFacingError(`Unknown model "${id}". Known models: ${[...manifest.models.keys()].join(', ')}.`, {
      code: 'unknown_model',
    });
  }
  return entry;
}

/** The weight files of a model for one precision, falling back to whatever it ships. */
export function weightFiles(entry: ModelEntry, wanted: Precision): { precision: Precision; files: ModelFile[] } {
  const weighted = entry.files.filter((file) => file.precision !== undefined);
  const available = [...new Set(weighted.map((file) => file.precision))];
  const order: Precision[] = [wanted, wanted === 'q8' ? 'int8' : 'fp32', 'fp32', 'q8', 'int8', 'fp16'];
  const chosen = order.find((candidate) => available.includes(candidate));
  if (!chosen) return { precision: wanted, files: [] };
  return { precision: chosen, files: weighted.filter((file) => file.precision === chosen) };
}

const ROLES: Record<ModelEntry['architecture'], string> = {
  cnn: 'CNN',
  vit: 'ViT',
  clip: 'CLIP',
  transformer: 'transformer',
  tokenizer: 'tokenizer',
};

/**
 * How a reply names a model, so that a reader who does not know the manifest ids knows which side
 * of the comparison is missing: "the ViT-B/16 (google/vit-base-patch16-224)", "the CNN MobileNetV2
 * (ONNX Model Zoo, int8)": its role, unless its name already says it. Starts with a capital letter.
 */
export function describeModel(entry: ModelEntry): string {
  const role = ROLES[entry.architecture];
  return entry.name.toLowerCase().includes(role.toLowerCase()) ? `The ${entry.name}` : `The ${role} ${entry.name}`;
}
