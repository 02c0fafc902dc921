import { seededRandom } from '../util/random.js';
/**
 * A linear probe: multinomial logistic regression (softmax over a linear map) trained by
 * full-batch gradient descent with L2 regularisation on standardised, frozen embeddings. Plain
 * TypeScript with no dependencies: a server's few dozen examples of a few hundred numbers train
 * in milliseconds per epoch. Every random choice (initial weights, the validation split) comes
 * from a seeded generator, so the same data gives the same model and the same curves.
 *
 * Training yields to the event loop between epochs (and between the leave-one-out fits), so a
 * long run never holds up gateway heartbeats or other interactions for more than one epoch.
 */

export interface Example {
  /** Index into the class list. */
  label: number;
  vector: Float32Array;
}

export interface ProbeSettings {
  epochs: number;
  learningRate: number;
  /** L2 penalty on the weights (not the biases). */
  l2: number;
  seed: number;
  /** Share of each class held out for validation (at least one per class when it has two or more). */
  validationShare: number;
}

export const DEFAULT_PROBE_SETTINGS: ProbeSettings = {
  epochs: 60,
  learningRate: 0.5,
  l2: 1e-3,
  seed: 17,
  validationShare: 0.25,
};

/** Everything needed to score a new embedding: standardisation and the linear map. */
export interface ProbeModel {
  classes: number;
  dimensions: number;
  /** Per-feature mean and standard deviation of the training set. */
  mean: Float32Array;
  std: Float32Array;
  /** [classes × dimensions], row per class. */
  weights: Float32Array;
  bias: Float32Array;
}

export interface EpochStats {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  /** Absent when nothing could be held out (a class with one example). */
  valLoss: number | undefined;
  valAccuracy: number | undefined;
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

/**
 * A stratified hold-out split: from each class with at least two examples, `share` of them
 * (rounded, at least one, never all) go to validation, chosen by the seed.
 */
export function stratifiedSplit(
  examples: readonly Example[],
  share: number,
  seed: number,
): { train: Example[]; validation: Example[] } {
  const random = seededRandom(seed);
  const byClass = new Map<number, Example[]>();
  for (const example of examples) byClass.set(example.label, [...(byClass.get(example.label) ?? []), example]);
  const train: Example[] = [];
  const validation: Example[] = [];
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = shuffled(byClass.get(label)!, random);
    const held = members.length < 2 ? 0 : Math.min(members.length - 1, Math.max(1, Math.round(members.length * share)));
    validation.push(...members.slice(0, held));
    train.push(...members.slice(held));
  }
  return { train, validation };
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function standardiser(examples: readonly Example[], dimensions: number): { mean: Float32Array; std: Float32Array } {
  const mean = new Float32Array(dimensions);
  const std = new Float32Array(dimensions);
  for (const { vector } of examples) for (let d = 0; d < dimensions; d += 1) mean[d]! += vector[d]! / examples.length;
  for (const { vector } of examples) {
    for (let d = 0; d < dimensions; d += 1) std[d]! += (vector[d]! - mean[d]!) ** 2 / examples.length;
  }
  // A feature that does not vary in the training set carries no information: scale 1 keeps it at 0.
  for (let d = 0; d < dimensions; d += 1) std[d] = std[d]! > 1e-12 ? Math.sqrt(std[d]!) : 1;
  return { mean, std };
}

function standardise(vector: Float32Array, model: Pick<ProbeModel, 'mean' | 'std'>): Float64Array {
  const out = new Float64Array(vector.length);
  for (let d = 0; d < vector.length; d += 1) out[d] = (vector[d]! - model.mean[d]!) / model.std[d]!;
  return out;
}

/** Softmax probabilities of the classes for one standardised vector. */
function probabilities(model: ProbeModel, x: Float64Array): Float64Array {
  const logits = new Float64Array(model.classes);
  for (let c = 0; c < model.classes; c += 1) {
    let sum = model.bias[c]!;
    const row = c * model.dimensions;
    for (let d = 0; d < model.dimensions; d += 1) sum += model.weights[row + d]! * x[d]!;
    logits[c] = sum;
  }
  let max = -Infinity;
  for (const value of logits) max = Math.max(max, value);
  let total = 0;
  for (let c = 0; c < model.classes; c += 1) {
    logits[c] = Math.exp(logits[c]! - max);
    total += logits[c]!;
  }
  for (let c = 0; c < model.classes; c += 1) logits[c] = logits[c]! / total;
  return logits;
}

/** Class probabilities of a raw (not yet standardised) embedding. */
export function predict(model: ProbeModel, vector: Float32Array): number[] {
  if (vector.length !== model.dimensions) {
    throw new Error(`the probe takes ${model.dimensions} numbers, this embedding has ${vector.length}`);
  }
  return [...probabilities(model, standardise(vector, model))];
}

/** Softmax of each row of [rows × classes] logits, in place. */
function softmaxRows(logits: Float64Array, classes: number): void {
  for (let row = 0; row < logits.length; row += classes) {
    let max = -Infinity;
    for (let c = 0; c < classes; c += 1) max = Math.max(max, logits[row + c]!);
    let total = 0;
    for (let c = 0; c < classes; c += 1) {
      logits[row + c] = Math.exp(logits[row + c]! - max);
      total += logits[row + c]!;
    }
    for (let c = 0; c < classes; c += 1) logits[row + c] = logits[row + c]! / total;
  }
}

/** Mean cross-entropy and accuracy of [rows × classes] probabilities against the labels. */
function measure(p: Float64Array, labels: readonly number[], classes: number): [number, number] {
  let loss = 0;
  let correct = 0;
  labels.forEach((label, row) => {
    const offset = row * classes;
    loss -= Math.log(Math.max(p[offset + label]!, 1e-12));
    let best = 0;
    for (let c = 1; c < classes; c += 1) if (p[offset + c]! > p[offset + best]!) best = c;
    if (best === label) correct += 1;
  });
  return [loss / labels.length, correct / labels.length];
}

/** Dot products of every row of `a` with every row of `b` ([a rows × b rows]). */
function gram(a: readonly Float64Array[], b: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(a.length * b.length);
  a.forEach((x, i) => {
    b.forEach((y, j) => {
      let sum = 0;
      for (let d = 0; d < x.length; d += 1) sum += x[d]! * y[d]!;
      out[i * b.length + j] = sum;
    });
  });
  return out;
}

/** Logits [rows × classes] of examples whose dot products with the training set are `kernel` [rows × n]. */
function logitsOf(kernel: Float64Array, rows: number, dual: Float64Array, bias: Float32Array, n: number): Float64Array {
  const classes = bias.length;
  const out = new Float64Array(rows * classes);
  for (let i = 0; i < rows; i += 1) {
    for (let c = 0; c < classes; c += 1) {
      let sum = bias[c]!;
      for (let j = 0; j < n; j += 1) sum += dual[c * n + j]! * kernel[i * n + j]!;
      out[i * classes + c] = sum;
    }
  }
  return out;
}

export interface TrainResult {
  model: ProbeModel;
  epochs: EpochStats[];
}

/**
 * Fits the probe on `train`, reporting loss and accuracy on `train` and `validation` after every
 * epoch (the two curves of a Keras training plot). Standardisation uses the training set only.
 *
 * The weights are kept as a combination of the (standardised) training examples, W = A·X: with
 * an L2 penalty, gradient descent that starts inside that span never leaves it, so this is the
 * same descent as on W itself, but each epoch costs n²·classes instead of n·dimensions·classes
 * (a few dozen examples of 512 or 1,280 numbers: about 50 times less work). W is formed at the end.
 */
export async function trainProbe(
  train: readonly Example[],
  validation: readonly Example[],
  classes: number,
  settings: ProbeSettings = DEFAULT_PROBE_SETTINGS,
  options: { track?: boolean } = {},
): Promise<TrainResult> {
  const first = train[0];
  if (!first) throw new Error('no training examples');
  const track = options.track ?? true;
  const dimensions = first.vector.length;
  const n = train.length;
  const { mean, std } = standardiser(train, dimensions);
  const scaling = { mean, std };
  const xs = train.map((example) => standardise(example.vector, scaling));
  const labels = train.map((example) => example.label);
  const valXs = validation.map((example) => standardise(example.vector, scaling));
  const valLabels = validation.map((example) => example.label);
  const kernel = gram(xs, xs);
  const valKernel = track && valXs.length > 0 ? gram(valXs, xs) : undefined;
  const random = seededRandom(settings.seed);
  // Small random starting weights (as combinations of the examples): the seed makes a run repeatable.
  const dual = Float64Array.from({ length: classes * n }, () => (random() - 0.5) * 0.01);
  const bias = new Float32Array(classes);
  const epochs: EpochStats[] = [];
  for (let epoch = 1; epoch <= settings.epochs; epoch += 1) {
    const p = logitsOf(kernel, n, dual, bias, n);
    softmaxRows(p, classes);
    for (let i = 0; i < n; i += 1) p[i * classes + labels[i]!]! -= 1;
    // dL/dW = Gᵀ·X + l2·W with G = (P − Y)/n; in the span of X that is (Gᵀ + l2·A)·X.
    for (let c = 0; c < classes; c += 1) {
      let gradB = 0;
      for (let j = 0; j < n; j += 1) {
        const g = p[j * classes + c]! / n;
        gradB += g;
        dual[c * n + j] = dual[c * n + j]! - settings.learningRate * (g + settings.l2 * dual[c * n + j]!);
      }
      bias[c] = bias[c]! - settings.learningRate * gradB;
    }
    if (track) {
      const after = logitsOf(kernel, n, dual, bias, n);
      softmaxRows(after, classes);
      const [trainLoss, trainAccuracy] = measure(after, labels, classes);
      let valLoss: number | undefined;
      let valAccuracy: number | undefined;
      if (valKernel) {
        const val = logitsOf(valKernel, valXs.length, dual, bias, n);
        softmaxRows(val, classes);
        [valLoss, valAccuracy] = measure(val, valLabels, classes);
      }
      epochs.push({ epoch, trainLoss, trainAccuracy, valLoss, valAccuracy });
      await yieldToEventLoop();
    }
  }
  const weights = new Float32Array(classes * dimensions);
  for (let c = 0; c < classes; c += 1) {
    for (let j = 0; j < n; j += 1) {
      const a = dual[c * n + j]!;
      const x = xs[j]!;
      for (let d = 0; d < dimensions; d += 1) weights[c * dimensions + d]! += a * x[d]!;
    }
  }
  return { model: { classes, dimensions, mean, std, weights, bias }, epochs };
}

const argmax = (values: readonly number[]): number =>
  values.reduce((best, value, index) => (value > values[best]! ? index : best), 0);

/**
 * Leave-one-out accuracy: each example is predicted by a probe trained on all the others. With a
 * few dozen examples this is the least wasteful honest estimate. Also returns the confusion
 * matrix of those held-out predictions (rows: true class, columns: predicted).
 */
export async function leaveOneOut(
  examples: readonly Example[],
  classes: number,
  settings: ProbeSettings = DEFAULT_PROBE_SETTINGS,
): Promise<{ accuracy: number; confusion: number[][] }> {
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let correct = 0;
  for (let held = 0; held < examples.length; held += 1) {
    const rest = examples.filter((_, index) => index !== held);
    const target = examples[held]!;
    const { model } = await trainProbe(rest, [], classes, settings, { track: false });
    await yieldToEventLoop();
    const guess = argmax(predict(model, target.vector));
    confusion[target.label]![guess]! += 1;
    if (guess === target.label) correct += 1;
  }
  return { accuracy: examples.length ? correct / examples.length : 0, confusion };
}

export interface HungerPoint {
  perClass: number;
  /** Accuracy on the examples not used for training, averaged over `repeats` seeded draws. */
  accuracy: number;
  tested: number;
}

/**
 * How accuracy grows with examples per class (1, 2, 4, 8…): for each size, a probe trained on
 * that many random examples of every class is tested on all the remaining ones. Sizes stop where
 * some class would have nothing left to test.
 */
export async function dataHunger(
  examples: readonly Example[],
  classes: number,
  settings: ProbeSettings = DEFAULT_PROBE_SETTINGS,
  repeats = 3,
): Promise<HungerPoint[]> {
  const byClass = Array.from({ length: classes }, (_, label) => examples.filter((e) => e.label === label));
  const smallest = Math.min(...byClass.map((members) => members.length));
  const points: HungerPoint[] = [];
  for (let perClass = 1; perClass < smallest; perClass *= 2) {
    let accuracy = 0;
    let tested = 0;
    for (let repeat = 0; repeat < repeats; repeat += 1) {
      const random = seededRandom(settings.seed + perClass * 101 + repeat);
      const train: Example[] = [];
      const test: Example[] = [];
      for (const members of byClass) {
        const order = shuffled(members, random);
        train.push(...order.slice(0, perClass));
        test.push(...order.slice(perClass));
      }
      const { model } = await trainProbe(train, [], classes, settings, { track: false });
      await yieldToEventLoop();
      const right = test.filter((example) => argmax(predict(model, example.vector)) === example.label).length;
      accuracy += right / test.length / repeats;
      tested = test.length;
    }
    points.push({ perClass, accuracy, tested });
  }
  return points;
}
