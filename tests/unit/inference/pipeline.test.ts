import { afterAll, describe, expect, it } from 'vitest';
import { TINY_CNN } from '../../../scripts/fixtures/tiny-models.js';
import { decodeImage } from '../../../src/vision/preprocess.js';
import { solidPng, softmax, testServices } from '../../helpers.js';

const services = testServices({ BATCH_MAX_SIZE: '16', BATCH_MAX_WAIT_MS: '10' });
afterAll(() => services.dispose());
const limits = { maxBytes: 1 << 20, maxPixels: 1 << 20, decodeTimeoutMs: 5000 };

/** The tiny CNN's scores for a solid colour, from its weights. */
function expectedScores(rgb: readonly number[]): number[] {
  const features = rgb.map((value) => (value / 255 - 0.5) / 0.25);
  return softmax(
    [0, 1, 2, 3].map((k) => features.reduce((sum, f, c) => sum + f * TINY_CNN.weights[c * 4 + k]!, TINY_CNN.bias[k]!)),
  );
}

describe('the pipeline layer', () => {
  it('runs many variants of one request as one batch, each with its own exact answer', async () => {
    const classifier = await services.vision.classifier('tiny-cnn');
    const colours = [
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
      [128, 128, 128],
      [200, 30, 90],
      [10, 220, 160],
    ];
    const images = await Promise.all(
      colours.map(async (rgb) => decodeImage(await solidPng(rgb as [number, number, number]), limits, 16)),
    );
    const runsBefore = services.engine.batcherStats()['tiny-cnn:fp32']!.runs;
    const results = await classifier.runMany(images.map((image) => ({ image, top: 4 })));
    expect(services.engine.batcherStats()['tiny-cnn:fp32']!.runs - runsBefore).toBe(1);
    results.forEach((result, index) => {
      const expected = expectedScores(colours[index]!);
      for (const prediction of result.predictions) expect(prediction.score).toBeCloseTo(expected[prediction.index]!, 5);
      expect(result.timings.batchSize).toBe(colours.length);
      expect(result.model).toMatchObject({ id: 'tiny-cnn', precision: 'fp32', executionProvider: 'cpu' });
    });
  });

  it('returns a small preview of what the model saw, never the input tensor', async () => {
    const classifier = await services.vision.classifier('tiny-cnn');
    const image = await decodeImage(await solidPng([0, 0, 255], 64, 48), limits, 16);
    const result = await classifier.run({ image, top: 2 });
    expect(Object.keys(result).sort()).toEqual(['model', 'predictions', 'preview', 'timings']);
    const { width, height, data } = result.preview;
    expect([width, height]).toEqual([16, 16]);
    expect([...data.subarray(0, 3)]).toEqual([0, 0, 255]);
    const { prepareMs, queueMs, inferenceMs, totalMs } = result.timings;
    expect(totalMs).toBeGreaterThanOrEqual(prepareMs + queueMs + inferenceMs - 0.001);
  });
});
