import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { TINY_CNN, TINY_IMAGE_LABELS } from '../../../scripts/fixtures/tiny-models.js';
import type { SlashCommand } from '../../../src/command/definition.js';
import { loadCommands } from '../../../src/command/loader.js';
import { runAndPresent } from '../../../src/command/run.js';
import { textVariants, withTypos } from '../../../src/text/stress.js';
import { MAX_STRESS_SIDE, addGaussianNoise, stressVariants } from '../../../src/vision/stress.js';
import { solidPng, softmax, testServices } from '../../helpers.js';

const commands = await loadCommands();
const stress = commands.get('stress') as SlashCommand;
const stressText = commands.get('stress-text') as SlashCommand;
// The default cap (8) on purpose: an experiment's 11 images still leave as one batch.
const services = testServices();
afterAll(() => services.dispose());

interface StressJson {
  image: string;
  variants: Array<{
    name: string;
    strength: number;
    models: Array<{
      model: string;
      label: string;
      index: number;
      score: number;
      originalScore: number;
      keptTop1: boolean;
    }>;
  }>;
  models: Array<{
    model: { id: string; precision: string; executionProvider: string };
    timings: { batchSize: number };
  }>;
}

/** The tiny CNN's probabilities for an image of one colour, from its weights. */
function cnnScores(rgb: readonly number[]): number[] {
  const features = rgb.map((value) => (value / 255 - 0.5) / 0.25);
  return softmax(
    [0, 1, 2, 3].map((k) => features.reduce((sum, f, c) => sum + f * TINY_CNN.weights[c * 4 + k]!, TINY_CNN.bias[k]!)),
  );
}

const runs = (key: string): number => services.engine.batcherStats()[key]?.runs ?? 0;

describe('/stress', () => {
  it('runs the original and ten variants in one batch per model and scores the original top-1 under each', async () => {
    const image = { name: 'red.png', bytes: await solidPng([255, 0, 0]) };
    await services.vision.classifier('tiny-cnn');
    await services.vision.classifier('tiny-vit');
    const before = { cnn: runs('tiny-cnn:fp32'), vit: runs('tiny-vit:fp32') };
    const result = await runAndPresent(stress, { image }, services);
    expect(runs('tiny-cnn:fp32') - before.cnn).toBe(1);
    expect(runs('tiny-vit:fp32') - before.vit).toBe(1);
    const data = result.data as StressJson;
    expect(data.image).toBe('red.png');
    expect(data.variants.map((v) => v.name)).toEqual([
      'original',
      'noise σ 0.05',
      'noise σ 0.1',
      'noise σ 0.2',
      'blur',
      'jpeg quality 10',
      'rotate 15°',
      'rotate 90°',
      'grayscale',
      'occlude centre 25%',
      'crop centre 25%',
    ]);
    expect(data.models.map((m) => [m.model.id, m.timings.batchSize])).toEqual([
      ['tiny-cnn', 11],
      ['tiny-vit', 11],
    ]);
    const cnn = (name: string) => data.variants.find((v) => v.name === name)!.models[0]!;
    const red = cnnScores([255, 0, 0]);
    expect(cnn('original')).toMatchObject({ model: 'tiny-cnn', label: 'red', index: 0, keptTop1: true });
    expect(cnn('original').score).toBeCloseTo(red[0]!, 5);
    expect(cnn('original').originalScore).toBeCloseTo(red[0]!, 5);
    // A solid image blurred, turned by 90° or cropped is the same solid image: the same score.
    for (const name of ['blur', 'rotate 90°', 'crop centre 25%']) expect(cnn(name).score).toBeCloseTo(red[0]!, 5);
    expect(result.files.map((f) => f.name)).toEqual(['stress.png']);
    expect(result.embeds[0]!.footer).toMatch(/tiny-cnn · fp32 · cpu: .* \(batch 11\) \| tiny-vit · fp32 · cpu/);
  });

  it('says what it is doing, then each model as it ends, while it runs', async () => {
    const lines: string[] = [];
    await runAndPresent(stress, { image: { name: 'red.png', bytes: await solidPng([0, 0, 255]) } }, services, (line) =>
      lines.push(line),
    );
    expect(lines[0]).toBe('Stress test: making 10 damaged copies, then tiny-cnn and tiny-vit each read all 11 images…');
    // The first model to end names the one still running; the last one's end says nothing (the answer follows).
    expect(lines.slice(1)).toHaveLength(1);
    expect(lines[1]).toMatch(/^Stress test: tiny-(cnn|vit) done in [\d.]+ ms; still running: tiny-(vit|cnn)…$/);
  });

  it('scores each variant from its own pixels: grayscale red is a grey the tiny CNN no longer calls red', async () => {
    const outcome = await services.vision.stress(await solidPng([255, 0, 0]), 'cnn', 1);
    const grey = outcome.variants.find((v) => v.name === 'grayscale')!.rgb;
    const g = grey.data[0]!;
    expect([...grey.data.subarray(0, 3)]).toEqual([g, g, g]);
    const expected = cnnScores([g, g, g]);
    const answer = outcome.results[0]!.variants[outcome.variants.findIndex((v) => v.name === 'grayscale')]!;
    expect(answer.score).toBeCloseTo(expected[0]!, 5);
    const top = expected.indexOf(Math.max(...expected));
    expect(answer).toMatchObject({ label: TINY_IMAGE_LABELS[top], index: top, keptTop1: top === 0 });
  });

  it('draws the same noise for the same seed and other noise for another', async () => {
    const image = { data: Buffer.alloc(16 * 16 * 3, 128), width: 16, height: 16 };
    expect(addGaussianNoise(image, 0.1, 7).data).toEqual(addGaussianNoise(image, 0.1, 7).data);
    expect(addGaussianNoise(image, 0.1, 7).data).not.toEqual(addGaussianNoise(image, 0.1, 8).data);
    // σ = 0.2 × 255 ≈ 51 on a mid-grey: the sample's spread is close to it.
    const noisy = addGaussianNoise({ ...image, data: Buffer.alloc(64 * 64 * 3, 128), width: 64, height: 64 }, 0.2, 1);
    const values = [...noisy.data];
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    expect(sd).toBeGreaterThan(45);
    expect(sd).toBeLessThan(56);
    const photo = {
      data: Buffer.from(Array.from({ length: 32 * 24 * 3 }, (_, i) => (i * 7) % 256)),
      width: 32,
      height: 24,
    };
    const [first, second] = await Promise.all([stressVariants(photo, 3), stressVariants(photo, 3)]);
    first!.forEach((variant, index) => expect(variant.rgb.data).toEqual(second![index]!.rgb.data));
    const a = await runAndPresent(
      stress,
      { image: { name: 'r.png', bytes: await solidPng([200, 30, 90]) }, seed: '5', model: 'cnn' },
      services,
    );
    const b = await runAndPresent(
      stress,
      { image: { name: 'r.png', bytes: await solidPng([200, 30, 90]) }, seed: '5', model: 'cnn' },
      services,
    );
    expect((a.data as StressJson).variants).toEqual((b.data as StressJson).variants);
  });

  it('turns a panorama more than 7.6 times as wide as it is tall by 15° within its own frame, filled out with white', async () => {
    // 1000×100: the turned bounding box (992 px wide) is narrower than the frame.
    const outcome = await services.vision.stress(await solidPng([255, 0, 0], 1000, 100), 'cnn', 1);
    const turned = outcome.variants.find((v) => v.name === 'rotate 15°')!.rgb;
    expect([turned.width, turned.height]).toEqual([1000, 100]);
    const pixel = (x: number, y: number): number[] => [
      ...turned.data.subarray((y * 1000 + x) * 3, (y * 1000 + x) * 3 + 3),
    ];
    expect(pixel(0, 50)).toEqual([255, 255, 255]);
    expect(pixel(500, 50)).toEqual([255, 0, 0]);
    expect(outcome.results[0]!.variants).toHaveLength(11);
  });

  it('refuses an image too long and thin for its full-size copies, before loading any model', async () => {
    const fresh = testServices();
    onTestFinished(() => fresh.dispose());
    const strip = { name: 'strip.png', bytes: await solidPng([255, 0, 0], 224, MAX_STRESS_SIDE + 1) };
    await expect(runAndPresent(stress, { image: strip }, fresh)).rejects.toThrow(
      new RegExp(`this image is 224×${MAX_STRESS_SIDE + 1} px: too long and thin for the stress test`),
    );
    expect(await fresh.loaded()).toEqual([]);
  });

  it('rejects what /classify rejects, before loading any model', async () => {
    const fresh = testServices();
    onTestFinished(() => fresh.dispose());
    await expect(runAndPresent(stress, {}, fresh)).rejects.toThrow(/image: an image attachment is required/);
    await expect(
      runAndPresent(stress, { image: { name: 'a.jpg', bytes: Buffer.from('GIF89a broken') } }, fresh),
    ).rejects.toThrow(/corrupt|not an image/);
    const image = { name: 'x.png', bytes: await solidPng([1, 1, 1]) };
    await expect(runAndPresent(stress, { image, seed: '-1' }, fresh)).rejects.toThrow(/seed: must be a whole number/);
    expect(await fresh.loaded()).toEqual([]);
    await expect(runAndPresent(stress, { image, model: 'no-such-model' }, fresh)).rejects.toThrow(
      /No classifier could run/,
    );
  });
});

interface StressTextJson {
  variants: Array<{
    name: string;
    text: string;
    vader: { label: string; compound: number };
    transformer: { label: string; score: number } | { unavailable: string };
  }>;
  transformer: { model: { id: string }; timings: { batchSize: number } };
}

describe('/stress-text', () => {
  it('reads every variant with VADER and, in one batch, with the transformer', async () => {
    const before = runs('tiny-sentiment:fp32');
    const result = await runAndPresent(stressText, { text: 'The movie was great' }, services);
    expect(runs('tiny-sentiment:fp32') - before).toBe(1);
    expect(result.files.map((file) => file.name)).toEqual(['stress-text.png']);
    const data = result.data as StressTextJson;
    expect(data.variants.map((v) => v.name)).toEqual([
      'original',
      'typos',
      'negation',
      'all caps',
      'emoji',
      'synonyms',
      'sarcasm',
    ]);
    const byName = Object.fromEntries(data.variants.map((v) => [v.name, v]));
    expect(byName.negation!.text).toBe('The movie was not great');
    expect(byName['all caps']!.text).toBe('THE MOVIE WAS GREAT');
    expect(byName.synonyms!.text).toBe('The movie was terrific');
    expect(byName.original!.vader.label).toBe('positive');
    expect(byName.negation!.vader.label).toBe('negative');
    expect(data.transformer.timings.batchSize).toBe(7);
    expect(data.variants.every((v) => 'label' in v.transformer)).toBe(true);
    expect(result.embeds[0]!.footer).toMatch(/tiny-sentiment · fp32 · cpu/);
  });

  it('makes the same typos for the same seed', () => {
    const text = 'Honestly the acting was wonderful and the soundtrack was memorable';
    expect(withTypos(text, 4)).toBe(withTypos(text, 4));
    expect(withTypos(text, 4)).not.toBe(text);
    expect(withTypos(text, 4)).toHaveLength(text.length);
    const seeds = new Set(Array.from({ length: 5 }, (_, seed) => withTypos(text, seed)));
    expect(seeds.size).toBeGreaterThan(1);
    expect(textVariants('No table words here', 1).map((v) => v.name)).not.toContain('synonyms');
  });

  it('rejects empty text and cleans hostile markup as /sentiment does', async () => {
    await expect(runAndPresent(stressText, { text: '   ' }, services)).rejects.toThrow(/whitespace/);
    await expect(runAndPresent(stressText, { text: 'x'.repeat(6001) }, services)).rejects.toThrow(
      /at most 6000 characters/,
    );
    const result = await runAndPresent(stressText, { text: '**great** film <@123456789>' }, services);
    const original = (result.data as StressTextJson).variants[0]!;
    expect(original.text).toBe('great film @user');
  });
});
