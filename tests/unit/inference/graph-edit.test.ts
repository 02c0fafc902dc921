import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { FLOAT, encodeModel, floatTensor, node, valueInfo } from '../../../scripts/fixtures/onnx-graph.js';
import { decodeModel, findCamHead } from '../../../src/inference/graph-edit.js';

const INT8 = onnxProto.onnx.TensorProto.DataType.INT8;
const int8Tensor = (name: string, dims: number[], values: number[]): onnxProto.onnx.ITensorProto => ({
  name,
  dims,
  dataType: INT8,
  rawData: Uint8Array.from(values.map((value) => value & 0xff)),
});

describe('finding a CNN’s class-activation head', () => {
  it('follows a dynamically quantized classifier (DynamicQuantizeLinear + MatMulInteger, as onnxruntime’s quantize_dynamic writes it)', () => {
    // 3 channels → 2 classes; int8 weights with zero point 2: the dequantized weights are q − 2
    // (the scale, applied by a Mul further on, is one positive factor, which a [0, 1] map ignores).
    const weights = [5, -1, 2, 4, -3, 0];
    const graph = {
      name: 'dynamic-head',
      input: [valueInfo('features', FLOAT, [1, 3, 2, 2])],
      output: [valueInfo('logits', FLOAT, [1, 2])],
      initializer: [int8Tensor('w', [3, 2], weights), int8Tensor('wzp', [], [2]), floatTensor('ws', [], [0.5])],
      node: [
        node('Relu', ['features'], ['relu']),
        node('GlobalAveragePool', ['relu'], ['pooled']),
        node('Flatten', ['pooled'], ['flat']),
        node('DynamicQuantizeLinear', ['flat'], ['q_a', 'q_as', 'q_azp']),
        node('MatMulInteger', ['q_a', 'w', 'q_azp', 'wzp'], ['q_i32']),
        node('Cast', ['q_i32'], ['q_f']),
        node('Mul', ['q_as', 'ws'], ['q_s']),
        node('Mul', ['q_f', 'q_s'], ['logits']),
      ],
    };
    const head = findCamHead(decodeModel(encodeModel(graph)));
    expect(head).toMatchObject({ featureMap: 'relu', channels: 3, classes: 2 });
    expect([...head!.weights]).toEqual(weights.map((q) => q - 2));
  });
});
