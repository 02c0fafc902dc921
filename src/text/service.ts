import { sessionRunsOf, type PipelineContext } from '../inference/pipeline.js';
import { isUserFacing, unavailableReason, UserFacingError } from '../util/errors.js';
import { SharedLoads } from '../util/load-once.js';
import { inTurn } from '../util/turns.js';
import type { Logger } from '../util/logger.js';
import { compareSentiment, type Comparison } from './disagreement.js';
import { guessEnglish } from './language.js';
import { classicPipeline, type ClassicPipeline } from './preprocess/pipeline.js';
import { loadWordNet, type WordNet } from './preprocess/wordnet.js';
import { seededRandom } from '../util/random.js';
import { loadFillMask, type FillGuess, type FillMaskModel } from './fill-mask.js';
import type { ModelIdentity, PipelineTimings } from '../inference/pipeline.js';
import { loadTextClassifier, type TextClassifier, type TransformerSentiment } from './sentiment.js';
import { characterCount } from './languages.js';
import { loadO200k } from './tiktoken.js';
import { TokenizerRegistry, tokenizeText, type Tokenization } from './tokenizers.js';
import { analyseVader, type VaderResult } from './vader.js';

export interface TextSettings {
  context: PipelineContext;
  logger: Logger;
  /** Manifest ids: the sentiment transformer, and the tokenizers by their short names. */
  models: { sentiment: string; fillMask: string; tokenizers: Record<TokenizerName, string> };
}

export const TOKENIZER_NAMES = ['bert', 'gpt2', 'clip'] as const;
export type TokenizerName = (typeof TOKENIZER_NAMES)[number];

/** One word's weight in each engine's verdict. */
export interface WordSaliency {
  word: string;
  /** VADER's valence for the word after its rules (0 when the word is not in the lexicon). */
  vader: number;
  /** How much the transformer's probability of its verdict falls when the word is left out (negative: it rises). */
  transformer: number | null;
}

export interface WordSaliencyReport {
  words: WordSaliency[];
  vader: VaderResult;
  /** The transformer's verdict on the whole text, its model and timing; or why it could not run. */
  transformer: (TransformerSentiment & { images: number; runs: number }) | { unavailable: string };
}

/** At most this many words get a leave-one-out variant: one variant each, all in one request. */
export const MAX_SALIENCY_WORDS = 60;

const bare = (word: string): string => word.toLowerCase().replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');

/** Words hidden and BERT's guesses: how much of a sentence a masked language model recovers. */
export interface MaskedWordsReport {
  masked: string;
  blanks: Array<{ original: string; predictions: FillGuess[] }>;
  recovered: number;
  /**
   * Hidden words past what the model reads of the text (its first maxTokens tokens): they came
   * back without guesses, so they are shown as written and are neither blanks nor counted.
   */
  unread: number;
  model: ModelIdentity;
  timings: PipelineTimings;
}

/** BERT's pre-training share: 15% of the tokens hidden (here: of the words, at least one). */
export const MASKED_SHARE = 0.15;

/** The tokenizers whose prices /languages compares: /tokenize's three and a modern multilingual one. */
export const PRICE_TOKENIZERS = [...TOKENIZER_NAMES, 'o200k'] as const;
export type PriceTokenizer = (typeof PRICE_TOKENIZERS)[number];

/** What one text costs one tokenizer: its own tokens (no [CLS]/[SEP] or start/end markers), and per character. */
export interface TokenPrice {
  tokens: number;
  perChar: number;
  /** Tokens that are the unknown token: cheap, because the text was thrown away (BERT on Thai). Absent when none. */
  unknown?: number;
}

export interface TokenPrices {
  /** One record per text, in order; a tokenizer that could not load is absent from every record. */
  prices: Array<Partial<Record<PriceTokenizer, TokenPrice>>>;
  /** The tokenizers that answered: short name, what it is. */
  tokenizers: Array<{ name: PriceTokenizer; id: string; algorithm: string }>;
  unavailable: Array<{ tokenizer: PriceTokenizer; reason: string }>;
}

/** VADER and the transformer on one text, as the experiments show them side by side. */
export interface SentimentPair {
  vader: VaderResult;
  transformer: TransformerSentiment | { unavailable: string };
}

export interface SentimentReport {
  vader: VaderResult;
  transformer: TransformerSentiment | { unavailable: string };
  comparison: Comparison | undefined;
  notes: string[];
}

/**
 * VADER replaces each emoji by its English name from its emoji lexicon and scores the words of the
 * name like any others, so an emoji can carry nothing: no word of its name is in the lexicon
 * ("automobile"), or VADER does not know it (a newer emoji). Says which emoji those are, if any.
 */
function emojiWithoutScore(text: string, vader: VaderResult): string | undefined {
  const read = new Set(vader.emoji.map((entry) => entry.emoji));
  const unknown = [...new Set(text.match(/\p{Extended_Pictographic}/gu) ?? [])].filter((emoji) => !read.has(emoji));
  const unscored = [
    ...new Map(vader.emoji.filter((entry) => !entry.scored).map((entry) => [entry.emoji, entry.description])).entries(),
  ];
  if (unknown.length === 0 && unscored.length === 0) return undefined;
  const reasons = [
    ...unscored.map(([emoji, description]) => `${emoji} is "${description}", which added nothing`),
    ...unknown.map((emoji) => `${emoji} is not in its emoji lexicon`),
  ];
  const emoji = [...unscored.map(([character]) => character), ...unknown].join(' ');
  return `Emoji ${emoji} carry no score here: VADER reads each emoji as its English name (😁 → "beaming face with smiling eyes") and scores the words of that name like any others; ${reasons.join('; ')}.`;
}

/** What commands may ask of the language side: sentiment from two engines, and tokenization. */
export class TextService {
  private readonly loads = new SharedLoads();
  private readonly tokenizers: TokenizerRegistry;

  constructor(private readonly settings: TextSettings) {
    this.tokenizers = new TokenizerRegistry(settings.context.store, settings.logger);
  }

  classifier(): Promise<TextClassifier> {
    const id = this.settings.models.sentiment;
    return this.loads.get(`text-classifier:${id}`, () => loadTextClassifier(this.settings.context, id));
  }

  loaded(): Promise<string[]> {
    return this.loads.loaded();
  }

  /** Runs VADER and the transformer side by side on one (already cleaned) text. */
  async sentiment(text: string, onPosition?: (position: number) => void): Promise<SentimentReport> {
    const vader = analyseVader(text);
    const notes: string[] = [];
    const language = guessEnglish(text);
    if (!language.mostlyEnglish) {
      notes.push(
        `This text looks mostly non-English (${language.reason}): VADER's lexicon is English-only, so its score is unreliable here.`,
      );
    }
    const unscoredEmoji = emojiWithoutScore(text, vader);
    if (unscoredEmoji) notes.push(unscoredEmoji);
    let transformer: SentimentReport['transformer'];
    try {
      transformer = await (await this.classifier()).run(text, { onPosition });
      if (transformer.truncated) {
        notes.push(
          `The transformer reads at most ${transformer.maxTokens} tokens; the rest of the text was cut off for it (VADER read all of it).`,
        );
      }
    } catch (error) {
      if (!isUserFacing(error)) this.settings.logger.error({ err: error }, 'transformer sentiment failed');
      transformer = { unavailable: unavailableReason(error) };
    }
    const comparison = 'label' in transformer ? compareSentiment(text, vader, transformer) : undefined;
    return { vader, transformer, comparison, notes };
  }

  /**
   * Which words mattered: VADER's per-word valences (read from its rules) beside the transformer's
   * leave-one-word-out change in the probability of its verdict, all variants in one request.
   */
  async wordSaliency(text: string, onPosition?: (position: number) => void): Promise<WordSaliencyReport> {
    const words = text.split(/\s+/).filter(Boolean).slice(0, MAX_SALIENCY_WORDS);
    const vader = analyseVader(text);
    const unused = [...vader.contributions];
    const vaderOf = (word: string): number => {
      const at = unused.findIndex((contribution) => bare(contribution.word) === bare(word));
      if (at < 0) return 0;
      return unused.splice(at, 1)[0]!.valence;
    };
    const vaderValues = words.map(vaderOf);
    let transformer: WordSaliencyReport['transformer'];
    let changes: Array<number | null> = words.map(() => null);
    try {
      const variants = words.map((_, index) => words.filter((__, other) => other !== index).join(' '));
      const results = await (await this.classifier()).runMany([text, ...variants], { onPosition });
      const full = results[0]!;
      changes = results.slice(1).map((result) => full.score - (result.scores[full.label] ?? 0));
      const runs = sessionRunsOf(results.map((result) => result.timings));
      transformer = { ...full, images: results.length, runs };
    } catch (error) {
      if (!isUserFacing(error)) this.settings.logger.error({ err: error }, 'transformer word saliency failed');
      transformer = { unavailable: unavailableReason(error) };
    }
    return {
      words: words.map((word, index) => ({ word, vader: vaderValues[index]!, transformer: changes[index] ?? null })),
      vader,
      transformer,
    };
  }

  fillMask(): Promise<FillMaskModel> {
    const id = this.settings.models.fillMask;
    return this.loads.get(`fill-mask:${id}`, () => loadFillMask(this.settings.context, id));
  }

  /** Hides a seeded 15% of the words (at least one) and lets the masked language model fill them in. */
  async maskWords(text: string, seed: number, onPosition?: (position: number) => void): Promise<MaskedWordsReport> {
    const model = await this.fillMask();
    // The tokenizer reads the mask token wherever it is typed, and the model's guesses come back
    // per [MASK] in order: one typed by the user would take the guesses of the words hidden here.
    if (text.includes(model.maskToken))
      throw new UserFacingError(
        `The text already contains ${model.maskToken}, the token this experiment hides words with: the model would read it as one more blank, and its guesses would go to the wrong word. Leave it out; /mask-text chooses the words to hide itself.`,
        { code: 'bad_request' },
      );
    const words = text.split(/\s+/).filter(Boolean);
    const candidates = words.flatMap((word, index) => (bare(word) ? [index] : []));
    const random = seededRandom(seed);
    for (let i = candidates.length - 1; i > 0; i -= 1) {
      const j = Math.floor(random() * (i + 1));
      [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
    }
    const count = Math.min(candidates.length, Math.max(1, Math.round(MASKED_SHARE * words.length)));
    const hidden = new Set(candidates.slice(0, count));
    const originals: string[] = [];
    const maskedWords = words.map((word, index) => {
      if (!hidden.has(index)) return word;
      originals.push(bare(word));
      return word.replace(/[\p{L}\p{N}](?:.*[\p{L}\p{N}])?/u, model.maskToken);
    });
    const result = await model.run(maskedWords.join(' '), { onPosition });
    // One list of guesses per [MASK] the model read, in order: those past its input window are missing.
    const read = Math.min(originals.length, result.blanks.length);
    let order = 0;
    const masked = words
      .map((word, index) => {
        if (!hidden.has(index)) return word;
        order += 1;
        return order <= read ? maskedWords[index]! : word;
      })
      .join(' ');
    const blanks = originals
      .slice(0, read)
      .map((original, index) => ({ original, predictions: result.blanks[index]! }));
    return {
      masked,
      blanks,
      recovered: blanks.filter((blank) => blank.predictions[0]?.token === blank.original).length,
      unread: originals.length - read,
      model: result.model,
      timings: result.timings,
    };
  }

  /**
   * VADER and the transformer on many texts; the transformer reads them all in one batched run.
   * A transformer that cannot run is reported on every text; VADER always answers.
   */
  async sentimentMany(texts: readonly string[], onPosition?: (position: number) => void): Promise<SentimentPair[]> {
    const vader = texts.map((text) => analyseVader(text));
    let transformer: SentimentPair['transformer'][];
    try {
      transformer = await (await this.classifier()).runMany(texts, { onPosition });
    } catch (error) {
      if (!isUserFacing(error)) this.settings.logger.error({ err: error }, 'transformer sentiment failed');
      const unavailable = unavailableReason(error);
      transformer = texts.map(() => ({ unavailable }));
    }
    return texts.map((_, index) => ({ vader: vader[index]!, transformer: transformer[index]! }));
  }

  /**
   * What each text costs each tokenizer, in its own tokens and per character (grapheme). A
   * tokenizer that cannot load is reported, and the others still answer.
   */
  async tokenPrices(texts: readonly string[]): Promise<TokenPrices> {
    const characters = texts.map((text) => Math.max(1, characterCount(text)));
    const price = (tokens: number, index: number, unknown = 0): TokenPrice => ({
      tokens,
      perChar: Math.round((tokens / characters[index]!) * 1000) / 1000,
      ...(unknown > 0 ? { unknown } : {}),
    });
    const settled = await Promise.allSettled(
      PRICE_TOKENIZERS.map(async (name) => {
        if (name === 'o200k') {
          const o200k = await loadO200k();
          const counts = (await o200k.encode(texts)).map((tokens) => tokens.length);
          return { id: o200k.id, algorithm: o200k.algorithm, counts, unknown: counts.map(() => 0) };
        }
        const loaded = await this.tokenizers.get(this.settings.models.tokenizers[name]);
        const results = texts.map((text) => tokenizeText(loaded, text));
        return {
          id: loaded.id,
          algorithm: loaded.algorithm,
          counts: results.map((r) => r.count - r.specialCount),
          unknown: results.map((r) => r.unknownCount),
        };
      }),
    );
    const result: TokenPrices = { prices: texts.map(() => ({})), tokenizers: [], unavailable: [] };
    settled.forEach((outcome, index) => {
      const name = PRICE_TOKENIZERS[index]!;
      if (outcome.status === 'rejected') {
        const error: unknown = outcome.reason;
        if (!isUserFacing(error)) this.settings.logger.error({ err: error, tokenizer: name }, 'tokenizer failed');
        result.unavailable.push({
          tokenizer: name,
          reason: unavailableReason(error),
        });
        return;
      }
      result.tokenizers.push({ name, id: outcome.value.id, algorithm: outcome.value.algorithm });
      const { counts, unknown } = outcome.value;
      counts.forEach((count, text) => (result.prices[text]![name] = price(count, text, unknown[text])));
    });
    return result;
  }

  /** WordNet's index and exception lists, read on first use (never at start-up: only /preprocess needs them). */
  wordnet(): Promise<WordNet> {
    return this.loads.get('wordnet', () => loadWordNet());
  }

  /** The classic NLTK-style preprocessing pipeline, step by step, on one (already cleaned) text. */
  async classicPipeline(text: string): Promise<ClassicPipeline> {
    const wordnet = await this.wordnet();
    // Tens of milliseconds for the longest text: its own turn of the event loop, as drawing a chart.
    return inTurn(() => classicPipeline(text, wordnet));
  }

  /** The text cut into tokens by each named tokenizer. */
  tokenize(text: string, names: readonly TokenizerName[]): Promise<Tokenization[]> {
    return Promise.all(
      names.map(async (name) => tokenizeText(await this.tokenizers.get(this.settings.models.tokenizers[name]), text)),
    );
  }
}
