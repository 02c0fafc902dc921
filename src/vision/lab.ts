import { readFile } from 'node:fs/promises';
import type { ort } from '../inference/engine.js';
import {
  decodeModel,
  findProbes,
  withAttentionRollout,
  withExtraOutputs,
  type CamHead,
} from '../inference/graph-edit.js';
import { seededRandom } from '../util/random.js';
import {
  createPipeline,
  loadModel,
  sessionRunsOf,
  stack,
  type ModelIdentity,
  type Pipeline,
  type PipelineContext,
  type PipelineTimings,
} from '../inference/pipeline.js';
import type { ImagePreprocess } from '../models/manifest.js';
import { loadLabels, softmax } from '../models/labels.js';
import { UserFacingError } from '../util/errors.js';
import type { RgbImage } from '../util/image.js';
import { normalise, prepareDecoded, type DecodedImage, type ModelInput } from './preprocess.js';

/**
 * The lab's image experiments over one batched session per model: where a model looked
 * (class activation map, attention rollout, occlusion) and how its answer survives hidden patches.
 */

export type SaliencyMethod = 'class activation map' | 'attention rollout' | 'occlusion sensitivity';

interface Extra {
  data: Float32Array;
  /** Without the batch axis. */
  dims: number[];
}

interface ProbeRaw {
  logits: Float32Array;
  extras: Record<string, Extra>;
}

export interface ProbeOutput {
  probabilities: Float64Array;
  extras: Record<string, Extra>;
}

/** The name of the extra output that holds the class token's rollout row (see withAttentionRollout). */
export const ROLLOUT = 'attention_rollout';

/** A classifier whose session may return internal tensors too; its inputs are already prepared. */
export interface ImageProbe {
  pipeline: Pipeline<ModelInput, ModelInput, ProbeRaw, ProbeOutput>;
  labels: string[];
  spec: ImagePreprocess;
  patchSize: number | undefined;
  /** What the graph offers: a CAM head, attention probabilities, or neither (occlusion only). */
  method: SaliencyMethod;
  cam: CamHead | undefined;
  attention: string[];
}

function perItem(tensor: ort.Tensor, count: number): Extra[] {
  const dims = tensor.dims.slice(1).map(Number);
  const size = dims.reduce((a, b) => a * b, 1);
  const data = tensor.data as Float32Array;
  return Array.from({ length: count }, (_, index) => ({ data: data.slice(index * size, (index + 1) * size), dims }));
}

/**
 * Loads a classifier for the lab. With `probes`, the session is opened on the graph edited in
 * memory to also return the pre-pooling feature map (CNN) or every attention Softmax (ViT); a
 * model with neither is still usable, for occlusion sensitivity.
 */
export async function loadImageProbe(context: PipelineContext, id: string, probes: boolean): Promise<ImageProbe> {
  const model = await loadModel(context, id, 'image-classification', ['model']);
  const { entry } = model;
  const spec = entry.preprocess;
  if (!spec)
    throw new UserFacingError(`Model "${id}" has no preprocess settings in the manifest.`, {
      code: 'manifest_invalid',
    });
  const labels = await loadLabels(entry, context.store.manifest.baseDir, model.dir);
  const plain = model.sessions.model!;
  let session = plain;
  let cam: CamHead | undefined;
  let attention: string[] = [];
  if (probes) {
    const graph = decodeModel(new Uint8Array(await readFile(plain.path)));
    const found = findProbes(graph);
    cam = found.cam && found.cam.classes === labels.length ? found.cam : undefined;
    attention = cam ? [] : found.attention;
    // The attention rollout is computed inside the graph: the twelve 12×197×197 attention
    // tensors of a ViT-B/16 stay in onnxruntime, and only the class token's row comes out.
    if (cam)
      session = await context.engine.editedSession(plain.path, 'probes', () =>
        withExtraOutputs(graph, [cam!.featureMap]),
      );
    else if (attention.length > 0)
      session = await context.engine.editedSession(plain.path, 'probes', () =>
        withAttentionRollout(graph, attention, ROLLOUT, entry.inputs.pixels),
      );
  }
  const method: SaliencyMethod = cam
    ? 'class activation map'
    : attention.length
      ? 'attention rollout'
      : 'occlusion sensitivity';
  const input = entry.inputs.pixels ?? session.session.inputNames[0]!;
  const output = entry.outputs.logits ?? plain.session.outputNames[0]!;
  const dims = spec.layout === 'nchw' ? [3, spec.size.height, spec.size.width] : [spec.size.height, spec.size.width, 3];
  const size = dims.reduce((a, b) => a * b, 1);
  const wanted = cam ? [cam.featureMap] : attention.length > 0 ? [ROLLOUT] : [];
  const loaded = { ...model, sessions: { model: session } };
  const pipeline = await createPipeline(
    context,
    loaded,
    {
      prepare: (item: ModelInput) => item,
      runBatch: async (items) => {
        const feeds = {
          [input]: stack(
            items.map((item) => item.tensor),
            dims,
          ),
        };
        const results = await session.session.run(feeds);
        const logits = results[output];
        if (!logits) throw new Error(`${id}: output "${output}" missing`);
        const extras = wanted.map((name) => {
          const tensor = results[name];
          if (!tensor) throw new Error(`${id}: the edited graph did not return "${name}"`);
          return perItem(tensor, items.length);
        });
        return perItem(logits, items.length).map((row, index) => ({
          logits: row.data,
          extras: Object.fromEntries(wanted.map((name, e) => [name, extras[e]![index]!])),
        }));
      },
      finish: (raw) => ({ probabilities: softmax(raw.logits), extras: raw.extras }),
      warmUpItem: {
        tensor: spec.dtype === 'uint8' ? new Uint8Array(size) : new Float32Array(size),
        rgb: { data: Buffer.alloc(0), width: 0, height: 0 },
      },
    },
    probes ? 'lab-probes' : 'lab',
  );
  return { pipeline, labels, spec, patchSize: entry.patchSize, method, cam, attention };
}

const argmax = (values: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < values.length; i += 1) if (values[i]! > values[best]!) best = i;
  return best;
};

/**
 * A map's brightest cell (0-based; the first of equals), or undefined for a blank map (every cell
 * 0), which has no peak: naming its first cell would point at nothing.
 */
export function brightestCell(values: readonly (readonly number[])[]): { row: number; col: number } | undefined {
  let best: { row: number; col: number } | undefined;
  let brightest = 0;
  for (const [row, cells] of values.entries())
    for (const [col, value] of cells.entries()) if (value > brightest) [best, brightest] = [{ row, col }, value];
  return best;
}

/** Scales non-negative values so the largest is 1 (all zeros stay zeros), as rows of a grid. */
export function normalisedGrid(values: ArrayLike<number>, rows: number, cols: number): number[][] {
  let max = 0;
  for (let i = 0; i < rows * cols; i += 1) max = Math.max(max, values[i]!);
  return Array.from({ length: rows }, (_, r) =>
    Array.from({ length: cols }, (_, c) => (max > 0 ? Math.max(0, values[r * cols + c]!) / max : 0)),
  );
}

/**
 * Class activation map (Zhou et al. 2016): the feature map [C, h, w] weighted by the classifier's
 * weights for one class, Σ_c W[c, class] · F[c], negative evidence cut at zero, scaled to [0, 1].
 */
export function classActivationMap(features: Extra, head: CamHead, classIndex: number): number[][] {
  const [channels, rows, cols] = features.dims as [number, number, number];
  const plane = rows * cols;
  const map = new Float64Array(plane);
  for (let c = 0; c < channels; c += 1) {
    const weight = head.weights[c * head.classes + classIndex]!;
    if (weight === 0) continue;
    for (let p = 0; p < plane; p += 1) map[p]! += weight * features.data[c * plane + p]!;
  }
  return normalisedGrid(map, rows, cols);
}

/**
 * The attention rollout's map (Abnar & Zuidema 2020, see withAttentionRollout in graph-edit.ts) from the class
 * token's row over every token: the patch tokens' share as a grid, scaled to [0, 1].
 */
export function rolloutMap(row: Extra): { values: number[][]; rows: number; cols: number } {
  const tokens = row.data.length;
  // Patch tokens are the last side² tokens (after [CLS], and a distillation token if any).
  const side = Math.floor(Math.sqrt(tokens - 1));
  const start = tokens - side * side;
  return { values: normalisedGrid(row.data.subarray(start, tokens), side, side), rows: side, cols: side };
}

/** The mean colour of an image, the neutral fill for hidden patches and occluded cells. */
export function meanColour(rgb: RgbImage): [number, number, number] {
  const sums = [0, 0, 0];
  const pixels = rgb.width * rgb.height;
  for (let i = 0; i < pixels * 3; i += 1) sums[i % 3]! += rgb.data[i]!;
  return sums.map((sum) => Math.round(sum / Math.max(1, pixels))) as [number, number, number];
}

interface Cell {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** A copy of the image with these rectangles filled with one colour (in pixel space, before normalisation). */
export function fillCells(rgb: RgbImage, cells: readonly Cell[], colour: readonly [number, number, number]): RgbImage {
  const data = Buffer.from(rgb.data);
  for (const cell of cells)
    for (let y = cell.top; y < Math.min(rgb.height, cell.top + cell.height); y += 1)
      for (let x = cell.left; x < Math.min(rgb.width, cell.left + cell.width); x += 1) {
        const at = (y * rgb.width + x) * 3;
        data[at] = colour[0];
        data[at + 1] = colour[1];
        data[at + 2] = colour[2];
      }
  return { data, width: rgb.width, height: rgb.height };
}

/** A grid of `rows` × `cols` cells covering the image, cell edges rounded to whole pixels. */
export function gridCells(width: number, height: number, rows: number, cols: number): Cell[] {
  const cells: Cell[] = [];
  for (let r = 0; r < rows; r += 1)
    for (let c = 0; c < cols; c += 1) {
      const left = Math.round((c * width) / cols);
      const top = Math.round((r * height) / rows);
      cells.push({
        left,
        top,
        width: Math.round(((c + 1) * width) / cols) - left,
        height: Math.round(((r + 1) * height) / rows) - top,
      });
    }
  return cells;
}

function modelInput(rgb: RgbImage, spec: ImagePreprocess): ModelInput {
  return { tensor: normalise(rgb, spec).tensor, rgb };
}

export interface SaliencyMap {
  model: ModelIdentity;
  method: SaliencyMethod;
  label: string;
  index: number;
  score: number;
  rows: number;
  cols: number;
  /** rows × cols, in [0, 1], row-major. */
  values: number[][];
  /** The pixels the model saw. */
  preview: RgbImage;
  /** Images the session ran for this map (1, or 1 + the occluded cells), and in how many runs. */
  images: number;
  runs: number;
  timings: PipelineTimings;
}

/** The occlusion grid: the ViT's patch grid when it is small, else 7×7 (the cost is one image per cell). */
function occlusionGrid(spec: ImagePreprocess, patchSize: number | undefined): { rows: number; cols: number } {
  const size = Math.min(spec.size.width, spec.size.height);
  const cells = patchSize ? Math.min(7, Math.floor(size / patchSize)) : Math.min(7, size);
  return { rows: cells, cols: cells };
}

/** Where one model looked, by the method its graph allows, from one batched request. */
export async function saliencyMap(
  probe: ImageProbe,
  image: DecodedImage,
  onPosition?: (n: number) => void,
): Promise<SaliencyMap> {
  const prepared = await prepareDecoded(image, probe.spec);
  const original: ModelInput = { tensor: prepared.tensor, rgb: prepared.rgb };
  const base = { model: probe.pipeline.identity, method: probe.method, preview: prepared.rgb };
  if (probe.method !== 'occlusion sensitivity') {
    const result = await probe.pipeline.run(original, { onPosition });
    const index = argmax(result.probabilities);
    const top = { label: probe.labels[index] ?? `class ${index}`, index, score: result.probabilities[index]! };
    if (probe.cam) {
      const features = result.extras[probe.cam.featureMap]!;
      const values = classActivationMap(features, probe.cam, index);
      return {
        ...base,
        ...top,
        rows: values.length,
        cols: values[0]?.length ?? 0,
        values,
        images: 1,
        runs: 1,
        timings: result.timings,
      };
    }
    const rollout = rolloutMap(result.extras[ROLLOUT]!);
    return { ...base, ...top, ...rollout, images: 1, runs: 1, timings: result.timings };
  }
  const { rows, cols } = occlusionGrid(probe.spec, probe.patchSize);
  const fill = meanColour(prepared.rgb);
  const cells = gridCells(prepared.rgb.width, prepared.rgb.height, rows, cols);
  const variants = [original, ...cells.map((cell) => modelInput(fillCells(prepared.rgb, [cell], fill), probe.spec))];
  const results = await probe.pipeline.runMany(variants, { onPosition });
  const first = results[0]!;
  const index = argmax(first.probabilities);
  const p0 = first.probabilities[index]!;
  const drops = results.slice(1).map((result) => Math.max(0, p0 - result.probabilities[index]!));
  return {
    ...base,
    label: probe.labels[index] ?? `class ${index}`,
    index,
    score: p0,
    rows,
    cols,
    values: normalisedGrid(drops, rows, cols),
    images: variants.length,
    runs: sessionRunsOf(results.map((result) => result.timings)),
    timings: { ...first.timings, totalMs: Math.max(...results.map((result) => result.timings.totalMs)) },
  };
}

/** The patches hidden at each ratio: one seeded order, so each ratio hides the previous ones and more. */
export function maskOrder(patches: number, seed: number): number[] {
  const random = seededRandom(seed);
  const order = Array.from({ length: patches }, (_, index) => index);
  for (let i = order.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

export interface MaskStep {
  ratio: number;
  hidden: number;
  label: string;
  index: number;
  /** The probability of the unmasked image's top-1 class at this ratio. */
  score: number;
  keptTop1: boolean;
  image: RgbImage;
}

export interface MaskCurve {
  model: ModelIdentity;
  /** Side of the square patches hidden, in pixels of the model's input. */
  patchSize: number;
  patches: number;
  fill: [number, number, number];
  steps: MaskStep[];
  runs: number;
  timings: PipelineTimings;
}

/** The masking patch: 16 pixels as MAE uses, smaller on tiny inputs so at least a 4×4 grid remains. */
export const maskPatchSize = (spec: ImagePreprocess): number =>
  Math.max(1, Math.min(16, Math.floor(Math.min(spec.size.width, spec.size.height) / 4)));

/** Hides a seeded share of the patches at each ratio (mean colour, pixel space) and runs every ratio in one request. */
export async function maskCurve(
  probe: ImageProbe,
  image: DecodedImage,
  ratios: readonly number[],
  seed: number,
  onPosition?: (n: number) => void,
): Promise<MaskCurve> {
  const prepared = await prepareDecoded(image, probe.spec);
  const patch = maskPatchSize(probe.spec);
  const cols = Math.ceil(prepared.rgb.width / patch);
  const rows = Math.ceil(prepared.rgb.height / patch);
  const cells = Array.from({ length: rows * cols }, (_, i) => ({
    left: (i % cols) * patch,
    top: Math.floor(i / cols) * patch,
    width: patch,
    height: patch,
  }));
  const order = maskOrder(cells.length, seed);
  const fill = meanColour(prepared.rgb);
  const hiddenCounts = ratios.map((ratio) => Math.round(ratio * cells.length));
  const images = hiddenCounts.map((count) =>
    fillCells(
      prepared.rgb,
      order.slice(0, count).map((i) => cells[i]!),
      fill,
    ),
  );
  const results = await probe.pipeline.runMany(
    images.map((rgb) => modelInput(rgb, probe.spec)),
    { onPosition },
  );
  // The reference class is the unmasked image's top-1, whether or not 0 is among the ratios.
  const reference =
    ratios.indexOf(0) >= 0
      ? argmax(results[ratios.indexOf(0)]!.probabilities)
      : argmax((await probe.pipeline.run(modelInput(prepared.rgb, probe.spec))).probabilities);
  const steps = results.map((result, i) => {
    const index = argmax(result.probabilities);
    return {
      ratio: ratios[i]!,
      hidden: hiddenCounts[i]!,
      label: probe.labels[index] ?? `class ${index}`,
      index,
      score: result.probabilities[reference]!,
      keptTop1: index === reference,
      image: images[i]!,
    };
  });
  return {
    model: probe.pipeline.identity,
    patchSize: patch,
    patches: cells.length,
    fill,
    steps,
    runs: sessionRunsOf(results.map((result) => result.timings)),
    timings: { ...results[0]!.timings, totalMs: Math.max(...results.map((result) => result.timings.totalMs)) },
  };
}
