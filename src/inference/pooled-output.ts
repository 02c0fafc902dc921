/**
 * Adds a pooled copy of an internal tensor to an ONNX model's outputs, in memory, without a
 * protobuf library: a protobuf parser merges repeated occurrences of a non-repeated message field,
 * so appending a second `graph` field (ModelProto field 7) that holds one more node (GraphProto
 * field 1) and one more output (field 12) extends the graph the file already has. onnx-proto could
 * decode and re-encode the whole model, but it is a development dependency (the Docker image
 * installs without those) and a whole-model round trip costs more than these few bytes.
 *
 * The node is a GlobalAveragePool: a CNN's last feature map [N, C, H, W] becomes [N, C, 1, 1],
 * the C-number embedding its own classifier reads (MobileNetV2's tensor `627` → 1,280 numbers).
 * It is appended last, after the node that produces the tensor, so the graph stays in order.
 */

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 127) {
    bytes.push((rest & 127) | 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** A length-delimited protobuf field (wire type 2). */
const field = (number: number, payload: Buffer): Buffer =>
  Buffer.concat([varint((number << 3) | 2), varint(payload.length), payload]);
const text = (value: string): Buffer => Buffer.from(value, 'utf8');

/** The output name the pooled copy of `tensor` gets. */
export const pooledOutputName = (tensor: string): string => `sightread_pooled_${tensor}`;

export function withPooledOutput(model: Uint8Array, tensor: string): Buffer {
  const output = pooledOutputName(tensor);
  // NodeProto: input (1), output (2), name (3), op_type (4).
  const node = Buffer.concat([
    field(1, text(tensor)),
    field(2, text(output)),
    field(3, text(`${output}_node`)),
    field(4, text('GlobalAveragePool')),
  ]);
  // GraphProto: node (1), output (12) as a ValueInfoProto with its name (1); onnxruntime infers the type.
  const graph = Buffer.concat([field(1, node), field(12, field(1, text(output)))]);
  return Buffer.concat([model, field(7, graph)]);
}
