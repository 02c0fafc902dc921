import { guessEnglish, type LanguageGuess } from '../language.js';
import { guessPartsOfSpeech } from './part-of-speech.js';
import { PorterStemmer } from './porter.js';
import { splitSentences } from './sentences.js';
import { isStopWord } from './stop-words.js';
import { nltkWordTokenize } from './word-tokenizer.js';
import type { WordNet, WordNetPos } from './wordnet.js';

/**
 * The classic NLP preprocessing pipeline the tutorials teach, step by step, each step the NLTK
 * default a tutorial would call: sentences, `word_tokenize`, lowercase, drop punctuation, drop
 * NLTK's English stop words, then Porter stemming (NLTK's default mode) and WordNet
 * lemmatization, both of the words that are left.
 */

export const STEP_NAMES = [
  'sentence split',
  'word tokenize',
  'lowercase',
  'remove punctuation',
  'remove stop words',
  'Porter stem',
  'WordNet lemmatize',
] as const;
export type StepName = (typeof STEP_NAMES)[number];

export interface ClassicStep {
  name: StepName;
  /** What the text is after this step: sentences for the first step, tokens after the others. */
  tokens: string[];
}

export interface StemmedWord {
  word: string;
  stem: string;
}

export interface LemmatizedWord {
  word: string;
  pos: WordNetPos;
  lemma: string;
  /** Why the lemmatizer was told this part of speech. */
  posReason: string;
}

export interface ClassicPipeline {
  steps: ClassicStep[];
  /** Each distinct word left after stop-word removal and its Porter stem. */
  stems: StemmedWord[];
  /** Each distinct word left after stop-word removal, its part of speech and its WordNet lemma. */
  lemmas: LemmatizedWord[];
  /** The text the sentiment engines read "after preprocessing": the lemmas, joined by spaces. */
  preprocessed: string;
  /** Stop words the list removed that carry negation ("not", "no", "nor", "isn't"…). */
  removedNegations: string[];
  english: LanguageGuess;
  notes: string[];
}

const stemmer = new PorterStemmer('nltk');

/** A token with no letter or digit: punctuation, symbols, emoji. `isalpha()`-style filters drop these. */
const isPunctuation = (token: string): boolean => !/[\p{L}\p{N}]/u.test(token);
const isNegation = (token: string): boolean =>
  /^(?:not|no|nor)$|n't$|^(?:ain|aren|couldn|didn|doesn|hadn|hasn|haven|isn|mightn|mustn|needn|shan|shouldn|wasn|weren|won|wouldn|don)$/.test(
    token,
  );

function distinct<T>(items: readonly T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => !seen.has(key(item)) && seen.add(key(item)));
}

/** Runs the pipeline on text already cleaned for the engines (src/text/input.ts). */
export function classicPipeline(text: string, wordnet: WordNet): ClassicPipeline {
  const notes: string[] = [];
  const english = guessEnglish(text);
  const sentences = splitSentences(text);
  const words = sentences.flatMap((sentence) => nltkWordTokenize(sentence));
  const lower = words.map((word) => word.toLowerCase());
  const steps: ClassicStep[] = [
    { name: 'sentence split', tokens: sentences },
    { name: 'word tokenize', tokens: words },
    { name: 'lowercase', tokens: lower },
  ];
  const kept = lower.map((token, index) => ({ token, index })).filter(({ token }) => !isPunctuation(token));
  steps.push({ name: 'remove punctuation', tokens: kept.map(({ token }) => token) });
  // The pictographs alone, not the tokens around them (which may hold Markdown such as "__").
  const symbols = [
    ...new Set(
      lower
        .filter(isPunctuation)
        .join('')
        .match(/\p{Extended_Pictographic}/gu) ?? [],
    ),
  ];
  if (symbols.length)
    notes.push(
      `Emoji (${symbols.join(' ')}) have no letters, so the punctuation filter dropped them with the punctuation; the subword tokenizers keep them.`,
    );
  if (kept.length === 0) {
    notes.push('There are no words here, only punctuation and symbols: after the punctuation filter nothing is left.');
  }
  if (!english.mostlyEnglish) {
    notes.push(
      `This text looks mostly non-English (${english.reason}): the classic steps after this one are English-only (NLTK's English stop-word list, Porter's English suffix rules, English WordNet), so they do not apply and are not shown. The subword tokenizers below still cut it.`,
    );
    return { steps, stems: [], lemmas: [], preprocessed: '', removedNegations: [], english, notes };
  }
  const content = kept.filter(({ token }) => !isStopWord(token));
  const removed = kept.filter(({ token }) => isStopWord(token)).map(({ token }) => token);
  const removedNegations = [...new Set(removed.filter(isNegation))];
  steps.push({ name: 'remove stop words', tokens: content.map(({ token }) => token) });
  if (kept.length > 0 && content.length === 0)
    notes.push(
      'Every word is on the stop-word list, so nothing is left to stem or lemmatize: a classic pipeline would hand its model an empty document.',
    );
  if (removedNegations.length)
    notes.push(
      `The stop-word list removed ${removedNegations.map((word) => `"${word}"`).join(', ')}: the negation is gone from the preprocessed text, which can flip its sentiment.`,
    );
  // Parts of speech come from the whole sentence, as a tagger would see it, before stop words go.
  const guesses = guessPartsOfSpeech(lower, wordnet);
  const stemmed = content.map(({ token }) => ({ word: token, stem: stemmer.stem(token) }));
  const lemmatized = content.map(({ token, index }) => {
    const guess = guesses[index]!;
    return { word: token, pos: guess.pos, lemma: wordnet.lemmatize(token, guess.pos), posReason: guess.reason };
  });
  steps.push({ name: 'Porter stem', tokens: stemmed.map(({ stem }) => stem) });
  steps.push({ name: 'WordNet lemmatize', tokens: lemmatized.map(({ lemma }) => lemma) });
  return {
    steps,
    stems: distinct(stemmed, ({ word }) => word),
    lemmas: distinct(lemmatized, ({ word, pos }) => `${word}/${pos}`),
    preprocessed: lemmatized.map(({ lemma }) => lemma).join(' '),
    removedNegations,
    english,
    notes,
  };
}
