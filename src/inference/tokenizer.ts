import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { Tokenizer as LibraryTokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { UserFacingError } from '../util/errors.js';

/**
 * The part of @huggingface/tokenizers' Tokenizer (0.2.x, types/core/Tokenizer.d.ts) used here. The
 * package's .d.ts files import each other without file extensions, which NodeNext resolution
 * cannot follow, so TypeScript sees its export as `any`; this restores the types we rely on.
 */
interface TokenizerPipeline {
  encode(text: string): { ids: number[]; tokens: string[]; attention_mask: number[] };
  decode(ids: number[]): string;
  token_to_id(token: string): number | undefined;
  /** Adds the special tokens around a text ([CLS] … [SEP]); null when the tokenizer adds none. */
  post_processor: {
    post_process(tokens: string[], pair: null, addSpecialTokens: boolean): { tokens: string[] };
  } | null;
}
const TokenizerPipeline = LibraryTokenizer as new (tokenizerJson: object, tokenizerConfig: object) => TokenizerPipeline;

/*
 * tokenizer.json as far as this bot reads it itself. The library gets the whole file; these
 * schemas check only the facts we explain to people (which normalizer, which model, which
 * unknown token) and leave every other key alone, so a newer file format still loads.
 */

/** A normalizer step: BERT's own, or the generic steps (Lowercase, StripAccents, NFC …) chained by Sequence. */
export type NormalizerSpec = {
  type: string;
  lowercase?: boolean | null | undefined;
  strip_accents?: boolean | null | undefined;
  normalizers?: NormalizerSpec[] | undefined;
};
const normalizerSpec: z.ZodType<NormalizerSpec> = z.looseObject({
  type: z.string(),
  lowercase: z.boolean().nullish(),
  strip_accents: z.boolean().nullish(),
  get normalizers() {
    return z.array(normalizerSpec).optional();
  },
});

/** A pre-tokenizer step (ByteLevel, Whitespace, BertPreTokenizer …), possibly a Sequence of them. */
export type PreTokenizerSpec = { type: string; pretokenizers?: PreTokenizerSpec[] | undefined };
const preTokenizerSpec: z.ZodType<PreTokenizerSpec> = z.looseObject({
  type: z.string(),
  get pretokenizers() {
    return z.array(preTokenizerSpec).optional();
  },
});

const tokenizerSpec = z.looseObject({
  normalizer: normalizerSpec.nullish(),
  pre_tokenizer: preTokenizerSpec.nullish(),
  model: z.looseObject({
    // Files from old versions of the tokenizers library may leave the type out; the library then guesses it.
    type: z.string().optional(),
    unk_token: z.string().nullish(),
    end_of_word_suffix: z.string().nullish(),
  }),
});
/** What tokenizer.json says about the normalizer, pre-tokenizer and model. */
export type TokenizerSpec = z.infer<typeof tokenizerSpec>;

/** A special token in tokenizer_config.json: a plain string, or the serialised AddedToken object. */
const configToken = z
  .union([z.string(), z.looseObject({ content: z.string() }).transform((token) => token.content)])
  .nullish();
const tokenizerConfigSpec = z.looseObject({ pad_token: configToken, eos_token: configToken });

/** One text encoded the way the model will see it. */
export interface EncodedText {
  ids: number[];
  /** The vocabulary entry behind each id, as the model sees it ("##fun", "Ġworld", "cat</w>"). */
  pieces: string[];
  /** True for the tokens the post-processor wrapped around the text ([CLS] … [SEP]), false for the text's own. */
  special: boolean[];
}

/**
 * A tokenizer loaded from tokenizer.json + tokenizer_config.json: @huggingface/tokenizers does the
 * work; this adds what the bot needs on top (padding id, which tokens were wrapped around the text,
 * the parsed facts of tokenizer.json) without reaching into the library's private fields.
 */
export class Tokenizer {
  private constructor(
    /** The parsed facts of tokenizer.json (normalizer, pre-tokenizer, model type). */
    readonly spec: TokenizerSpec,
    private readonly pipeline: TokenizerPipeline,
    /** The id rows are padded with: the config's pad token, else its end-of-sequence token (as transformers.js did), else 0. */
    readonly padId: number,
    /** The token the model substitutes for anything its vocabulary lacks; GPT-2's byte-level BPE has none. */
    readonly unknownToken: { piece: string; id: number } | undefined,
    /** How many special tokens the post-processor puts before and after a single text. */
    private readonly wrapping: { before: number; after: number },
  ) {}

  static async load(dir: string, modelId: string): Promise<Tokenizer> {
    const folder = resolve(dir);
    const json = await readJson(modelId, join(folder, 'tokenizer.json'));
    const configJson = await readJson(modelId, join(folder, 'tokenizer_config.json'));
    const spec = parseOrThrow(modelId, join(folder, 'tokenizer.json'), tokenizerSpec, json);
    const config = parseOrThrow(modelId, join(folder, 'tokenizer_config.json'), tokenizerConfigSpec, configJson);
    let pipeline: TokenizerPipeline;
    try {
      // The parsed JSON itself: the library reads every key, the schemas above vouch only for a few.
      pipeline = new TokenizerPipeline(json as object, configJson as object);
    } catch (error) {
      throw damaged(
        modelId,
        join(folder, 'tokenizer.json'),
        `was rejected by the tokenizers library (${(error as Error).message})`,
        error,
      );
    }
    const padToken = config.pad_token || config.eos_token;
    const padId = (padToken ? pipeline.token_to_id(padToken) : undefined) ?? 0;
    const unkPiece = spec.model.unk_token ?? undefined;
    const unkId = unkPiece === undefined ? undefined : pipeline.token_to_id(unkPiece);
    const unknownToken = unkPiece !== undefined && unkId !== undefined ? { piece: unkPiece, id: unkId } : undefined;
    return new Tokenizer(spec, pipeline, padId, unknownToken, wrappingOf(modelId, pipeline));
  }

  /** The ids the model reads for a text, special tokens included. */
  ids(text: string): number[] {
    return this.pipeline.encode(text).ids;
  }

  /** Ids, pieces and which tokens are specials wrapped around the text, from one encoding pass. */
  encode(text: string): EncodedText {
    const { ids, tokens } = this.pipeline.encode(text);
    const textEnd = ids.length - this.wrapping.after;
    return { ids, pieces: tokens, special: ids.map((_, index) => index < this.wrapping.before || index >= textEnd) };
  }

  /** The text a sequence of ids stands for; an empty list decodes to "" (the library refuses one). */
  decode(ids: number[]): string {
    return ids.length === 0 ? '' : this.pipeline.decode(ids);
  }
}

/**
 * The special tokens a post-processor adds are fixed for a single text (BERT: [CLS] before, [SEP]
 * after; CLIP: <|startoftext|> … <|endoftext|>; GPT-2: none), so running it once on a stand-in
 * token tells every later encoding which positions are the text's. The stand-in starts with a NUL,
 * which no vocabulary has as a token, so it cannot be mistaken for a special token.
 */
function wrappingOf(modelId: string, pipeline: TokenizerPipeline): { before: number; after: number } {
  const standIn = '\u0000text';
  const wrapped = pipeline.post_processor
    ? pipeline.post_processor.post_process([standIn], null, true).tokens
    : [standIn];
  const before = wrapped.indexOf(standIn);
  if (before < 0 || wrapped.lastIndexOf(standIn) !== before) {
    throw new UserFacingError(
      `The tokenizer of model "${modelId}" has a post-processor that does not keep the text in one piece; it cannot be shown.`,
      {
        code: 'model_invalid',
      },
    );
  }
  return { before, after: wrapped.length - before - 1 };
}

/**
 * The store records a file's checksum in models.lock.json the first time it sees it whole, and
 * only a file that parses gets that far; one that parses but is not a tokenizer may be recorded, so
 * the advice removes that record too, or the fresh download would fail its check. The reply names
 * the file as `<model id>/<file>`: the absolute path is the operator's, not the channel's.
 */
function damaged(modelId: string, path: string, problem: string, cause?: unknown): UserFacingError {
  const file = `${modelId}/${basename(path)}`;
  return new UserFacingError(
    `The tokenizer of model "${modelId}" is damaged: ${file} ${problem}. ` +
      `Operators: delete that file and its "${file}" entry in models.lock.json, then run \`npm run models:pull ${modelId}\` to download it again.`,
    { code: 'model_invalid', cause },
  );
}

async function readJson(modelId: string, path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    // The file system's message carries the absolute path; its code says enough.
    const code = (error as { code?: unknown }).code;
    throw new UserFacingError(
      `Model "${modelId}" has no readable ${basename(path)} (${typeof code === 'string' ? code : 'unreadable'}).`,
      { code: 'model_missing', cause: error },
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw damaged(modelId, path, `is not valid JSON (${(error as Error).message})`, error);
  }
}

function parseOrThrow<T>(modelId: string, path: string, schema: z.ZodType<T>, json: unknown): T {
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  throw damaged(modelId, path, `has unexpected content (${problems.join('; ')})`);
}

/**
 * Loads a tokenizer from a folder (absolute path) holding tokenizer.json and tokenizer_config.json.
 * Model folders in the store are named after the model id, hence the default name in errors.
 */
export function loadTokenizer(dir: string, modelId: string = basename(resolve(dir))): Promise<Tokenizer> {
  return Tokenizer.load(dir, modelId);
}

/** Tokenizes a batch with padding and truncation into int64 tensors. */
export function tokenize(
  tokenizer: Tokenizer,
  texts: string[],
  maxTokens: number,
): { ids: ort.Tensor; mask: ort.Tensor; lengths: number[]; truncated: boolean[] } {
  const encoded = texts.map((text) => tokenizer.ids(text));
  const truncated = encoded.map((ids) => ids.length > maxTokens);
  // Truncation keeps the final token: the end-of-sequence marker ([SEP], <|endoftext|>) the model pools or reads from.
  const clipped = encoded.map((ids) =>
    ids.length > maxTokens ? [...ids.slice(0, maxTokens - 1), ids[ids.length - 1]!] : ids,
  );
  const width = Math.max(...clipped.map((ids) => ids.length));
  const ids = new BigInt64Array(texts.length * width).fill(BigInt(tokenizer.padId));
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
