import { resolve } from 'node:path';
import { AutoTokenizer, env, type PreTrainedTokenizer } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';

// Tokenizers come only from verified files in the model store, never straight from the hub.
env.allowRemoteModels = false;

/** Loads a tokenizer from a folder (absolute path) holding tokenizer.json and tokenizer_config.json. */
export function loadTokenizer(dir: string): Promise<PreTrainedTokenizer> {
  return AutoTokenizer.from_pretrained(resolve(dir));
}

export type { PreTrainedTokenizer };

/** Tokenizes a batch with padding and truncation into int64 tensors. */
export function tokenize(tokenizer: PreTrainedTokenizer, texts: string[], maxTokens: number): { ids: ort.Tensor; mask: ort.Tensor; lengths: number[]; truncated: boolean[] } {
  const encoded = texts.map((text) => tokenizer.encode(text));
  const truncated = encoded.map((ids) => ids.length > maxTokens);
  const clipped = encoded.map((ids) => (ids.length > maxTokens ? [...ids.slice(0, maxTokens - 1), ids[ids.length - 1]!] : ids));
  const width = Math.max(...clipped.map((ids) => ids.length));
  const padId = tokenizer.pad_token_id ?? 0;
  const ids = new BigInt64Array(texts.length * width).fill(BigInt(padId));
  const mask = new BigInt64Array(texts.length * width);
  clipped.forEach((row, r) => {
    row.forEach((id, c) => {
      ids[r * width + c] = BigInt(id);
      mask[r * width + c] = 1n;
    });
  });
  return {
    ids: new ort.Tensor('int64', ids, [texts.length, width]),
    mask: new ort.Tensor('int64', mask, [texts.length, width]),
    lengths: clipped.map((row) => row.length),
    truncated,
  };
}
