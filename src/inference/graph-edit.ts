import { seededRandom } from '../util/random.js';
import onnxProto from 'onnx-proto';

/**
 * Reading and editing ONNX graphs in memory, for experiments that need tensors a model computes
 * but does not return: the last convolutional feature map of a CNN (class activation maps) and
 * the attention probabilities of a Vision Transformer (attention rollout). The file on disk is
 * never changed; the edited bytes open a session of their own.
 */

const { onnx } = onnxProto;
type Model = onnxProto.onnx.ModelProto;
type TensorProto = onnxProto.onnx.ITensorProto;
type NodeProto = onnxProto.onnx.INodeProto;

const DataType = onnx.TensorProto.DataType;

/** Where a CNN's class activation map comes from: the pre-pooling feature map and the final linear layer. */
export interface CamHead {
  /** The float feature map ([N, C, h, w]) to expose as an extra output. */
  featureMap: string;
  channels: number;
  classes: number;
  /** The classifier's weights as [C, classes], row-major, dequantized when the model is int8. */
  weights: Float32Array;
}

export interface GraphProbes {
  cam: CamHead | undefined;
  /** Outputs of the Softmax nodes that produce attention probabilities, in graph order. */
  attention: string[];
}

export function decodeModel(bytes: Uint8Array): Model {
  return onnx.ModelProto.decode(bytes);
}

const POOLS = new Set(['GlobalAveragePool', 'QLinearGlobalAveragePool', 'ReduceMean']);
// Operators between the pooling and the classifier that only reshape or (de)quantize.
const PASS_THROUGH = new Set([
  'Flatten',
  'Reshape',
  'Squeeze',
  'QuantizeLinear',
  'DequantizeLinear',
  'DynamicQuantizeLinear',
  'Identity',
]);
const LINEAR = new Set(['Gemm', 'MatMul', 'QLinearMatMul', 'MatMulInteger']);

function toNumber(value: number | { toNumber(): number } | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

/** An initializer's values as numbers, whichever field (raw bytes or typed lists) holds them. */
export function tensorValues(tensor: TensorProto): number[] {
  const raw = tensor.rawData;
  const type = tensor.dataType ?? 0;
  if (raw && raw.length > 0) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    switch (type) {
      case DataType.FLOAT:
        return Array.from({ length: raw.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
      case DataType.INT8:
        return Array.from({ length: raw.length }, (_, i) => view.getInt8(i));
      case DataType.UINT8:
        return Array.from(raw);
      case DataType.INT32:
        return Array.from({ length: raw.length / 4 }, (_, i) => view.getInt32(i * 4, true));
      default:
        throw new Error(`initializer ${tensor.name ?? '?'}: data type ${type} is not read here`);
    }
  }
  if (tensor.floatData && tensor.floatData.length > 0) return [...tensor.floatData];
  if (tensor.int32Data && tensor.int32Data.length > 0) return [...tensor.int32Data];
  if (tensor.int64Data && tensor.int64Data.length > 0) return tensor.int64Data.map((v) => toNumber(v));
  return [];
}

const dimsOf = (tensor: TensorProto): number[] => (tensor.dims ?? []).map((dim) => toNumber(dim));

/**
 * The final linear layer as [C, classes] floats: Gemm (honouring transB), MatMul, or int8
 * QLinearMatMul dequantized as (q − zero point) · scale, per tensor or per output column.
 */
function linearWeights(node: NodeProto, initializers: Map<string, TensorProto>): Float32Array | undefined {
  const inputs = node.input ?? [];
  const weightName = inputs[node.opType === 'QLinearMatMul' ? 3 : 1];
  const weight = weightName === undefined ? undefined : initializers.get(weightName);
  if (!weight) return undefined;
  const dims = dimsOf(weight);
  if (dims.length !== 2) return undefined;
  let values = tensorValues(weight);
  let [rows, columns] = dims as [number, number];
  if (node.opType === 'MatMulInteger') {
    // Dynamically quantized (onnxruntime's quantize_dynamic, as for the int8 ResNet-50): the
    // weights' scale is applied by a Mul further on. It is one positive factor per class (or for
    // all), and a class's map is normalised to [0, 1], so (q − zero point) gives the same map.
    const zero = tensorValues(initializers.get(inputs[3] ?? '') ?? {});
    values = values.map((q, i) => q - (zero[zero.length === 1 ? 0 : i % columns] ?? 0));
  }
  if (node.opType === 'QLinearMatMul') {
    const scale = tensorValues(initializers.get(inputs[4] ?? '') ?? {});
    const zero = tensorValues(initializers.get(inputs[5] ?? '') ?? {});
    if (scale.length === 0) return undefined;
    values = values.map((q, i) => {
      const column = i % columns;
      return (q - (zero[zero.length === 1 ? 0 : column] ?? 0)) * scale[scale.length === 1 ? 0 : column]!;
    });
  }
  const transB =
    node.opType === 'Gemm' && (node.attribute ?? []).some((a) => a.name === 'transB' && toNumber(a.i) === 1);
  if (transB) {
    const transposed = new Array<number>(values.length);
    for (let r = 0; r < rows; r += 1)
      for (let c = 0; c < columns; c += 1) transposed[c * rows + r] = values[r * columns + c]!;
    values = transposed;
    [rows, columns] = [columns, rows];
  }
  return Float32Array.from(values);
}

/**
 * Finds a CNN's class-activation head: a global average pooling whose result reaches a linear
 * layer through reshapes and (de)quantization only. The feature map exposed is the float input of
 * the pooling, or the DequantizeLinear of it when the pooling reads int8 (MobileNetV2-int8: `627`).
 */
export function findCamHead(model: Model): CamHead | undefined {
  const graph = model.graph;
  if (!graph) return undefined;
  const nodes = graph.node ?? [];
  const initializers = new Map((graph.initializer ?? []).map((tensor) => [tensor.name ?? '', tensor]));
  const consumers = (name: string): NodeProto[] => nodes.filter((n) => (n.input ?? []).includes(name));
  for (const pool of nodes) {
    if (!POOLS.has(pool.opType ?? '')) continue;
    const input = pool.input?.[0];
    const pooled = pool.output?.[0];
    if (!input || !pooled) continue;
    // Follow the pooled tensor to the classifier through shape-only operators.
    let frontier = [pooled];
    let linear: NodeProto | undefined;
    for (let depth = 0; depth < 6 && !linear && frontier.length > 0; depth += 1) {
      const next: string[] = [];
      for (const name of frontier) {
        for (const consumer of consumers(name)) {
          if (LINEAR.has(consumer.opType ?? '') && consumer.input?.[0] === name) linear = consumer;
          else if (PASS_THROUGH.has(consumer.opType ?? '') && consumer.input?.[0] === name)
            next.push(...(consumer.output ?? []));
        }
      }
      frontier = next;
    }
    if (!linear) continue;
    const weights = linearWeights(linear, initializers);
    if (!weights) continue;
    let featureMap = input;
    if (pool.opType === 'QLinearGlobalAveragePool') {
      const dequantize = consumers(input).find((n) => n.opType === 'DequantizeLinear');
      if (!dequantize?.output?.[0]) continue;
      featureMap = dequantize.output[0];
    }
    if (graph.input?.some((value) => value.name === featureMap)) continue;
    const weight = initializers.get(linear.input?.[linear.opType === 'QLinearMatMul' ? 3 : 1] ?? '')!;
    const dims = dimsOf(weight);
    const transB =
      linear.opType === 'Gemm' && (linear.attribute ?? []).some((a) => a.name === 'transB' && toNumber(a.i) === 1);
    const [channels, classes] = (transB ? [dims[1], dims[0]] : dims) as [number, number];
    return { featureMap, channels, classes, weights };
  }
  return undefined;
}

/** Softmax nodes whose output is multiplied by the values (attention probabilities · V). */
export function findAttentionSoftmaxes(model: Model): string[] {
  const nodes = model.graph?.node ?? [];
  return nodes
    .filter((n) => n.opType === 'Softmax')
    .map((n) => n.output?.[0] ?? '')
    .filter(
      (name) => name !== '' && nodes.some((consumer) => consumer.opType === 'MatMul' && consumer.input?.[0] === name),
    );
}

export function findProbes(model: Model): GraphProbes {
  return { cam: findCamHead(model), attention: findAttentionSoftmaxes(model) };
}

/** The model with extra graph outputs (float tensors of unknown shape), serialised. */
export function withExtraOutputs(model: Model, names: readonly string[]): Uint8Array {
  const copy = onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
  const graph = copy.graph!;
  const outputs = graph.output ?? [];
  const existing = new Set(outputs.map((output) => output.name));
  for (const name of names) {
    if (existing.has(name)) continue;
    outputs.push(onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: DataType.FLOAT } } }));
  }
  graph.output = outputs;
  return onnx.ModelProto.encode(copy).finish();
}

/** The model's version of the default ONNX operator set (operators changed their inputs over versions). */
function defaultOpset(model: Model): number {
  const entry = (model.opsetImport ?? []).find((opset) => !opset.domain || opset.domain === 'ai.onnx');
  return entry ? toNumber(entry.version) : 1;
}

/**
 * The model with one more float output, `output` ([N, tokens]): the class token's row of the
 * attention rollout (Abnar & Zuidema 2020), computed inside the graph from the attention
 * probabilities `attention` ([N, heads, tokens, tokens] each, first layer first). Each layer's
 * attention is averaged over heads (Ā), the residual connection added as ½Ā + ½I, rows
 * renormalised, and the product Ā_L ⋯ Ā_1 read at row 0 only, as e₀ᵀ·Ā_L ⋯ Ā_1 from the last layer
 * down: a vector times a matrix per layer. Computed by onnxruntime where the session runs, so the
 * twelve 12×197×197 attention tensors of a ViT-B/16 never leave it; only 197 numbers per image do.
 *
 * With v the running row and s the row sums of ½Ā + ½I (½·rowsum(Ā) + ½), one layer is
 * v ← ½·(w·Ā) + ½·w where w = v / s: the identity needs no [tokens, tokens] constant.
 */
export function withAttentionRollout(
  model: Model,
  attention: readonly string[],
  output: string,
  /** The image input, whose first axis is the batch (default: the graph's first input that is not a weight). */
  pixelsInput?: string,
): Uint8Array {
  if (attention.length === 0) throw new Error('attention rollout needs at least one attention tensor');
  const copy = onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
  const graph = copy.graph!;
  const opset = defaultOpset(copy);
  if (opset < 11) throw new Error(`attention rollout needs ONNX opset 11 or later; the model has ${opset}`);
  const prefix = 'sightread_rollout';
  const name = (part: string): string => `${prefix}_${part}`;
  const nodes: NodeProto[] = [];
  const add = (
    opType: string,
    inputs: string[],
    out: string,
    attributes: onnxProto.onnx.IAttributeProto[] = [],
  ): string => {
    nodes.push({ opType, input: inputs, output: [out], name: out, attribute: attributes });
    return out;
  };
  const ints = (attribute: string, values: number[]): onnxProto.onnx.IAttributeProto => ({
    name: attribute,
    type: onnx.AttributeProto.AttributeType.INTS,
    ints: values,
  });
  const int = (attribute: string, value: number): onnxProto.onnx.IAttributeProto => ({
    name: attribute,
    type: onnx.AttributeProto.AttributeType.INT,
    i: value,
  });
  const constant = (part: string, dataType: number, dims: number[], values: number[]): string => {
    const tensor: TensorProto =
      dataType === DataType.FLOAT
        ? { name: name(part), dims, dataType, floatData: values }
        : { name: name(part), dims, dataType, int64Data: values };
    graph.initializer = [...(graph.initializer ?? []), tensor];
    return name(part);
  };
  const half = constant('half', DataType.FLOAT, [], [0.5]);
  // ReduceMean takes its axes as an input from opset 18, ReduceSum from opset 13.
  const reduce = (op: 'ReduceMean' | 'ReduceSum', input: string, axis: number, keep: number, out: string): string =>
    opset >= (op === 'ReduceMean' ? 18 : 13)
      ? add(op, [input, constant(`${out}_axes`, DataType.INT64, [1], [axis])], out, [int('keepdims', keep)])
      : add(op, [input], out, [ints('axes', [axis]), int('keepdims', keep)]);

  // Each attention tensor as [N, heads, T, T]: Hugging Face's ViT gives that shape, PyTorch's
  // nn.MultiheadAttention (torchvision's ViT) gives [N·heads, T, T], batch-major.
  const initializers = new Set((graph.initializer ?? []).map((tensor) => tensor.name));
  const pixels = pixelsInput ?? (graph.input ?? []).find((input) => !initializers.has(input.name))?.name;
  if (!pixels) throw new Error('attention rollout: the graph has no input');
  const batch = add(
    'Gather',
    [add('Shape', [pixels], name('input_shape')), constant('first_axis', DataType.INT64, [1], [0])],
    name('batch'),
    [int('axis', 0)],
  );
  const attentionShape = add('Shape', [attention[0]!], name('attention_shape'));
  const tokenCount = add(
    'Gather',
    [attentionShape, constant('last_axis', DataType.INT64, [1], [-1])],
    name('token_count'),
    [int('axis', 0)],
  );
  const perHead = add(
    'Concat',
    [batch, constant('any', DataType.INT64, [1], [-1]), tokenCount, tokenCount],
    name('per_head_shape'),
    [int('axis', 0)],
  );

  /** Ā of layer l ([N, T, T]) and the row sums of ½Ā + ½I laid along the last axis ([N, 1, T]). */
  const layer = (l: number): { mean: string; sums: string } => {
    // In float32 whatever the model computes in (an fp16 file's attention is float16).
    const asFloat = add('Cast', [attention[l]!], name(`float_${l}`), [int('to', DataType.FLOAT)]);
    const heads = add('Reshape', [asFloat, perHead], name(`heads_${l}`));
    const mean = reduce('ReduceMean', heads, 1, 0, name(`mean_${l}`));
    const rowSums = reduce('ReduceSum', mean, -1, 1, name(`rowsum_${l}`));
    const laid = add('Transpose', [rowSums], name(`rowsum_t_${l}`), [ints('perm', [0, 2, 1])]);
    const sums = add('Add', [add('Mul', [laid, half], name(`halfsum_${l}`)), half], name(`sums_${l}`));
    return { mean, sums };
  };
  const last = attention.length - 1;
  const top = layer(last);
  // e₀ as [1, 1, T]: T read from the attention's shape, so any token count works.
  const tokens = add('Gather', [attentionShape, constant('last', DataType.INT64, [], [-1])], name('tokens'), [
    int('axis', 0),
  ]);
  const positions = add(
    'Range',
    [constant('zero', DataType.INT64, [], [0]), tokens, constant('one', DataType.INT64, [], [1])],
    name('positions'),
  );
  const isFirst = add('Equal', [positions, name('zero')], name('is_first'));
  const first = add('Cast', [isFirst], name('first_float'), [int('to', DataType.FLOAT)]);
  let row = add('Reshape', [first, constant('row_shape', DataType.INT64, [3], [1, 1, -1])], name('e0'));
  for (let l = last; l >= 0; l -= 1) {
    const { mean, sums } = l === last ? top : layer(l);
    const weighted = add('Div', [row, sums], name(`weighted_${l}`));
    const through = add(
      'Mul',
      [add('MatMul', [weighted, mean], name(`through_${l}`)), half],
      name(`half_through_${l}`),
    );
    const kept = add('Mul', [weighted, half], name(`half_kept_${l}`));
    row = add('Add', [through, kept], name(`row_${l}`));
  }
  add('Reshape', [row, constant('out_shape', DataType.INT64, [2], [0, -1])], output);
  graph.node = [...(graph.node ?? []), ...nodes];
  graph.output = [
    ...(graph.output ?? []),
    onnx.ValueInfoProto.create({ name: output, type: { tensorType: { elemType: DataType.FLOAT } } }),
  ];
  return onnx.ModelProto.encode(copy).finish();
}

/**
 * The same architecture with its learned weights shuffled (Adebayo et al. 2018's randomisation
 * test): the elements of every initializer with at least `minElements` values are permuted, so
 * each layer keeps its value distribution but loses what training put where.
 */
export function shuffledWeights(bytes: Uint8Array, seed: number, minElements = 4): Uint8Array {
  const model = decodeModel(bytes);
  const random = seededRandom(seed);
  const shuffled = new Set<number>([DataType.FLOAT, DataType.INT8, DataType.UINT8, DataType.INT32]);
  for (const tensor of model.graph?.initializer ?? []) {
    if (!shuffled.has(tensor.dataType ?? 0)) continue;
    const values = tensorValues(tensor);
    if (values.length < minElements) continue;
    for (let i = values.length - 1; i > 0; i -= 1) {
      const j = Math.floor(random() * (i + 1));
      [values[i], values[j]] = [values[j]!, values[i]!];
    }
    const type = tensor.dataType ?? 0;
    const raw = tensor.rawData && tensor.rawData.length > 0;
    if (type === DataType.FLOAT) {
      if (raw) tensor.rawData = new Uint8Array(Float32Array.from(values).buffer);
      else tensor.floatData = values;
    } else if (type === DataType.INT8 || type === DataType.UINT8 || type === DataType.INT32) {
      if (raw) {
        tensor.rawData =
          type === DataType.INT8
            ? new Uint8Array(Int8Array.from(values).buffer)
            : type === DataType.UINT8
              ? Uint8Array.from(values)
              : new Uint8Array(Int32Array.from(values).buffer);
      } else tensor.int32Data = values;
    }
  }
  return onnx.ModelProto.encode(model).finish();
}
