import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { TINY_ATTENTION, TINY_ATTENTION_PROBS, TINY_CNN } from '../../../scripts/fixtures/tiny-models.js';
import { Services } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/config.js';
import {
  decodeModel,
  findAttentionSoftmaxes,
  findCamHead,
  shuffledWeights,
  withAttentionRollout,
  withExtraOutputs,
} from '../../../src/inference/graph-edit.js';
import { ort } from '../../../src/inference/engine.js';
import { classActivationMap, maskOrder, rolloutMap, ROLLOUT } from '../../../src/vision/lab.js';
import { encodeModel, FLOAT, node, valueInfo } from '../../../scripts/fixtures/onnx-graph.js';
import {
  FIXTURES_DIR,
  HAS_SHARED,
  ROOT,
  SHARED,
  SHARED_SKIP_REASON,
  silentLogger,
  tempDir,
  testServices,
} from '../../helpers.js';

const services = testServices({ BATCH_MAX_SIZE: '64' });
afterAll(() => services.dispose());

/** A 16×16 picture: red on the left half, blue on the right half. */
const halves = (): Promise<Buffer> => {
  const data = Buffer.alloc(16 * 16 * 3);
  for (let y = 0; y < 16; y += 1) for (let x = 0; x < 16; x += 1) data[(y * 16 + x) * 3 + (x < 8 ? 0 : 2)] = 255;
  return sharp(data, { raw: { width: 16, height: 16, channels: 3 } })
    .png()
    .toBuffer();
};

type Matrix = number[][];
const matmul = (a: Matrix, b: Matrix): Matrix =>
  a.map((row) => b[0]!.map((_, c) => row.reduce((sum, value, k) => sum + value * b[k]![c]!, 0)));
const square = (flat: readonly number[]): Matrix => [0, 1, 2, 3].map((r) => flat.slice(r * 4, r * 4 + 4));
const identity = (n: number): Matrix =>
  Array.from({ length: n }, (_, r) => Array.from({ length: n }, (_, c) => +(r === c)));

/**
 * The tiny attention model's forward pass and attention rollout worked out here, independently of
 * the code under test: full matrices, the rollout multiplied from the first layer up as Abnar &
 * Zuidema define it, the class token's row over the 4 patches scaled so the largest is 1.
 */
function rolloutByHand(patchTokens: Matrix): { attention: Matrix[][]; map: number[] } {
  const mean = [0, 1, 2, 3].map((d) => patchTokens.reduce((sum, token) => sum + token[d]!, 0) / patchTokens.length);
  let h: Matrix = [mean, ...patchTokens];
  const attention: Matrix[][] = [];
  for (let layer = 0; layer < TINY_ATTENTION.layers; layer += 1) {
    const [q, k, v] = [TINY_ATTENTION.query, TINY_ATTENTION.key, TINY_ATTENTION.value].map((w) => matmul(h, square(w)));
    const heads = [0, 1].map((head) =>
      q!.map((qi) => {
        const scores = k!.map((kj) => qi[2 * head]! * kj[2 * head]! + qi[2 * head + 1]! * kj[2 * head + 1]!);
        const exp = scores.map((score) => Math.exp(score));
        const total = exp.reduce((a, b) => a + b, 0);
        return exp.map((e) => e / total);
      }),
    );
    attention.push(heads);
    const context = h.map((_, i) =>
      [0, 1, 2, 3].map((d) => heads[d >> 1]![i]!.reduce((sum, p, j) => sum + p * v![j]![d]!, 0)),
    );
    h = h.map((token, i) => token.map((value, d) => value + context[i]![d]!));
  }
  const patches = classRowByHand(attention).slice(1);
  const max = Math.max(...patches);
  return { attention, map: patches.map((value) => value / max) };
}

/**
 * The rollout's class-token row as Abnar & Zuidema define it, with full matrices: per layer the
 * heads averaged, ½A + ½I, rows renormalised, multiplied from the first layer up; then row 0.
 */
function classRowByHand(attention: Matrix[][]): number[] {
  const tokens = attention[0]![0]!.length;
  let rollout = identity(tokens);
  for (const heads of attention) {
    const averaged = heads[0]!.map((row, r) =>
      row.map((_, c) => heads.reduce((sum, head) => sum + head[r]![c]!, 0) / heads.length),
    );
    const residual = averaged.map((row, r) => row.map((value, c) => 0.5 * value + 0.5 * +(r === c)));
    const normalised = residual.map((row) => row.map((value) => value / row.reduce((a, b) => a + b, 0)));
    rollout = matmul(normalised, rollout);
  }
  return rollout[0]!;
}

/** Item n's [heads, T, T] attention of a flat [N, heads, T, T] (or [N·heads, T, T]) tensor, as matrices. */
function headsOf(data: Float32Array, n: number, heads: number, tokens: number): Matrix[] {
  return Array.from({ length: heads }, (_, h) =>
    Array.from({ length: tokens }, (_, r) => {
      const at = ((n * heads + h) * tokens + r) * tokens;
      return [...data.subarray(at, at + tokens)];
    }),
  );
}

/** The normalised tokens of {@link halves}: red patches (left) and blue patches (right), [r, g, b, 1]. */
const RED: number[] = [2, -2, -2, 1];
const BLUE: number[] = [-2, -2, 2, 1];
const HALVES_PATCHES: Matrix = [RED, BLUE, RED, BLUE];

describe('editing the ONNX graph in memory', () => {
  it("finds the tiny CNN's pre-pooling feature map and its Gemm weights, and adds the feature map as an output", async () => {
    const model = decodeModel(await readFile(join(FIXTURES_DIR, 'tiny-cnn/model.onnx')));
    const head = findCamHead(model)!;
    expect(head).toMatchObject({ featureMap: 'feature_map', channels: 3, classes: 4 });
    expect([...head.weights].map((weight) => Math.round(weight * 1e6) / 1e6)).toEqual(TINY_CNN.weights);
    const session = await ort.InferenceSession.create(withExtraOutputs(model, [head.featureMap]));
    expect(session.outputNames).toEqual(['logits', 'feature_map']);
    const result = await session.run({
      pixel_values: new ort.Tensor('float32', new Float32Array(3 * 16 * 16).fill(1), [1, 3, 16, 16]),
    });
    expect(result.feature_map!.dims).toEqual([1, 3, 4, 4]);
    await session.release();
  });

  it('finds no attention Softmax in the tiny ViT fixture, so it falls back to occlusion', async () => {
    const model = decodeModel(await readFile(join(FIXTURES_DIR, 'tiny-vit/model.onnx')));
    expect(findAttentionSoftmaxes(model)).toEqual([]);
  });

  it("finds the tiny attention model's two Softmaxes, whose outputs are the attention worked out by hand", async () => {
    const model = decodeModel(await readFile(join(FIXTURES_DIR, 'tiny-attention/model.onnx')));
    expect(findAttentionSoftmaxes(model)).toEqual(TINY_ATTENTION_PROBS);
    const session = await ort.InferenceSession.create(withExtraOutputs(model, TINY_ATTENTION_PROBS));
    const pixels = new Float32Array(3 * 16 * 16);
    for (let y = 0; y < 16; y += 1)
      for (let x = 0; x < 16; x += 1) {
        const colour = x < 8 ? RED : BLUE;
        for (let c = 0; c < 3; c += 1) pixels[c * 256 + y * 16 + x] = colour[c]!;
      }
    const result = await session.run({ pixel_values: new ort.Tensor('float32', pixels, [1, 3, 16, 16]) });
    const { attention } = rolloutByHand(HALVES_PATCHES);
    for (const [layer, name] of TINY_ATTENTION_PROBS.entries()) {
      const tensor = result[name]!;
      expect(tensor.dims).toEqual([1, 2, 5, 5]);
      const expected = attention[layer]!.flat(2);
      [...(tensor.data as Float32Array)].forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 6));
    }
    await session.release();
  });

  it('rolls the attention out inside the graph, in the inference worker: only the class token row leaves the session, equal to the rollout here', async () => {
    const path = join(FIXTURES_DIR, 'tiny-attention/model.onnx');
    const model = decodeModel(await readFile(path));
    const edited = await services.engine.editedSession(path, 'rollout-test', () =>
      withAttentionRollout(model, TINY_ATTENTION_PROBS, ROLLOUT),
    );
    const pixels = Float32Array.from({ length: 2 * 3 * 16 * 16 }, (_, i) => ((i * 7919) % 13) / 6 - 1);
    const feeds = { pixel_values: new ort.Tensor('float32', pixels, [2, 3, 16, 16]) };
    const remote = await edited.session.run(feeds);
    expect(Object.keys(remote).sort()).toEqual([ROLLOUT, 'logits']);
    expect(remote[ROLLOUT]!.dims).toEqual([2, 5]);
    // The attention itself, from the same graph with its Softmaxes as outputs, rolled out here by full matrices.
    const local = await ort.InferenceSession.create(withExtraOutputs(model, TINY_ATTENTION_PROBS));
    const all = await local.run(feeds);
    for (let n = 0; n < 2; n += 1) {
      const expected = classRowByHand(
        TINY_ATTENTION_PROBS.map((name) => headsOf(all[name]!.data as Float32Array, n, 2, 5)),
      );
      const row = [...(remote[ROLLOUT]!.data as Float32Array)].slice(n * 5, n * 5 + 5);
      row.forEach((value, c) => expect(value).toBeCloseTo(expected[c]!, 6));
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    }
    await local.release();
  });
});

describe('saliency maps by hand', () => {
  it('weights each cell of the feature map by the class weights and scales the result to [0, 1]', () => {
    const features = { dims: [2, 1, 2], data: Float32Array.from([1, 3, 2, 0]) };
    const head = { featureMap: 'f', channels: 2, classes: 2, weights: Float32Array.from([1, 0, 0.5, 1]) };
    // Class 0: 1·[1, 3] + 0.5·[2, 0] = [2, 3] → [2/3, 1]; class 1: [2, 0] → [1, 0].
    expect(classActivationMap(features, head, 0)).toEqual([[2 / 3, 1]]);
    expect(classActivationMap(features, head, 1)).toEqual([[1, 0]]);
  });

  it('rolls attention out through the layers with the residual identity, reading the class token row, whichever layout the heads have', async () => {
    // [CLS] + 4 patches, one head: [CLS] attends only to patch 3, every patch to itself.
    const tokens = 5;
    const layer = new Float32Array(tokens * tokens);
    for (let r = 0; r < tokens; r += 1) layer[r * tokens + (r === 0 ? 3 : r)] = 1;
    /** The rollout of `layers` layers fed as graph inputs shaped `dims` (a batch of one). */
    const rollout = async (layers: number, dims: number[]): Promise<Float32Array> => {
      const names = Array.from({ length: layers }, (_, l) => `attention_${l}`);
      const graph = decodeModel(
        encodeModel({
          name: 'attention_only',
          input: [valueInfo('pixels', FLOAT, [1, 1]), ...names.map((name) => valueInfo(name, FLOAT, dims))],
          output: [valueInfo('pixels_out', FLOAT, [1, 1])],
          node: [node('Identity', ['pixels'], ['pixels_out'])],
        }),
      );
      const session = await ort.InferenceSession.create(withAttentionRollout(graph, names, ROLLOUT));
      const feeds: Record<string, ort.Tensor> = { pixels: new ort.Tensor('float32', new Float32Array(1), [1, 1]) };
      for (const name of names) feeds[name] = new ort.Tensor('float32', layer, dims);
      const row = (await session.run(feeds))[ROLLOUT]!;
      await session.release();
      expect(row.dims).toEqual([1, tokens]);
      return row.data as Float32Array;
    };
    // One layer: row 0 of ½A + ½I is ½ on [CLS] and ½ on patch 3.
    expect([...(await rollout(1, [1, 1, tokens, tokens]))]).toEqual([0.5, 0, 0, 0.5, 0]);
    const once = rolloutMap({ data: await rollout(1, [1, 1, tokens, tokens]), dims: [tokens] });
    expect(once).toMatchObject({ rows: 2, cols: 2 });
    expect(once.values).toEqual([
      [0, 0],
      [1, 0],
    ]);
    // Two layers: e₀ᵀ(½A + ½I)² = ¼[CLS] + ¼·(patch 3 via [CLS]) + ½·patch 3: [¼, 0, 0, ¾, 0].
    expect([...(await rollout(2, [1, 1, tokens, tokens]))]).toEqual([0.25, 0, 0, 0.75, 0]);
    // PyTorch's nn.MultiheadAttention layout, [N·heads, T, T]: the same rollout.
    expect([...(await rollout(2, [1, tokens, tokens]))]).toEqual([0.25, 0, 0, 0.75, 0]);
  });

  it('reads [N·heads, T, T] attention batch-major: two images of two heads each get their own rollout', async () => {
    const [batch, heads, tokens] = [2, 2, 5];
    // Random row-stochastic attention, different for every image, head and layer.
    const attention = (seed: number): Float32Array => {
      const data = Float32Array.from({ length: batch * heads * tokens * tokens }, (_, i) => ((i * seed) % 17) + 1);
      for (let row = 0; row < data.length; row += tokens) {
        const sum = data.subarray(row, row + tokens).reduce((a, b) => a + b, 0);
        for (let c = 0; c < tokens; c += 1) data[row + c]! /= sum;
      }
      return data;
    };
    const layers = [attention(7), attention(11)];
    const graph = decodeModel(
      encodeModel({
        name: 'attention_only',
        input: [
          valueInfo('pixels', FLOAT, ['batch', 1]),
          ...layers.map((_, l) => valueInfo(`attention_${l}`, FLOAT, ['batch_heads', tokens, tokens])),
        ],
        output: [valueInfo('pixels_out', FLOAT, ['batch', 1])],
        node: [node('Identity', ['pixels'], ['pixels_out'])],
      }),
    );
    const names = layers.map((_, l) => `attention_${l}`);
    const session = await ort.InferenceSession.create(withAttentionRollout(graph, names, ROLLOUT, 'pixels'));
    const feeds: Record<string, ort.Tensor> = {
      pixels: new ort.Tensor('float32', new Float32Array(batch), [batch, 1]),
    };
    layers.forEach((data, l) => (feeds[names[l]!] = new ort.Tensor('float32', data, [batch * heads, tokens, tokens])));
    const rows = (await session.run(feeds))[ROLLOUT]!;
    await session.release();
    expect(rows.dims).toEqual([batch, tokens]);
    for (let n = 0; n < batch; n += 1) {
      const expected = classRowByHand(layers.map((data) => headsOf(data, n, heads, tokens)));
      [...(rows.data as Float32Array)].slice(n * tokens, (n + 1) * tokens).forEach((value, c) => {
        expect(value).toBeCloseTo(expected[c]!, 6);
      });
    }
  });

  it('builds the rollout for the operator sets a model may declare (axes as attributes before 13 and 18, as inputs after)', async () => {
    const tokens = 5;
    const layer = new Float32Array(tokens * tokens);
    for (let r = 0; r < tokens; r += 1) layer[r * tokens + (r === 0 ? 3 : r)] = 1;
    for (const version of [11, 13, 18]) {
      const graph = decodeModel(
        encodeModel({
          name: 'attention_only',
          input: [
            valueInfo('pixels', FLOAT, [1, 1]),
            valueInfo('attention_0', FLOAT, [1, 1, tokens, tokens]),
            valueInfo('attention_1', FLOAT, [1, 1, tokens, tokens]),
          ],
          output: [valueInfo('pixels_out', FLOAT, [1, 1])],
          node: [node('Identity', ['pixels'], ['pixels_out'])],
        }),
      );
      graph.opsetImport = [{ domain: '', version }];
      const session = await ort.InferenceSession.create(
        withAttentionRollout(graph, ['attention_0', 'attention_1'], ROLLOUT),
      );
      const result = await session.run({
        pixels: new ort.Tensor('float32', new Float32Array(1), [1, 1]),
        attention_0: new ort.Tensor('float32', layer, [1, 1, tokens, tokens]),
        attention_1: new ort.Tensor('float32', layer, [1, 1, tokens, tokens]),
      });
      expect([...(result[ROLLOUT]!.data as Float32Array)], `opset ${version}`).toEqual([0.25, 0, 0, 0.75, 0]);
      await session.release();
    }
  });

  it('hides patches in one seeded order, so each ratio hides the previous ones', () => {
    expect(maskOrder(16, 7)).toEqual(maskOrder(16, 7));
    expect(maskOrder(16, 7)).not.toEqual(maskOrder(16, 8));
    expect([...maskOrder(16, 7)].sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => i));
  });
});

describe('saliency on the tiny models', () => {
  it("gives the tiny CNN's class activation map exactly: red wins, and the red half lights up", async () => {
    const outcome = await services.vision.saliency(await halves(), 'cnn');
    const [map] = outcome.results;
    expect(map).toMatchObject({ method: 'class activation map', label: 'red', rows: 4, cols: 4, images: 1 });
    // Red cells: (255/255 − 0.5)/0.25 = 2 for red, −2 for green and blue → 2·1 = 2; blue cells: −2 → 0.
    expect(map!.values).toEqual(Array.from({ length: 4 }, () => [1, 1, 0, 0]));
  });

  it("gives the tiny attention model's rollout exactly as worked out by hand, from one inference", async () => {
    const outcome = await services.vision.saliency(await halves(), 'tiny-attention');
    const [map] = outcome.results;
    expect(map).toMatchObject({ method: 'attention rollout', rows: 2, cols: 2, images: 1, runs: 1 });
    const expected = rolloutByHand(HALVES_PATCHES).map;
    // Head 0 favours red keys more strongly than head 1 favours blue ones: the red (left) patches lead.
    expect(expected[0]).toBeCloseTo(1, 12);
    expect(expected[2]).toBeCloseTo(1, 12);
    expect(expected[1]).toBeLessThan(0.99);
    map!.values.flat().forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 6));
  });

  it('labels the tiny ViT map as occlusion sensitivity and computes it from one batched run', async () => {
    const outcome = await services.vision.saliency(await halves(), 'vit');
    const [map] = outcome.results;
    expect(map).toMatchObject({ method: 'occlusion sensitivity', rows: 4, cols: 4, images: 17, runs: 1 });
    for (const row of map!.values) for (const value of row) expect(value).toBeGreaterThanOrEqual(0);
    expect(Math.max(...map!.values.flat())).toBe(1);
  });

  it('gives the same map twice, and a different one for the same architecture with shuffled weights', async () => {
    const first = (await services.vision.saliency(await halves(), 'cnn')).results[0]!;
    const again = (await services.vision.saliency(await halves(), 'cnn')).results[0]!;
    expect(again.values).toEqual(first.values);

    const dir = await tempDir();
    await mkdir(join(dir, 'tiny-cnn'));
    const bytes = await readFile(join(FIXTURES_DIR, 'tiny-cnn/model.onnx'));
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'tiny-cnn/model.onnx'), shuffledWeights(bytes, 3));
    await copyFile(join(FIXTURES_DIR, 'manifest.json'), join(dir, 'manifest.json'));
    const shuffled = new Services(
      parseConfig({
        MODELS_MANIFEST: join(dir, 'manifest.json'),
        MODELS_DIR: join(dir, 'store'),
        MODEL_DOWNLOADS: 'false',
        EXECUTION_PROVIDER: 'cpu',
        VISION_CNN_MODEL: 'tiny-cnn',
      }),
      silentLogger,
    );
    try {
      const random = (await shuffled.vision.saliency(await halves(), 'cnn')).results[0]!;
      expect(random.method).toBe('class activation map');
      expect(random.values).not.toEqual(first.values);
    } finally {
      await shuffled.dispose();
    }
  });
});

describe('hiding patches on the tiny models', () => {
  it('runs every ratio in one batch, keeps the top-1 at 0% and scores the unmasked top-1 class', async () => {
    const outcome = await services.vision.mask(await halves(), 'both', [0, 0.25, 0.5, 0.75, 0.9], 1);
    expect(outcome.results).toHaveLength(2);
    for (const curve of outcome.results) {
      expect(curve).toMatchObject({ patchSize: 4, patches: 16, runs: 1 });
      expect(curve.steps.map((step) => step.hidden)).toEqual([0, 4, 8, 12, 14]);
      expect(curve.steps[0]!.keptTop1).toBe(true);
      for (const step of curve.steps) {
        expect(step.score).toBeGreaterThan(0);
        expect(step.score).toBeLessThanOrEqual(1);
      }
    }
  });
});

describe.skipIf(!HAS_SHARED)('the real MobileNetV2 (int8) from ../shared', () => {
  if (!HAS_SHARED) console.warn(SHARED_SKIP_REASON);

  const realServices = async (modelFile: Buffer): Promise<Services> => {
    const modelsDir = await tempDir();
    await mkdir(join(modelsDir, 'mobilenetv2-int8'));
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(modelsDir, 'mobilenetv2-int8/mobilenetv2-12-int8.onnx'), modelFile);
    const manifest = JSON.parse(await readFile(join(ROOT, 'models/manifest.json'), 'utf8')) as {
      models: Array<{ id: string; files: Array<{ sha256?: string }> }>;
    };
    // The shuffled copy cannot match the pinned checksum: this manifest copy drops it.
    for (const model of manifest.models) for (const file of model.files) delete file.sha256;
    const labels = join(modelsDir, 'manifest');
    await mkdir(labels);
    await writeFile(join(labels, 'manifest.json'), JSON.stringify(manifest));
    await mkdir(join(labels, 'labels'));
    await copyFile(join(ROOT, 'models/labels/imagenet-1k.json'), join(labels, 'labels/imagenet-1k.json'));
    return new Services(
      parseConfig({
        MODELS_DIR: modelsDir,
        MODELS_MANIFEST: join(labels, 'manifest.json'),
        MODEL_DOWNLOADS: 'false',
        EXECUTION_PROVIDER: 'cpu',
      }),
      silentLogger,
    );
  };

  it('exposes tensor 627 and gives a 7×7 map in [0, 1], the same twice, and another with shuffled weights', async () => {
    const bytes = await readFile(join(SHARED, 'models/mobilenetv2-12-int8.onnx'));
    const head = findCamHead(decodeModel(bytes))!;
    expect(head).toMatchObject({ featureMap: '627', channels: 1280, classes: 1000 });
    const photo = await readFile(join(SHARED, 'images/chelsea.png'));
    const trained = await realServices(bytes);
    const random = await realServices(Buffer.from(shuffledWeights(bytes, 1, 64)));
    try {
      const map = (await trained.vision.saliency(photo, 'mobilenetv2-int8')).results[0]!;
      expect(map).toMatchObject({ method: 'class activation map', rows: 7, cols: 7 });
      expect(map.index).toBeGreaterThanOrEqual(281);
      expect(map.index).toBeLessThanOrEqual(285);
      const values = map.values.flat();
      expect(values).toHaveLength(49);
      expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...values)).toBe(1);
      expect((await trained.vision.saliency(photo, 'mobilenetv2-int8')).results[0]!.values).toEqual(map.values);
      const shuffledMap = (await random.vision.saliency(photo, 'mobilenetv2-int8')).results[0]!;
      const difference = shuffledMap.values.flat().reduce((sum, value, i) => sum + Math.abs(value - values[i]!), 0);
      expect(difference / 49).toBeGreaterThan(0.05);

      const masked = (await trained.vision.mask(photo, 'mobilenetv2-int8', [0, 0.25, 0.5, 0.75, 0.9], 1)).results[0]!;
      expect(masked).toMatchObject({ patchSize: 16, patches: 196, runs: 1 });
      expect(masked.steps[0]).toMatchObject({ keptTop1: true, index: map.index });
    } finally {
      await Promise.all([trained.dispose(), random.dispose()]);
    }
  }, 60_000);

  /**
   * A photo pasted into one quadrant of a blank canvas twice its size: the class activation map
   * must peak in that quadrant. The pipeline resizes the canvas' shorter side to 256 and crops the
   * centre 224, so the photo fills about 112×112 pixels in one corner of the crop; a cell of the
   * 7×7 map covers 32×32 pixels, so the cells whose centres lie in the quadrant are rows/columns
   * 0–2 (top, left) or 4–6 (bottom, right); the middle row and column straddle the boundary and
   * count for neither.
   */
  it.each([
    { photo: 'chelsea.png', quadrant: 'top-left', background: { r: 255, g: 255, b: 255 } },
    { photo: 'coffee.png', quadrant: 'bottom-right', background: { r: 128, g: 128, b: 128 } },
  ] as const)(
    'puts the peak of the activation map in the $quadrant quadrant where $photo was pasted',
    async ({ photo, quadrant, background }) => {
      const side = 448;
      const pasted = await sharp(await readFile(join(SHARED, 'images', photo)))
        .resize(side / 2, side / 2, { fit: 'cover' })
        .removeAlpha()
        .png()
        .toBuffer();
      const [top, left] = quadrant === 'top-left' ? [0, 0] : [side / 2, side / 2];
      const canvas = await sharp({ create: { width: side, height: side, channels: 3, background } })
        .composite([{ input: pasted, top, left }])
        .png()
        .toBuffer();
      const trained = await realServices(await readFile(join(SHARED, 'models/mobilenetv2-12-int8.onnx')));
      try {
        const map = (await trained.vision.saliency(canvas, 'mobilenetv2-int8')).results[0]!;
        expect(map).toMatchObject({ method: 'class activation map', rows: 7, cols: 7 });
        let best = { row: -1, col: -1, value: -1 };
        map.values.forEach((values, row) =>
          values.forEach((value, col) => {
            if (value > best.value) best = { row, col, value };
          }),
        );
        const inside = (cell: number): boolean => (quadrant === 'top-left' ? cell <= 2 : cell >= 4);
        const grid = map.values.map((row) => row.map((value) => value.toFixed(2)).join(' ')).join('\n');
        expect(
          inside(best.row) && inside(best.col),
          `${photo} (${map.label}) in the ${quadrant} quadrant: peak at row ${best.row}, column ${best.col}\n${grid}`,
        ).toBe(true);
      } finally {
        await trained.dispose();
      }
    },
    60_000,
  );
});
