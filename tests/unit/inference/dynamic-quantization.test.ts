import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { graphOperators } from '../../../src/inference/onnx-operators.js';
import { FIXTURES_DIR, HAS_SHARED, SHARED, SHARED_SKIP_REASON, solidPng, testServices } from '../../helpers.js';

const services = testServices();
afterAll(() => services.dispose());

const Q8_FILE = join(FIXTURES_DIR, 'tiny-cnn-q8/model.onnx');
/** A colour whose own features span less than the stress test's variants do (white corners, noise). */
const MUTED: [number, number, number] = [150, 110, 120];

describe('models quantized at run time (DynamicQuantizeLinear)', () => {
  it('are recognised from the graph alone: the int8 classifier has the operator, the float one and the statically quantized MobileNetV2 do not', async () => {
    expect(await graphOperators(Q8_FILE)).toEqual(
      new Set(['Conv', 'GlobalAveragePool', 'Flatten', 'DynamicQuantizeLinear', 'MatMulInteger', 'Cast', 'Mul', 'Add']),
    );
    expect((await graphOperators(join(FIXTURES_DIR, 'tiny-cnn/model.onnx'))).has('DynamicQuantizeLinear')).toBe(false);
    if (!HAS_SHARED) return console.warn(SHARED_SKIP_REASON);
    const mobilenet = await graphOperators(join(SHARED, 'models/mobilenetv2-12-int8.onnx'));
    expect(mobilenet.has('QLinearConv')).toBe(true);
    expect(mobilenet.has('DynamicQuantizeLinear')).toBe(false);
  });

  it('refuses a file that is not an ONNX model instead of guessing', async () => {
    await expect(graphOperators(join(FIXTURES_DIR, 'manifest.json'))).rejects.toThrow(/ONNX|varint/);
  });

  it('give an input in a batch the answer it gets alone: the stress test’s original scores as /classify does', async () => {
    const image = await solidPng(MUTED);
    // The graph itself is batch-dependent: the same input batched with a brighter one gets other logits.
    const session = await ort.InferenceSession.create(Q8_FILE);
    const pixels = (value: number): Float32Array => new Float32Array(3 * 16 * 16).fill(value);
    const alone = (await session.run({ pixel_values: new ort.Tensor('float32', pixels(0.3), [1, 3, 16, 16]) })).logits!
      .data as Float32Array;
    const batch = new Float32Array(2 * 3 * 16 * 16);
    batch.set(pixels(0.3));
    batch.set(pixels(2), 3 * 16 * 16);
    const batched = (await session.run({ pixel_values: new ort.Tensor('float32', batch, [2, 3, 16, 16]) })).logits!
      .data as Float32Array;
    expect(Array.from(batched.slice(0, 4))).not.toEqual(Array.from(alone));
    await session.release();

    const classified = (await services.vision.classify(image, 'tiny-cnn-q8', 4)).results[0]!;
    expect(classified.timings).toMatchObject({ batchSize: 1, sessionRuns: 1 });
    const stressed = (await services.vision.stress(image, 'tiny-cnn-q8', 1)).results[0]!;
    expect(stressed.timings).toMatchObject({ batchSize: 11, sessionRuns: 11 });
    expect(stressed.original.index).toBe(classified.predictions[0]!.index);
    expect(stressed.original.score).toBe(classified.predictions[0]!.score);
    // A float model keeps the one batched run.
    const float = (await services.vision.stress(image, 'tiny-cnn', 1)).results[0]!;
    expect(float.timings).toMatchObject({ batchSize: 11, sessionRuns: 1 });
  });
});
