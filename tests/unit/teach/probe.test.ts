import { describe, expect, it } from 'vitest';
import {
  dataHunger,
  leaveOneOut,
  predict,
  stratifiedSplit,
  trainProbe,
  type Example,
} from '../../../src/teach/probe.js';
import { seededRandom } from '../../../src/util/random.js';

/** `perClass` examples of each class: a random centre per class plus noise of size `noise`. */
function clusters(classes: number, perClass: number, dimensions: number, noise: number, seed = 1): Example[] {
  const random = seededRandom(seed);
  const centres = Array.from({ length: classes }, () =>
    Float32Array.from({ length: dimensions }, () => random() * 2 - 1),
  );
  return centres.flatMap((centre, label) =>
    Array.from({ length: perClass }, () => ({
      label,
      vector: centre.map((value) => value + (random() * 2 - 1) * noise),
    })),
  );
}

const argmax = (values: number[]): number => values.indexOf(Math.max(...values));

describe('the linear probe', () => {
  it('separates well-separated clusters perfectly, on training, validation and leave-one-out', async () => {
    const examples = clusters(5, 8, 64, 0.2);
    const { train, validation } = stratifiedSplit(examples, 0.25, 17);
    const { epochs, model } = await trainProbe(train, validation, 5);
    const last = epochs.at(-1)!;
    expect(last.trainAccuracy).toBe(1);
    expect(last.valAccuracy).toBe(1);
    expect(last.trainLoss).toBeLessThan(epochs[0]!.trainLoss);
    const loo = await leaveOneOut(examples, 5);
    expect(loo.accuracy).toBe(1);
    expect(loo.confusion.map((row, label) => row[label])).toEqual([8, 8, 8, 8, 8]);
    // A fresh point near centre 3 is class 3.
    const probe = clusters(5, 1, 64, 0.2, 1)[3]!;
    expect(argmax(predict(model, probe.vector))).toBe(3);
  });

  it('learns nothing from random labels: leave-one-out accuracy stays near chance', async () => {
    const random = seededRandom(99);
    const examples: Example[] = Array.from({ length: 60 }, (_, index) => ({
      label: index % 3,
      vector: Float32Array.from({ length: 32 }, () => random()),
    }));
    const { epochs } = await trainProbe(examples, [], 3);
    // It can memorise the training set…
    expect(epochs.at(-1)!.trainAccuracy).toBeGreaterThan(0.8);
    // …but what it memorised does not carry over to examples it has not seen (chance is 1/3).
    const loo = await leaveOneOut(examples, 3);
    expect(loo.accuracy).toBeLessThan(0.55);
  });

  it('holds out a share of every class, by seed, and never a class’s only example', () => {
    const examples = [...clusters(2, 8, 4, 0.1), { label: 2, vector: new Float32Array(4) }];
    const a = stratifiedSplit(examples, 0.25, 5);
    const b = stratifiedSplit(examples, 0.25, 5);
    expect(a).toEqual(b);
    expect(a.validation.map((e) => e.label).sort()).toEqual([0, 0, 1, 1]);
    expect(a.train.filter((e) => e.label === 2)).toHaveLength(1);
  });

  it('is repeatable: the same seed gives the same curves', async () => {
    const examples = clusters(3, 4, 16, 0.5);
    const first = await trainProbe(examples, [], 3);
    const second = await trainProbe(examples, [], 3);
    expect(first.epochs).toEqual(second.epochs);
  });

  it('measures data hunger at 1, 2, 4 examples per class', async () => {
    const points = await dataHunger(clusters(3, 8, 16, 0.3), 3);
    expect(points.map((point) => point.perClass)).toEqual([1, 2, 4]);
    expect(points.at(-1)!.accuracy).toBe(1);
  });

  // Its speed (under 2 s) is a goal of `npm run bench` (scripts/bench/teach.ts), not timed here.
  it('trains 5 classes × 8 CLIP-sized embeddings, with leave-one-out and the data-hunger curve', async () => {
    const examples = clusters(5, 8, 512, 0.8);
    const { train, validation } = stratifiedSplit(examples, 0.25, 17);
    const { model } = await trainProbe(train, validation, 5);
    expect(model.dimensions).toBe(512);
    expect((await leaveOneOut(examples, 5)).accuracy).toBe(1);
    expect((await dataHunger(examples, 5)).at(-1)!.accuracy).toBe(1);
  });
});
