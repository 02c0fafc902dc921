import { UserFacingError } from '../util/errors.js';
import { loadOnce } from '../util/load-once.js';
import type { ModelStore } from '../models/store.js';
import type { Logger } from '../util/logger.js';
import {
  loadTokenizer,
  type NormalizerSpec,
  type PreTokenizerSpec,
  type Tokenizer,
  type TokenizerSpec,
} from '../inference/tokenizer.js';

export interface TokenPiece {
  piece: string;
  id: number;
  special: boolean;
}

export interface SplitWord {
  word: string;
  pieces: string[];
}

export interface Tokenization {
  tokenizer: string;
  algorithm: string;
  tokens: TokenPiece[];
  count: number;
  specialCount: number;
  unknownCount: number;
  /** Words the tokenizer had to cut into several pieces. */
  splits: SplitWord[];
  /** What this tokenizer lost or changed: case, accents, unknown characters, byte-level pieces. */
  notes: string[];
}

const TOKENIZER_FILES =
  /(^|\/)(tokenizer\.json|tokenizer_config\.json|vocab\.(txt|json)|merges\.txt|special_tokens_map\.json)$/;

interface LoadedTokenizer {
  id: string;
  tokenizer: Tokenizer;
  algorithm: string;
  /** Whether the normalizer lowercases the text, and whether it strips accents (é → e). */
  lowercases: boolean;
  stripsAccents: boolean;
}

/** The algorithm a tokenizer.json describes, named as a study group would look it up. */
function algorithmOf(spec: TokenizerSpec): string {
  const type = spec.model.type ?? 'unknown';
  if (type === 'BPE' && spec.model.end_of_word_suffix) return 'BPE with end-of-word markers';
  if (
    type === 'BPE' &&
    spec.pre_tokenizer &&
    preTokenizerSteps(spec.pre_tokenizer).some((step) => step.type === 'ByteLevel')
  )
    return 'byte-level BPE';
  return type;
}

function preTokenizerSteps(step: PreTokenizerSpec): PreTokenizerSpec[] {
  return [step, ...(step.pretokenizers ?? []).flatMap(preTokenizerSteps)];
}

function normalizerSteps(step: NormalizerSpec): NormalizerSpec[] {
  return [step, ...(step.normalizers ?? []).flatMap(normalizerSteps)];
}

/**
 * What the normalizer does to case and accents, walking Sequence steps (CLIP: NFC, Replace,
 * Lowercase). BertNormalizer strips accents when it lowercases unless strip_accents is false,
 * and otherwise only when strip_accents is true, as the tokenizers library does.
 */
function normalizationOf(spec: TokenizerSpec): { lowercases: boolean; stripsAccents: boolean } {
  const steps = spec.normalizer ? normalizerSteps(spec.normalizer) : [];
  const lowercases = steps.some(
    (step) => step.type === 'Lowercase' || (step.type === 'BertNormalizer' && step.lowercase === true),
  );
  const stripsAccents = steps.some(
    (step) =>
      step.type === 'StripAccents' ||
      (step.type === 'BertNormalizer' &&
        (step.lowercase === true ? step.strip_accents !== false : step.strip_accents === true)),
  );
  return { lowercases, stripsAccents };
}

/** Loads tokenizers from the model store by manifest id, fetching only the tokenizer files. */
export class TokenizerRegistry {
  private readonly loaded = new Map<string, Promise<LoadedTokenizer>>();

  constructor(
    private readonly store: ModelStore,
    /** Told where a tokenizer that cannot be loaded lives: replies name only the model and file. */
    private readonly logger?: Logger,
  ) {}

  get(id: string): Promise<LoadedTokenizer> {
    return loadOnce(this.loaded, id, () => this.load(id));
  }

  private async load(id: string): Promise<LoadedTokenizer> {
    const entry = this.store.entry(id);
    const files = entry.files.filter((file) => TOKENIZER_FILES.test(file.path));
    if (!files.some((file) => file.path.endsWith('tokenizer.json'))) {
      throw new UserFacingError(`Model "${id}" has no tokenizer.json in the manifest.`, { code: 'unknown_model' });
    }
    for (const file of files) await this.store.ensureFile(entry, file);
    const dir = this.store.modelDir(entry);
    const tokenizer = await loadTokenizer(dir, id).catch((error: unknown) => {
      this.logger?.warn({ model: id, dir, err: error }, 'tokenizer could not be loaded');
      throw error;
    });
    return { id, tokenizer, algorithm: algorithmOf(tokenizer.spec), ...normalizationOf(tokenizer.spec) };
  }
}

/** Groups pieces into the words they came from, using each algorithm's word-boundary marker. */
function groupWords(pieces: TokenPiece[], algorithm: string, decode: (ids: number[]) => string): SplitWord[] {
  const words: Array<{ pieces: string[]; ids: number[] }> = [];
  for (const token of pieces) {
    if (token.special) continue;
    const continues =
      algorithm === 'WordPiece'
        ? token.piece.startsWith('##')
        : algorithm === 'byte-level BPE'
          ? !token.piece.startsWith('Ġ') && words.length > 0 && /^[\p{L}\p{N}]/u.test(token.piece)
          : words.length > 0 && !(words.at(-1)!.pieces.at(-1) ?? '').endsWith('</w>') && !token.piece.startsWith(' ');
    if (continues && words.length > 0) {
      words.at(-1)!.pieces.push(token.piece);
      words.at(-1)!.ids.push(token.id);
    } else words.push({ pieces: [token.piece], ids: [token.id] });
  }
  return words
    .filter((word) => word.pieces.length > 1)
    .map((word) => ({ word: decode(word.ids).trim(), pieces: word.pieces }));
}

/** Tokenizes a text and explains what the tokenizer did to it. */
export function tokenizeText(loaded: LoadedTokenizer, text: string): Tokenization {
  const { tokenizer, algorithm } = loaded;
  const encoded = tokenizer.encode(text);
  const tokens: TokenPiece[] = encoded.ids.map((id, index) => ({
    piece: encoded.pieces[index]!,
    id,
    special: encoded.special[index]!,
  }));
  const unknown = tokenizer.unknownToken;
  // Only the text's own tokens: CLIP's unknown token is also the <|endoftext|> wrapped around every text.
  const unknownCount =
    unknown === undefined ? 0 : tokens.filter((token) => !token.special && token.id === unknown.id).length;
  const notes: string[] = [];
  if (loaded.lowercases && /[A-Z]/.test(text))
    notes.push('Lowercased first: "Hello" and "hello" become the same tokens, so capitals carry no signal.');
  if (loaded.stripsAccents && /[\u00C0-\u024F]/.test(text)) notes.push('Accents are stripped (é → e) before lookup.');
  if (unknownCount > 0)
    notes.push(
      `${unknownCount} piece(s) were not in the vocabulary and became ${unknown?.piece ?? '[UNK]'}: that information is lost.`,
    );
  if (algorithm === 'byte-level BPE') {
    const bytePieces = tokens.filter(
      (token) => !token.special && tokenizer.decode([token.id]).includes('\uFFFD'),
    ).length;
    if (bytePieces > 0)
      notes.push(
        `${bytePieces} piece(s) are raw UTF-8 bytes of an accent or emoji: byte-level BPE never meets an unknown character, it spells rare ones byte by byte.`,
      );
    if (/ /.test(text))
      notes.push('"Ġ" marks a piece that starts with a space: GPT-2 keeps the spaces inside its tokens.');
  }
  if (algorithm === 'BPE with end-of-word markers')
    notes.push('"</w>" marks the end of a word: CLIP\'s BPE lowercases and splits words before merging.');
  return {
    tokenizer: loaded.id,
    algorithm,
    tokens,
    count: tokens.length,
    specialCount: tokens.filter((token) => token.special).length,
    unknownCount,
    splits: groupWords(tokens, algorithm, (ids) => tokenizer.decode(ids)),
    notes,
  };
}
