import type { PipelineContext } from '../inference/pipeline.js';
import { describeError, isUserFacing } from '../util/errors.js';
import { SharedLoads } from '../util/load-once.js';
import { inTurn } from '../util/turns.js';
import type { Logger } from '../util/logger.js';
import { compareSentiment, type Comparison } from './disagreement.js';
import { guessEnglish } from './language.js';
import { classicPipeline, type ClassicPipeline } from './preprocess/pipeline.js';
import { loadWordNet, type WordNet } from './preprocess/wordnet.js';
import { loadTextClassifier, type TextClassifier, type TransformerSentiment } from './sentiment.js';
import { characterCount } from './languages.js';
import { loadO200k } from './tiktoken.js';
import { TokenizerRegistry, tokenizeText, type Tokenization } from './tokenizers.js';
import { analyseVader, type VaderResult } from './vader.js';

export interface TextSettings {
  context: PipelineContext;
  logger: Logger;
  /** Manifest ids: the sentiment transformer, and the tokenizers by their short names. */
  models: { sentiment: string; tokenizers: Record<TokenizerName, string> };
}

export const TOKENIZER_NAMES = ['bert', 'gpt2', 'clip'] as const;
export type TokenizerName = (typeof TOKENIZER_NAMES)[number];

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
      transformer = { unavailable: isUserFacing(error) ? error.message : `internal error: ${describeError(error)}` };
    }
    const comparison = 'label' in transformer ? compareSentiment(text, vader, transformer) : undefined;
    return { vader, transformer, comparison, notes };
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
      const unavailable = isUserFacing(error) ? error.message : `internal error: ${describeError(error)}`;
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
          const counts = texts.map((text) => o200k.encode(text).length);
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
          reason: isUserFacing(error) ? error.message : `internal error: ${describeError(error)}`,
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
