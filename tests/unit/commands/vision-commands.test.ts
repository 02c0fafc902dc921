import sharp from 'sharp';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { loadCommands } from '../../../src/command/loader.js';
import { runAndPresent } from '../../../src/command/run.js';
import { ort } from '../../../src/inference/engine.js';
import { writeSlowModel } from '../../fixtures/slow-model.js';
import { solidPng, testServices } from '../../helpers.js';

const commands = await loadCommands();
const services = testServices();
afterAll(() => services.dispose());
const classify = commands.get('classify')!;
const match = commands.get('match')!;

describe('/classify', () => {
  it('runs the CNN and the ViT side by side and reports agreement, patches and a chart', async () => {
    const image = { name: 'red.png', bytes: await solidPng([255, 0, 0]) };
    const result = await runAndPresent(classify, { image, top: '3' }, services);
    const data = result.data as {
      results: Array<{ model: { id: string }; predictions: unknown[] }>;
      agreement: { top1Agrees: boolean; sharedInTopK: number };
      patches: { patches: number; tokens: number; patchSize: number };
    };
    expect(data.results.map((r) => r.model.id)).toEqual(['tiny-cnn', 'tiny-vit']);
    expect(data.results.every((r) => r.predictions.length === 3)).toBe(true);
    // The tiny CNN says red; the tiny ViT's bias makes it say grey.
    expect(data.agreement.top1Agrees).toBe(false);
    expect(data.patches).toMatchObject({ patchSize: 4, patches: 16, tokens: 17 });
    expect(result.files.map((f) => f.name)).toEqual(['classify.png', 'patches.jpg']);
    const chart = await sharp(result.files[0]!.data).metadata();
    expect(chart.format).toBe('png');
    expect(chart.width).toBeGreaterThan(800);
    expect(result.embeds[0]!.footer).toMatch(/tiny-cnn · fp32 · cpu: .* ms \| tiny-vit · fp32 · cpu/);
  });

  it('leaves the image to the patch view when the ViT answers, and shows it in the chart when only the CNN runs', async () => {
    const image = { name: 'red.png', bytes: await solidPng([255, 0, 0]) };
    const redPixels = async (png: Buffer): Promise<number> => {
      const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
      let count = 0;
      for (let i = 0; i < data.length; i += info.channels)
        if (data[i] === 255 && data[i + 1] === 0 && data[i + 2] === 0) count += 1;
      return count;
    };
    const both = await runAndPresent(classify, { image }, services);
    expect(both.files.map((f) => f.name)).toEqual(['classify.png', 'patches.jpg']);
    expect(await redPixels(both.files[0]!.data)).toBe(0);
    const cnnOnly = await runAndPresent(classify, { image, model: 'cnn' }, services);
    expect(cnnOnly.files.map((f) => f.name)).toEqual(['classify.png']);
    expect(await redPixels(cnnOnly.files[0]!.data)).toBeGreaterThan(100 * 100);
  });

  it('still answers with one model when the other cannot load, and says why', async () => {
    const partial = testServices({ VISION_VIT_MODEL: 'mobilenetv2-missing' });
    const result = await runAndPresent(
      classify,
      { image: { name: 'blue.png', bytes: await solidPng([0, 0, 255]) } },
      partial,
    );
    const data = result.data as {
      results: Array<{ model: { id: string } }>;
      unavailable: Array<{ model: string; reason: string }>;
    };
    expect(data.results.map((r) => r.model.id)).toEqual(['tiny-cnn']);
    expect(data.unavailable[0]).toMatchObject({ model: 'mobilenetv2-missing' });
    expect(data.unavailable[0]!.reason).toMatch(/Unknown model/);
    expect(result.text).toContain('mobilenetv2-missing unavailable');
    await partial.dispose();
  });

  it('rejects out-of-range options and bad images before loading any model', async () => {
    // Services of its own: the shared ones have loaded models in the tests above.
    const fresh = testServices();
    onTestFinished(() => fresh.dispose());
    const image = { name: 'x.png', bytes: await solidPng([1, 1, 1]) };
    await expect(runAndPresent(classify, { image, top: '11' }, fresh)).rejects.toThrow(
      /top: must be a whole number from 1 to 10/,
    );
    await expect(runAndPresent(classify, {}, fresh)).rejects.toThrow(/image: an image attachment is required/);
    await expect(
      runAndPresent(classify, { image: { name: 'a.jpg', bytes: Buffer.from('GIF89a broken') } }, fresh),
    ).rejects.toThrow(/corrupt|not an image/);
    expect(await fresh.loaded()).toEqual([]);
    expect(fresh.engine.batcherStats()).toEqual({});
  });

  it('reports the queue position to requests waiting behind a running batch', async () => {
    const oneAtATime = testServices({ BATCH_MAX_SIZE: '1', ORT_WORKERS: '1' });
    await oneAtATime.vision.classifier('tiny-cnn');
    // A long run on the same inference worker holds the first CNN batch, so the others must queue behind it.
    const { session } = await oneAtATime.engine.session(await writeSlowModel());
    const n = 1200;
    const busy = session.run({ x: new ort.Tensor('float32', new Float32Array(n * n).fill(0.001), [n, n]) });
    const progress: string[] = [];
    const images = await Promise.all(Array.from({ length: 4 }, (_, i) => solidPng([i * 40, 0, 0])));
    await Promise.all(
      images.map((bytes) =>
        runAndPresent(classify, { image: { name: 'x.png', bytes }, model: 'cnn' }, oneAtATime, (text) =>
          progress.push(text),
        ),
      ),
    );
    await busy;
    expect(progress).toContain('Classify: tiny-cnn is waiting in the queue, position 1');
    await oneAtATime.dispose();
  });

  it('keeps serving after a bad request', async () => {
    await expect(
      runAndPresent(classify, { image: { name: 'bad.png', bytes: Buffer.from('nope') } }, services),
    ).rejects.toThrow();
    const result = await runAndPresent(
      classify,
      { image: { name: 'ok.png', bytes: await solidPng([0, 255, 0]) }, model: 'cnn' },
      services,
    );
    expect(
      (result.data as { results: Array<{ predictions: Array<{ label: string }> }> }).results[0]!.predictions[0]!.label,
    ).toBe('green');
  });
});

describe('/match', () => {
  it('ranks the user labels with CLIP and attaches a chart', async () => {
    const result = await runAndPresent(
      match,
      { image: { name: 'blue.png', bytes: await solidPng([0, 0, 255]) }, labels: 'red, blue, cat' },
      services,
    );
    const data = result.data as {
      matches: Array<{ label: string; score: number; cosine: number }>;
      model: { id: string };
    };
    expect(data.model.id).toBe('tiny-clip');
    expect(data.matches[0]!.label).toBe('blue');
    expect(data.matches.reduce((sum, m) => sum + m.score, 0)).toBeCloseTo(1, 6);
    expect(result.files[0]!.name).toBe('match.png');
  });

  it('answers bad label lists with a clear message', async () => {
    const image = { name: 'x.png', bytes: await solidPng([0, 0, 255]) };
    await expect(runAndPresent(match, { image, labels: '   ' }, services)).rejects.toThrow(/Give 2–20 labels/);
    await expect(runAndPresent(match, { image, labels: 'cat' }, services)).rejects.toThrow(/at least 2/);
  });
});
