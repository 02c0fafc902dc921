import { UserFacingError } from '../util/errors.js';
import { removeInvisibleCharacters } from '../util/user-text.js';
import { guessEnglish } from './language.js';
import { UDHR_ARTICLE_1, type ParallelSentence } from './parallel-text.js';

/** At most this many sentences per request: each costs four tokenizations and a transformer row. */
export const MAX_SENTENCES = 16;
/** Per sentence and for the whole list, in characters (code points). */
export const MAX_SENTENCE_CHARS = 400;
export const MAX_LIST_CHARS = 1500;

/** One sentence to compare: a language code (ISO 639-1, or `und` when it cannot be told), its name, the text. */
export interface LanguageSample {
  code: string;
  name: string;
  text: string;
}

/** Languages a user may name with a `code:` prefix, and those the script alone gives away. */
const NAMES: Record<string, string> = {
  en: 'English',
  es: 'Spanish',
  fr: 'French',
  de: 'German',
  it: 'Italian',
  pt: 'Portuguese',
  nl: 'Dutch',
  pl: 'Polish',
  tr: 'Turkish',
  vi: 'Vietnamese',
  sw: 'Swahili',
  id: 'Indonesian',
  ru: 'Russian',
  uk: 'Ukrainian',
  bg: 'Bulgarian',
  sr: 'Serbian',
  el: 'Greek',
  ar: 'Arabic',
  fa: 'Persian',
  ur: 'Urdu',
  he: 'Hebrew',
  hi: 'Hindi',
  mr: 'Marathi',
  ne: 'Nepali',
  bn: 'Bengali',
  ta: 'Tamil',
  te: 'Telugu',
  th: 'Thai',
  zh: 'Chinese',
  ja: 'Japanese',
  ko: 'Korean',
  am: 'Amharic',
  hy: 'Armenian',
  ka: 'Georgian',
  km: 'Khmer',
};

/** Scripts used by one language only (among those likely here), so the script names it. */
const SCRIPT_LANGUAGE: ReadonlyArray<[RegExp, string]> = [
  [/\p{Script=Hangul}/u, 'ko'],
  [/[\p{Script=Hiragana}\p{Script=Katakana}]/u, 'ja'],
  [/\p{Script=Thai}/u, 'th'],
  [/\p{Script=Greek}/u, 'el'],
  [/\p{Script=Hebrew}/u, 'he'],
  [/\p{Script=Armenian}/u, 'hy'],
  [/\p{Script=Georgian}/u, 'ka'],
  [/\p{Script=Tamil}/u, 'ta'],
  [/\p{Script=Telugu}/u, 'te'],
  [/\p{Script=Khmer}/u, 'km'],
  [/\p{Script=Ethiopic}/u, 'am'],
  [/\p{Script=Han}/u, 'zh'],
];

/** Scripts shared by several languages: named, not guessed. */
const SHARED_SCRIPTS: ReadonlyArray<[RegExp, string]> = [
  [/\p{Script=Latin}/u, 'Latin'],
  [/\p{Script=Cyrillic}/u, 'Cyrillic'],
  [/\p{Script=Arabic}/u, 'Arabic'],
  [/\p{Script=Devanagari}/u, 'Devanagari'],
  [/\p{Script=Bengali}/u, 'Bengali'],
];

/** The script most of the letters are in, as a code (when one language uses it) or a script name. */
function identify(text: string): { code: string; name: string } {
  const letters = [...text].filter((char) => /\p{L}/u.test(char));
  const count = (pattern: RegExp): number => letters.filter((char) => pattern.test(char)).length;
  // Japanese mixes kana with Han: any kana makes it Japanese, not Chinese.
  const kana = count(/[\p{Script=Hiragana}\p{Script=Katakana}]/u);
  const candidates = [...SCRIPT_LANGUAGE, ...SHARED_SCRIPTS].map(([pattern, label]) => ({
    label,
    share:
      label === 'zh' && kana > 0 ? 0 : count(pattern) + (label === 'ja' && kana > 0 ? count(/\p{Script=Han}/u) : 0),
  }));
  const best = candidates.reduce((a, b) => (b.share > a.share ? b : a));
  if (NAMES[best.label]) return { code: best.label, name: NAMES[best.label]! };
  if (best.label === 'Latin' && guessEnglish(text).mostlyEnglish) return { code: 'en', name: 'English' };
  return { code: 'und', name: `${best.label} script (language not identified)` };
}

/** Grapheme clusters: what a reader counts as characters (a Devanagari syllable with its vowel sign is one). */
export function characterCount(text: string): number {
  return [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text)].length;
}

const PREFIX = /^([a-z]{2}):\s*/;

/**
 * The user's sentences: one per line, or separated by " | " on Discord (whose text options are one
 * line). A sentence may start with its language code (`fr: Bonjour`); otherwise its script names
 * it, or it is `und`. Bounded in count and length; a sentence without a letter is refused (an
 * emoji-only "language" has no words to tokenize or score).
 */
export function parseSentences(raw: string): LanguageSample[] {
  const pieces = removeInvisibleCharacters(raw.normalize('NFC'))
    .split(/\r?\n|\s+\|\s+/)
    .map((piece) => piece.trim())
    .filter(Boolean);
  if (pieces.length === 0)
    throw new UserFacingError('The sentence list is empty: give one sentence per line, or separate them with " | ".', {
      code: 'empty_text',
    });
  if (pieces.length > MAX_SENTENCES)
    throw new UserFacingError(
      `That is ${pieces.length} sentences; compare at most ${MAX_SENTENCES} at once (each one is tokenized four times and read by the transformer).`,
      { code: 'invalid_options' },
    );
  const total = pieces.reduce((sum, piece) => sum + [...piece].length, 0);
  if (total > MAX_LIST_CHARS)
    throw new UserFacingError(
      `The sentences add up to ${total} characters; keep the list under ${MAX_LIST_CHARS} (one sentence per language is enough to compare prices).`,
      { code: 'invalid_options' },
    );
  return pieces.map((piece, index) => {
    const prefix = PREFIX.exec(piece);
    const named = prefix && NAMES[prefix[1]!] ? prefix[1]! : undefined;
    const text = named ? piece.slice(prefix![0].length).trim() : piece;
    const length = [...text].length;
    if (length > MAX_SENTENCE_CHARS)
      throw new UserFacingError(
        `Sentence ${index + 1} is ${length} characters; keep each under ${MAX_SENTENCE_CHARS}.`,
        { code: 'invalid_options' },
      );
    if (!/\p{L}/u.test(text))
      throw new UserFacingError(
        `Sentence ${index + 1} has no letters (only emoji, digits or punctuation): there is no language in it to compare.`,
        { code: 'invalid_options' },
      );
    return named ? { code: named, name: NAMES[named]!, text } : { ...identify(text), text };
  });
}

/** The default: Article 1 of the UDHR in every bundled language. */
export function defaultSentences(): ParallelSentence[] {
  return [...UDHR_ARTICLE_1];
}
