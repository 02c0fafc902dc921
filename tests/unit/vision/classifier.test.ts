import { afterAll, describe, expect, it } from 'vitest';
import { TINY_CNN, TINY_IMAGE_LABELS, TINY_VIT } from '../../../scripts/fixtures/tiny-models.js';
import { solidPng, softmax, testServices } from '../../helpers.js';

const services = testServices({ BATCH_MAX_SIZE: '8', BATCH_MAX_WAIT_MS: '10' });
afterAll(() => services.dispose());
const classify = async (id: string, bytes: Buffer, top: number) =>
  (await services.vision.classify(bytes, id, top)).results[0]!;

/** What the tiny model must answer for a solid colour, computed by hand from its weights. */
function expectedScores(rgb: [number, number, number], weights: { weights: number[]; bias: number[] }): number[] {
  const features = rgb.map((value) => (value / 255 - 0.5) / 0.25);
  const logits = [0, 1, 2, 3].map((k) =>
    features.reduce((sum, f, c) => sum + f * weights.weights[c * 4 + k]!, weights.bias[k]!),
  );
  return softmax(logits);
}

describe('image classifier on a real onnxruntime session', () => {
  it('returns the exact scores the tiny CNN computes for a solid colour, best first', async () => {
    const result = await classify('tiny-cnn', await solidPng([255, 0, 0]), 4);
    const expected = expectedScores([255, 0, 0], TINY_CNN);
    expect(result.predictions.map((p) => p.label)).toEqual(['red', 'grey', 'green', 'blue']);
    for (const prediction of result.predictions) expect(prediction.score).toBeCloseTo(expected[prediction.index]!, 5);
    expect(result.model).toMatchObject({
      id: 'tiny-cnn',
      architecture: 'cnn',
      precision: 'fp32',
      executionProvider: 'cpu',
    });
    expect(result.timings.totalMs).toBeGreaterThan(0);
  });

  it('batches 16 concurrent requests into fewer runs and gives each its own answer', async () => {
    await services.vision.classifier('tiny-vit');
    const stats = services.engine.batcherStats()['tiny-vit:fp32']!;
    const runsBefore = stats.runs;
    const colours = Array.from({ length: 16 }, (_, i): [number, number, number] => [
      (i * 53) % 256,
      (i * 97) % 256,
      (i * 151) % 256,
    ]);
    const images = await Promise.all(colours.map((rgb) => solidPng(rgb)));
    const results = await Promise.all(images.map((image) => classify('tiny-vit', image, 4)));
    const after = services.engine.batcherStats()['tiny-vit:fp32']!;
    expect(after.runs - runsBefore).toBeLessThan(16);
    expect(after.largestBatch).toBeGreaterThan(1);
    results.forEach((result, i) => {
      const expected = expectedScores(colours[i]!, TINY_VIT);
      const best = expected.indexOf(Math.max(...expected));
      expect(result.predictions[0]!.label).toBe(TINY_IMAGE_LABELS[best]);
      for (const prediction of result.predictions) expect(prediction.score).toBeCloseTo(expected[prediction.index]!, 5);
    });
  });
});
