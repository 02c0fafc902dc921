import { open, type FileHandle } from 'node:fs/promises';
import onnxProto from 'onnx-proto';

/**
 * The operators of an ONNX file's main graph, read from the file without its weights: the
 * protobuf is walked field by field and only the nodes are decoded; each weight costs one small
 * read of the key after it, not its bytes. (ModelProto field 7 is the graph, GraphProto field 1
 * its nodes, NodeProto field 4 the operator; onnx.proto3.) Subgraphs and functions are not read.
 */
const { onnx } = onnxProto;

const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const LENGTH_DELIMITED = 2;
/**
 * Bytes read at a time. Small, since past the nodes each large initializer is skipped and the next
 * field's key read anew: the nodes of a ViT-B/16 take a few reads, the keys after them one each.
 */
const WINDOW = 64 << 10;

class WindowedFile {
  private window = Buffer.alloc(0);
  private windowStart = 0;

  constructor(
    private readonly file: FileHandle,
    readonly size: number,
  ) {}

  async bytes(position: number, length: number): Promise<Buffer> {
    if (position + length > this.size) throw new Error('truncated ONNX file');
    if (position < this.windowStart || position + length > this.windowStart + this.window.length) {
      const wanted = Math.min(Math.max(length, WINDOW), this.size - position);
      const window = Buffer.allocUnsafe(wanted);
      const { bytesRead } = await this.file.read(window, 0, wanted, position);
      if (bytesRead < length) throw new Error('truncated ONNX file');
      this.window = window.subarray(0, bytesRead);
      this.windowStart = position;
    }
    return this.window.subarray(position - this.windowStart, position - this.windowStart + length);
  }

  /** A protobuf varint at `position`, and where the next field starts. */
  async varint(position: number): Promise<{ value: number; next: number }> {
    const chunk = await this.bytes(position, Math.min(10, this.size - position));
    let value = 0;
    for (let index = 0; index < chunk.length; index += 1) {
      const byte = chunk[index]!;
      value += (byte & 0x7f) * 2 ** (7 * index);
      if (byte < 0x80) return { value, next: position + index + 1 };
    }
    throw new Error('malformed varint in ONNX file');
  }
}

/** Calls `visit` with each length-delimited field of the message in [start, end); skips the rest. */
async function eachField(
  file: WindowedFile,
  start: number,
  end: number,
  visit: (field: number, from: number, to: number) => Promise<void>,
): Promise<void> {
  let position = start;
  while (position < end) {
    const key = await file.varint(position);
    const field = Math.floor(key.value / 8);
    const wireType = key.value % 8;
    position = key.next;
    switch (wireType) {
      case 0:
        position = (await file.varint(position)).next;
        break;
      case 1:
        position += 8;
        break;
      case 5:
        position += 4;
        break;
      case LENGTH_DELIMITED: {
        const length = await file.varint(position);
        const to = length.next + length.value;
        if (to > end) throw new Error('malformed ONNX file: a field runs past its message');
        await visit(field, length.next, to);
        position = to;
        break;
      }
      default:
        throw new Error(`malformed ONNX file: wire type ${wireType}`);
    }
  }
}

export async function graphOperators(path: string): Promise<Set<string>> {
  const handle = await open(path, 'r');
  try {
    const file = new WindowedFile(handle, (await handle.stat()).size);
    const operators = new Set<string>();
    await eachField(file, 0, file.size, async (field, from, to) => {
      if (field !== MODEL_GRAPH) return;
      await eachField(file, from, to, async (graphField, nodeFrom, nodeTo) => {
        if (graphField !== GRAPH_NODE) return;
        const node = onnx.NodeProto.decode(await file.bytes(nodeFrom, nodeTo - nodeFrom));
        if (node.opType) operators.add(node.opType);
      });
    });
    return operators;
  } finally {
    await handle.close();
  }
}
