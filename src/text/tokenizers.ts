import { UserFacingError } from '../util/errors.js';
import { loadOnce } from '../util/load-once.js';
import type { ModelStore } from '../models/store.js';
import { loadTokenizer, type PreTrainedTokenizer } from '../inference/tokenizer.js';

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

const TOKENIZER_FILES = /(^|\/)(tokenizer\.json|tokenizer_config\.json|vocab\.(txt|json)|merges\.txt|special_tokens_map\.json)$/;

interface LoadedTokenizer {
  id: string;
  tokenizer: PreTrainedTokenizer;
  algorithm: string;
}

/** The algorithm a tokenizer.json describes, named as a study group would look it up. */
function algorithmOf(tokenizer: PreTrainedTokenizer): string {
  const json = (tokenizer as unknown as { _tokenizerJSON?: { model?: { type?: string; end_of_word_suffix?: string | null }; pre_tokenizer?: unknown } })._tokenizerJSON;
  const type = json?.model?.type ?? 'unknown';
  if (type === 'BPE' && json?.model?.end_of_word_suffix) return 'BPE with end-of-word markers';
  if (type === 'BPE' && JSON.stringify(json?.pre_tokenizer ?? '').includes('ByteLevel')) return 'byte-level BPE';
  return type;
}

/** Loads tokenizers from the model store by manifest id, fetching only the tokenizer files. */
export class TokenizerRegistry {
  private readonly loaded = new Map<string, Promise<LoadedTokenizer>>();

  constructor(private readonly store: ModelStore) {}

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
    const tokenizer = await loadTokenizer(this.store.modelDir(entry));
    return { id, tokenizer, algorithm: algorithmOf(tokenizer) };
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
  return words.filter((word) => word.pieces.length > 1).map((word) => ({ word: decode(word.ids).trim(), pieces: word.pieces }));
}

interface TokenizerInternals {
  _tokenizerJSON?: { normalizer?: { lowercase?: boolean; strip_accents?: boolean | null } };
  unk_token_id?: number;
}

/** Tokenizes a text and explains what the tokenizer did to it. */
export function tokenizeText(loaded: LoadedTokenizer, text: string): Tokenization {
  const { tokenizer, algorithm } = loaded;
  const internals = tokenizer as unknown as TokenizerInternals;
  const pieces = tokenizer.tokenize(text);
  const plain = tokenizer.encode(text, { add_special_tokens: false });
  const full = tokenizer.encode(text);
  // The post-processor wraps the text's ids in special tokens ([CLS] … [SEP], <|startoftext|> … <|endoftext|>).
  let offset = 0;
  while (offset + plain.length <= full.length && !plain.every((id, index) => full[offset + index] === id)) offset += 1;
  if (offset + plain.length > full.length) offset = 0;
  const tokens: TokenPiece[] = full.map((id, index) => {
    const inside = index >= offset && index < offset + plain.length;
    return inside ? { piece: pieces[index - offset] ?? tokenizer.decode([id]), id, special: false } : { piece: tokenizer.decode([id]), id, special: true };
  });
  const unkId = internals.unk_token_id;
  const unknownCount = unkId === undefined ? 0 : plain.filter((id) => id === unkId).length;
  const notes: string[] = [];
  const normalizer = internals._tokenizerJSON?.normalizer;
  const lowercases = normalizer?.lowercase === true;
  if (lowercases && /[A-Z]/.test(text)) notes.push('Lowercased first: "Hello" and "hello" become the same tokens, so capitals carry no signal.');
  if (lowercases && normalizer?.strip_accents !== false && /[\u00C0-\u024F]/.test(text)) notes.push('Accents are stripped (é → e) before lookup.');
  if (unknownCount > 0) notes.push(`${unknownCount} piece(s) were not in the vocabulary and became ${tokenizer.decode([unkId!]) || '[UNK]'}: that information is lost.`);
  if (algorithm === 'byte-level BPE') {
    const bytePieces = tokens.filter((token) => !token.special && tokenizer.decode([token.id]).includes('\uFFFD')).length;
    if (bytePieces > 0) notes.push(`${bytePieces} piece(s) are raw UTF-8 bytes of an accent or emoji: byte-level BPE never meets an unknown character, it spells rare ones byte by byte.`);
    if (/ /.test(text)) notes.push('"Ġ" marks a piece that starts with a space: GPT-2 keeps the spaces inside its tokens.');
  }
  if (algorithm === 'BPE with end-of-word markers') notes.push('"</w>" marks the end of a word: CLIP\'s BPE lowercases and splits words before merging.');
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
