import type { Tiktoken } from 'js-tiktoken/lite';

/**
 * OpenAI's o200k_base byte-level BPE (GPT-4o's tokenizer, 200k tokens, trained on far more
 * non-English text than GPT-2's 50k): the real ranks ship inside js-tiktoken, so it works offline.
 * Building it parses a 2 MB rank table (about a second on a busy 2-core machine), so it is built
 * on first use and shared.
 */
export interface O200kTokenizer {
  name: 'o200k';
  id: 'o200k_base';
  algorithm: 'byte-level BPE';
  encode(text: string): number[];
}

let loading: Promise<O200kTokenizer> | undefined;

export function loadO200k(): Promise<O200kTokenizer> {
  loading ??= (async () => {
    const [{ Tiktoken: Encoder }, { default: ranks }] = await Promise.all([
      import('js-tiktoken/lite'),
      import('js-tiktoken/ranks/o200k_base'),
    ]);
    const encoder: Tiktoken = new Encoder(ranks);
    return {
      name: 'o200k',
      id: 'o200k_base',
      algorithm: 'byte-level BPE',
      encode: (text: string) => encoder.encode(text),
    } as const;
  })();
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}
