import { resolve } from 'node:path';
import { AutoTokenizer, env, type PreTrainedTokenizer } from '@huggingface/transformers';

// Tokenizers come only from verified files in the model store, never straight from the hub.
env.allowRemoteModels = false;

/** Loads a tokenizer from a folder (absolute path) holding tokenizer.json and tokenizer_config.json. */
export function loadTokenizer(dir: string): Promise<PreTrainedTokenizer> {
  return AutoTokenizer.from_pretrained(resolve(dir));
}

export type { PreTrainedTokenizer };
