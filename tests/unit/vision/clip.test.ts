import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { TINY_CLIP_EMBEDDING, TINY_CLIP_VISION } from '../../../scripts/fixtures/tiny-models.js';
import { parseLabels } from '../../../src/vision/user-labels.js';
import { solidPng, softmax, testServices } from '../../helpers.js';

const services = testServices({ CLIP_PROMPT_TEMPLATE: 'a photo of a {}' });
afterAll(() => services.dispose());

const normalise = (v: number[]): number[] => {
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
};

describe('CLIP zero-shot matching', () => {
  it('scores labels by the softmax of 100 × cosine, exactly as the towers compute them', async () => {
    const labels = ['red', 'green', 'blue', 'cat'];
    const result = await services.vision.match(await solidPng([255, 0, 0]), labels);

    const channel = [2, -2, -2]; // (255/255 − 0.5) / 0.25 and (0 − 0.5) / 0.25
    const image = normalise(
      [0, 1, 2, 3].map((k) =>
        channel.reduce((s, f, c) => s + f * TINY_CLIP_VISION.weights[c * 4 + k]!, TINY_CLIP_VISION.bias[k]!),
      ),
    );
    // "a photo of a <label>": the template words carry no features in the tiny text tower.
    const cosines = labels.map((label) =>
      normalise([...TINY_CLIP_EMBEDDING[label]!]).reduce((s, v, i) => s + v * image[i]!, 0),
    );
    const scores = softmax(cosines.map((c) => 100 * c));

    expect(result.matches[0]!.label).toBe('red');
    for (const match of result.matches) {
      const i = labels.indexOf(match.label);
      expect(match.cosine).toBeCloseTo(cosines[i]!, 5);
      expect(match.score).toBeCloseTo(scores[i]!, 5);
      expect(match.prompt).toBe(`a photo of a ${match.label}`);
    }
  });

  it('serves repeated labels from the text-embedding cache', async () => {
    // Services of its own, so the cache starts empty whatever ran before.
    const own = testServices({ CLIP_PROMPT_TEMPLATE: 'a photo of a {}' });
    onTestFinished(() => own.dispose());
    const first = await own.vision.match(await solidPng([0, 0, 255]), ['dog', 'cat']);
    expect(first.textCache).toEqual({ hits: 0, misses: 2 });
    const again = await own.vision.match(await solidPng([0, 255, 0]), ['dog', 'cat', 'red dog']);
    expect(again.textCache).toEqual({ hits: 2, misses: 1 });
    const textItems = own.engine.batcherStats()['tiny-clip:text']!.items;
    const cached = await own.vision.match(await solidPng([255, 0, 0]), ['red dog', 'dog']);
    expect(cached.textCache).toEqual({ hits: 2, misses: 0 });
    expect(own.engine.batcherStats()['tiny-clip:text']!.items).toBe(textItems);
  });

  it('validates labels: count, blanks, length and duplicates', () => {
    expect(parseLabels(' a cat ,a   dog ')).toEqual(['a cat', 'a dog']);
    expect(() => parseLabels('')).toThrow(/Give 2–20 labels/);
    expect(() => parseLabels('   ,  , ')).toThrow(/Give 2–20 labels/);
    expect(() => parseLabels('only one')).toThrow(/at least 2/);
    expect(() => parseLabels(Array.from({ length: 50 }, (_, i) => `label ${i}`).join(','))).toThrow(
      /50 labels; the limit is 20/,
    );
    expect(() => parseLabels(`cat, ${'x'.repeat(500)}`)).toThrow(/Label 2 is 500 characters long; the limit is 100/);
    expect(() => parseLabels('cat, , dog')).toThrow(/empty/);
    expect(() => parseLabels('Cat, dog, cat')).toThrow(/The label `cat` appears twice/);
  });
});
