import { open, readFile } from 'node:fs/promises';
import { extname } from 'node:path';

/*
 * The store records the sha256 of a file nobody pinned the first time it sees it, and from then on
 * refuses anything else at that path. Recording a damaged file would therefore lock the good one
 * out, so a file is inspected before its hash is recorded: cheap checks that a truncated or
 * garbled file fails, not a full load.
 */

/** ModelProto's field numbers (onnx.proto): anything else at the top level is not an ONNX model. */
const MODEL_PROTO_FIELDS = new Set([1, 2, 3, 4, 5, 6, 7, 8, 14, 20, 25]);
const IR_VERSION = 1;
const GRAPH = 7;
/** A real model has a dozen top-level fields or so; far more means we are walking garbage. */
const MAX_TOP_LEVEL_FIELDS = 100_000;

/**
 * Why a file cannot be the model file it claims to be, or undefined when it looks whole. `name`
 * says what kind of file it is meant to be, for a download still named `*.part`.
 */
export async function inspectModelFile(path: string, name: string = path): Promise<string | undefined> {
  const extension = extname(name).toLowerCase();
  if (extension === '.json') return inspectJson(path);
  if (extension === '.onnx') return inspectOnnx(path);
  return undefined;
}

async function inspectJson(path: string): Promise<string | undefined> {
  try {
    JSON.parse(await readFile(path, 'utf8'));
    return undefined;
  } catch (error) {
    return `is not valid JSON (${(error as Error).message})`;
  }
}

/**
 * Walks the top level of the protobuf: every field's tag, and the length of every length-delimited
 * field (the graph, which holds nearly all the bytes, is one), without reading what they hold. A cut
 * file ends inside a field; a garbled one shows a field ModelProto does not have. Reads a few bytes
 * per field, whatever the file's size.
 */
async function inspectOnnx(path: string): Promise<string | undefined> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const buffer = Buffer.alloc(10);
    const varintAt = async (offset: number): Promise<{ value: number; next: number } | undefined> => {
      const { bytesRead } = await handle.read(buffer, 0, 10, offset);
      let value = 0;
      for (let index = 0; index < bytesRead; index += 1) {
        const byte = buffer[index]!;
        value += (byte & 0x7f) * 2 ** (7 * index);
        if ((byte & 0x80) === 0) return { value, next: offset + index + 1 };
      }
      return undefined;
    };
    if (size === 0) return 'is empty';
    const seen = new Set<number>();
    let offset = 0;
    for (let fields = 0; offset < size; fields += 1) {
      if (fields >= MAX_TOP_LEVEL_FIELDS) return 'is not an ONNX model (too many top-level fields)';
      const tag = await varintAt(offset);
      if (!tag) return `is not an ONNX model (unreadable field at byte ${offset})`;
      const field = Math.floor(tag.value / 8);
      const wireType = tag.value % 8;
      if (!MODEL_PROTO_FIELDS.has(field)) return `is not an ONNX model (unexpected field ${field} at byte ${offset})`;
      seen.add(field);
      offset = tag.next;
      if (wireType === 0) {
        const value = await varintAt(offset);
        if (!value) return `is cut short or garbled (unreadable number at byte ${offset})`;
        offset = value.next;
      } else if (wireType === 2) {
        const length = await varintAt(offset);
        if (!length) return `is cut short or garbled (unreadable length at byte ${offset})`;
        offset = length.next + length.value;
      } else if (wireType === 1) offset += 8;
      else if (wireType === 5) offset += 4;
      else return `is not an ONNX model (wire type ${wireType} at byte ${offset})`;
    }
    if (offset > size) return `is cut short (${size} bytes; its last field ends at byte ${offset})`;
    if (!seen.has(IR_VERSION) || !seen.has(GRAPH)) return 'is not an ONNX model (no IR version or no graph)';
    return undefined;
  } finally {
    await handle.close();
  }
}
