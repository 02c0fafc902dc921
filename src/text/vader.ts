/**
 * VADER (Valence Aware Dictionary and sEntiment Reasoner), ported to TypeScript from the reference
 * Python implementation: vaderSentiment 3.3.2 by C.J. Hutto (MIT licence), `vaderSentiment.py` at
 * commit 0150f59 of https://github.com/cjhutto/vaderSentiment. Its two lexicons and licence are in
 * models/vader/. The method is described in: Hutto, C.J. & Gilbert, E.E. (2014). VADER: A
 * Parsimonious Rule-based Model for Sentiment Analysis of Social Media Text. Eighth International
 * Conference on Weblogs and Social Media (ICWSM-14). Ann Arbor, MI, June 2014.
 *
 * This is a port, not a reinterpretation: it gives the reference's numbers, including its quirks
 * (they are noted where they occur), and tests compare it with the Python code on crafted sentences
 * and on the paper's 4,200 tweets. What it adds is the explanation: while a word's valence is
 * computed, each rule that changes it is recorded, so the contributions are the algorithm's own
 * intermediate values rather than a reconstruction.
 */
import {
  codePointLength,
  isPythonUpper,
  pythonRound,
  splitPythonWhitespace,
  stripAsciiPunctuation,
} from './python-text.js';
import { vaderLexicons } from './vader-lexicon.js';

// Empirically derived mean changes in rated intensity (the constants of vaderSentiment.py).
/** A booster word such as "very". */
const B_INCR = 0.293;
/** A dampener such as "kinda". */
const B_DECR = -0.293;
/** A word in ALL CAPS among words that are not. */
const C_INCR = 0.733;
/** A negation multiplies the valence by this. */
const N_SCALAR = -0.74;
/** Per "!" (at most four count). */
const EXCLAMATION_INCR = 0.292;
/** Per "?" when there are two or three. */
const QUESTION_INCR = 0.18;
/** For four or more "?". */
const QUESTIONS_MAX = 0.96;
/** The normalisation's alpha: compound = sum / √(sum² + alpha). */
const ALPHA = 15;

const NEGATE = new Set([
  'aint',
  'arent',
  'cannot',
  'cant',
  'couldnt',
  'darent',
  'didnt',
  'doesnt',
  "ain't",
  "aren't",
  "can't",
  "couldn't",
  "daren't",
  "didn't",
  "doesn't",
  'dont',
  'hadnt',
  'hasnt',
  'havent',
  'isnt',
  'mightnt',
  'mustnt',
  'neither',
  "don't",
  "hadn't",
  "hasn't",
  "haven't",
  "isn't",
  "mightn't",
  "mustn't",
  'neednt',
  "needn't",
  'never',
  'none',
  'nope',
  'nor',
  'not',
  'nothing',
  'nowhere',
  'oughtnt',
  'shant',
  'shouldnt',
  'uhuh',
  'wasnt',
  'werent',
  "oughtn't",
  "shan't",
  "shouldn't",
  'uh-uh',
  "wasn't",
  "weren't",
  'without',
  'wont',
  'wouldnt',
  "won't",
  "wouldn't",
  'rarely',
  'seldom',
  'despite',
]);

/** Degree adverbs: boosters add B_INCR to the valence's magnitude, dampeners take it away. */
const BOOSTER_DICT: ReadonlyMap<string, number> = new Map([
  ...[
    'absolutely',
    'amazingly',
    'awfully',
    'completely',
    'considerable',
    'considerably',
    'decidedly',
    'deeply',
    'effing',
    'enormous',
    'enormously',
    'entirely',
    'especially',
    'exceptional',
    'exceptionally',
    'extreme',
    'extremely',
    'fabulously',
    'flipping',
    'flippin',
    'frackin',
    'fracking',
    'fricking',
    'frickin',
    'frigging',
    'friggin',
    'fully',
    'fuckin',
    'fucking',
    'fuggin',
    'fugging',
    'greatly',
    'hella',
    'highly',
    'hugely',
    'incredible',
    'incredibly',
    'intensely',
    'major',
    'majorly',
    'more',
    'most',
    'particularly',
    'purely',
    'quite',
    'really',
    'remarkably',
    'so',
    'substantially',
    'thoroughly',
    'total',
    'totally',
    'tremendous',
    'tremendously',
    'uber',
    'unbelievably',
    'unusually',
    'utter',
    'utterly',
    'very',
  ].map((word): [string, number] => [word, B_INCR]),
  ...[
    'almost',
    'barely',
    'hardly',
    'just enough',
    'kind of',
    'kinda',
    'kindof',
    'kind-of',
    'less',
    'little',
    'marginal',
    'marginally',
    'occasional',
    'occasionally',
    'partly',
    'scarce',
    'scarcely',
    'slight',
    'slightly',
    'somewhat',
    'sort of',
    'sorta',
    'sortof',
    'sort-of',
  ].map((word): [string, number] => [word, B_DECR]),
]);

/** Idioms and phrases containing a lexicon word, with the valence that replaces the word's. */
const SPECIAL_CASES: ReadonlyMap<string, number> = new Map([
  ['the shit', 3],
  ['the bomb', 3],
  ['bad ass', 1.5],
  ['badass', 1.5],
  ['bus stop', 0.0],
  ['yeah right', -2],
  ['kiss of death', -1.5],
  ['to die for', 3],
  ['beating heart', 3.1],
  ['broken heart', -2.9],
]);

export interface VaderContribution {
  word: string;
  /** The word's valence in the lexicon (−4..+4), before any rule. */
  lexicon: number;
  /** Its valence after the rules, as summed into the compound score. */
  valence: number;
  /** The rules that changed the valence, in the order they applied. */
  rules: string[];
}

/** An emoji VADER read as its English description (from its emoji lexicon). */
export interface VaderEmoji {
  emoji: string;
  description: string;
  /** Whether a word of the description carries a valence into the score. */
  scored: boolean;
}

export type SentimentLabel = 'positive' | 'neutral' | 'negative';

export interface VaderScores {
  neg: number;
  neu: number;
  pos: number;
  compound: number;
}

export interface VaderResult extends VaderScores {
  label: SentimentLabel;
  contributions: VaderContribution[];
  emoji: VaderEmoji[];
}

/** The standard VADER thresholds. */
export const vaderLabel = (compound: number): SentimentLabel =>
  compound >= 0.05 ? 'positive' : compound <= -0.05 ? 'negative' : 'neutral';

const round3 = (value: number): number => pythonRound(value, 3);

/**
 * One text, tokenised as SentiText does it, with what the rules look at per word. `rules` is only
 * there when the caller wants the explanation, so bulk scoring records nothing.
 */
interface Sentence {
  words: string[];
  lower: string[];
  upper: boolean[];
  /** Some words are ALL CAPS and some are not (SentiText.is_cap_diff). */
  capDifferential: boolean;
  rules: string[][] | undefined;
}

/**
 * SentiText._strip_punc_if_word: leading and trailing ASCII punctuation goes, unless what is left
 * has at most two characters, which is likely an emoticon (":)", ":D") and stays as typed. So "I"
 * and "a" are words, and "ok!" stays "ok!" (which is not in the lexicon).
 */
function stripPunctuationIfWord(token: string): string {
  const stripped = stripAsciiPunctuation(token);
  return codePointLength(stripped) <= 2 ? token : stripped;
}

/** An emoji replaced by its description, and where the description sits in the replaced text. */
interface EmojiSpan {
  emoji: string;
  description: string;
  start: number;
  end: number;
}

/**
 * polarity_scores' first step: every emoji (one code point, as Python iterates a str) in the emoji
 * lexicon becomes its description, preceded by a space unless one is there. Nothing separates it
 * from what follows, as in the reference: "😁good" reads "beaming face with smiling eyesgood".
 * The reference then strips the text, which changes neither its words nor its "!" and "?" counts,
 * so that is left out.
 */
function replaceEmoji(text: string, found?: EmojiSpan[]): string {
  const { emoji, lowestEmojiCodePoint } = vaderLexicons();
  // Most text has no character that could be an emoji: skip the pass (an astral one starts with a surrogate).
  const lowestUnit = Math.min(lowestEmojiCodePoint, 0xd800);
  let hasCandidate = false;
  for (let index = 0; index < text.length && !hasCandidate; index += 1)
    hasCandidate = text.charCodeAt(index) >= lowestUnit;
  if (!hasCandidate) return text;
  let replaced = '';
  let previousSpace = true;
  for (const character of text) {
    const description = emoji.get(character);
    if (description === undefined) {
      replaced += character;
      previousSpace = character === ' ';
      continue;
    }
    if (!previousSpace) replaced += ' ';
    found?.push({ emoji: character, description, start: replaced.length, end: replaced.length + description.length });
    replaced += description;
    previousSpace = false;
  }
  return replaced;
}

/** negated() for one word: a negation word, or any word containing "n't". */
const isNegation = (lowerWord: string): boolean => NEGATE.has(lowerWord) || lowerWord.includes("n't");

/** scalar_inc_dec: what a preceding booster or dampener adds to `valence` (0 for other words). */
function scalarIncDec(sentence: Sentence, index: number, valence: number): number {
  let scalar = BOOSTER_DICT.get(sentence.lower[index]!);
  if (scalar === undefined) return 0;
  if (valence < 0) scalar *= -1;
  // A booster in ALL CAPS among other words adds emphasis too; at valence 0 the reference subtracts it.
  if (sentence.upper[index] && sentence.capDifferential) scalar += valence > 0 ? C_INCR : -C_INCR;
  return scalar;
}

/** A negation at `index` multiplies the valence by N_SCALAR. */
function negatedBy(sentence: Sentence, valence: number, index: number, rules: string[] | undefined): number {
  rules?.push(`negated by "${sentence.words[index]}" (×${N_SCALAR})`);
  return valence * N_SCALAR;
}

/** _negation_check for the word startI + 1 places before word `i`. */
function negationCheck(
  sentence: Sentence,
  valence: number,
  startI: number,
  i: number,
  rules: string[] | undefined,
): number {
  const { lower, words } = sentence;
  if (startI === 0) {
    if (isNegation(lower[i - 1]!)) valence = negatedBy(sentence, valence, i - 1, rules);
  } else if (startI === 1) {
    if (lower[i - 2] === 'never' && (lower[i - 1] === 'so' || lower[i - 1] === 'this')) {
      rules?.push(`emphasised by "${words[i - 2]} ${words[i - 1]}" (×1.25)`);
      valence = valence * 1.25;
    } else if (lower[i - 2] === 'without' && lower[i - 1] === 'doubt') {
      // "without doubt" is not a negation.
    } else if (isNegation(lower[i - 2]!)) {
      valence = negatedBy(sentence, valence, i - 2, rules);
    }
  } else if (startI === 2) {
    const neverSoThis = lower[i - 3] === 'never' && (lower[i - 2] === 'so' || lower[i - 2] === 'this');
    // The reference's `never and so/this or so/this` also emphasises any word right after "so" or "this".
    if (neverSoThis || lower[i - 1] === 'so' || lower[i - 1] === 'this') {
      rules?.push(`emphasised by "${neverSoThis ? `${words[i - 3]} ${words[i - 2]}` : words[i - 1]}" (×1.25)`);
      valence = valence * 1.25;
    } else if (lower[i - 3] === 'without' && (lower[i - 2] === 'doubt' || lower[i - 1] === 'doubt')) {
      // "without doubt" is not a negation.
    } else if (isNegation(lower[i - 3]!)) {
      valence = negatedBy(sentence, valence, i - 3, rules);
    }
  }
  return valence;
}

/** The valence SPECIAL_CASES gives a phrase, if it is one (recorded as a rule). */
function idiomValence(phrase: string, rules: string[] | undefined): number | undefined {
  const replacement = SPECIAL_CASES.get(phrase);
  if (replacement !== undefined) rules?.push(`idiom "${phrase}" (valence ${replacement})`);
  return replacement;
}

/**
 * _special_idioms_check (only run for words with three words before them): a phrase in
 * SPECIAL_CASES replaces the valence ("the bomb" is 3, though "bomb" is −2.2), and a two-word
 * dampener ("kind of", "sort of", "just enough") before the word adds B_DECR.
 */
function specialIdiomsCheck(sentence: Sentence, valence: number, i: number, rules: string[] | undefined): number {
  const lower = sentence.lower;
  const onezero = `${lower[i - 1]} ${lower[i]}`;
  const twoonezero = `${lower[i - 2]} ${lower[i - 1]} ${lower[i]}`;
  const twoone = `${lower[i - 2]} ${lower[i - 1]}`;
  const threetwoone = `${lower[i - 3]} ${lower[i - 2]} ${lower[i - 1]}`;
  const threetwo = `${lower[i - 3]} ${lower[i - 2]}`;
  let replacement: number | undefined;
  for (const phrase of [onezero, twoonezero, twoone, threetwoone, threetwo]) {
    replacement = idiomValence(phrase, rules);
    if (replacement !== undefined) break;
  }
  if (lower.length - 1 > i) replacement = idiomValence(`${lower[i]} ${lower[i + 1]}`, rules) ?? replacement;
  if (lower.length - 1 > i + 1)
    replacement = idiomValence(`${lower[i]} ${lower[i + 1]} ${lower[i + 2]}`, rules) ?? replacement;
  if (replacement !== undefined) valence = replacement;
  for (const phrase of [threetwoone, threetwo, twoone]) {
    const scalar = BOOSTER_DICT.get(phrase);
    if (scalar === undefined) continue;
    // Added as is, whatever the valence's sign: "kind of" makes a negative word more negative.
    const before = valence;
    valence = valence + scalar;
    rules?.push(`${Math.abs(valence) > Math.abs(before) ? 'boosted' : 'dampened'} by "${phrase}"`);
  }
  return valence;
}

/** _least_check: "least" right before a word negates it, except in "at least" and "very least". */
function leastCheck(sentence: Sentence, valence: number, i: number, rules: string[] | undefined): number {
  const { lower, words } = sentence;
  const { words: lexicon } = vaderLexicons();
  if (i > 0 && lower[i - 1] === 'least' && !lexicon.has('least')) {
    if (i > 1 && (lower[i - 2] === 'at' || lower[i - 2] === 'very')) return valence;
    rules?.push(`negated by "${words[i - 1]}" (×${N_SCALAR})`);
    return valence * N_SCALAR;
  }
  return valence;
}

/** sentiment_valence: the valence of word `i` after every rule that looks at its neighbours. */
function sentimentValence(sentence: Sentence, i: number): number {
  const { words, lower } = sentence;
  const { words: lexicon } = vaderLexicons();
  const lexiconValence = lexicon.get(lower[i]!);
  if (lexiconValence === undefined) return 0;
  const rules = sentence.rules?.[i];
  let valence = lexiconValence;

  // "no" before a lexicon word negates that word instead of counting as a negative word itself.
  if (lower[i] === 'no' && i !== words.length - 1 && lexicon.has(lower[i + 1]!)) {
    rules?.push('"no" before a lexicon word counts 0 (it negates that word)');
    valence = 0.0;
  }
  const noAt =
    i > 0 && lower[i - 1] === 'no'
      ? i - 1
      : i > 1 && lower[i - 2] === 'no'
        ? i - 2
        : i > 2 && lower[i - 3] === 'no' && (lower[i - 1] === 'or' || lower[i - 1] === 'nor')
          ? i - 3
          : -1;
  if (noAt >= 0) {
    rules?.push(`negated by "${words[noAt]}" (×${N_SCALAR})`);
    valence = lexiconValence * N_SCALAR;
  }

  if (sentence.upper[i] && sentence.capDifferential) {
    rules?.push(`ALL CAPS (±${C_INCR})`);
    // At valence 0 (a "NO" before a lexicon word) the reference subtracts.
    valence += valence > 0 ? C_INCR : -C_INCR;
  }

  for (let startI = 0; startI < 3; startI += 1) {
    const before = i - (startI + 1);
    // Only words outside the lexicon modify: "so good fun" does not boost "fun".
    if (i <= startI || lexicon.has(lower[before]!)) continue;
    let scalar = scalarIncDec(sentence, before, valence);
    // A modifier further away counts less.
    if (startI === 1 && scalar !== 0) scalar = scalar * 0.95;
    if (startI === 2 && scalar !== 0) scalar = scalar * 0.9;
    if (scalar !== 0)
      rules?.push(`${Math.abs(valence + scalar) > Math.abs(valence) ? 'boosted' : 'dampened'} by "${words[before]}"`);
    valence = valence + scalar;
    valence = negationCheck(sentence, valence, startI, i, rules);
    if (startI === 2) valence = specialIdiomsCheck(sentence, valence, i, rules);
  }

  return leastCheck(sentence, valence, i, rules);
}

/**
 * _but_check: words before the first "but" count half, words after it one and a half times. The
 * reference finds each valence's position with `sentiments.index(value)`, the first equal value,
 * while it rewrites the list; when two words have equal valences the factor can land on the wrong
 * one (or twice on one). That is reproduced, and the rule is recorded on the word it changed.
 */
function butCheck(sentence: Sentence, sentiments: number[]): void {
  const butIndex = sentence.lower.indexOf('but');
  if (butIndex < 0) return;
  for (let position = 0; position < sentiments.length; position += 1) {
    const sentiment = sentiments[position]!;
    const index = sentiments.indexOf(sentiment);
    if (index < butIndex) {
      sentiments[index] = sentiment * 0.5;
      if (sentiment !== 0) sentence.rules?.[index]!.push('before "but" (×0.5)');
    } else if (index > butIndex) {
      sentiments[index] = sentiment * 1.5;
      if (sentiment !== 0) sentence.rules?.[index]!.push('after "but" (×1.5)');
    }
  }
}

/** _punctuation_emphasis: up to four "!" and two or more "?" add to the sum's magnitude. */
function punctuationEmphasis(text: string): { amplifier: number; marks: string } {
  let exclamations = 0;
  let questions = 0;
  for (let index = text.indexOf('!'); index >= 0; index = text.indexOf('!', index + 1)) exclamations += 1;
  for (let index = text.indexOf('?'); index >= 0; index = text.indexOf('?', index + 1)) questions += 1;
  const counted = Math.min(exclamations, 4);
  const questionAmplifier = questions > 1 ? (questions <= 3 ? questions * QUESTION_INCR : QUESTIONS_MAX) : 0;
  return {
    amplifier: counted * EXCLAMATION_INCR + questionAmplifier,
    marks: '!'.repeat(counted) + (questions > 1 ? '?'.repeat(Math.min(questions, 4)) : ''),
  };
}

/** normalize(): the sum squashed into [−1, 1]. */
function normalize(score: number): number {
  const normalized = score / Math.sqrt(score * score + ALPHA);
  return normalized < -1 ? -1 : normalized > 1 ? 1 : normalized;
}

interface Scored {
  scores: VaderScores;
  /** When explaining: the emoji replaced, each with the indexes of the words its description became. */
  emoji: Array<EmojiSpan & { words: number[] }>;
  sentence: Sentence;
  sentiments: number[];
  /** The sum normalised into compound: the word valences plus the signed punctuation emphasis. */
  sum: number;
  emphasis: { amplifier: number; marks: string };
}

/** The words (by index, from their offsets in the replaced text) that overlap each emoji's description; "eyesgood" counts. */
function wordsOfEmoji(
  spans: readonly EmojiSpan[],
  words: readonly string[],
  starts: readonly number[],
): Array<EmojiSpan & { words: number[] }> {
  return spans.map((span) => ({
    ...span,
    // Stripping punctuation only shortens a word, so start + length bounds what is left of it.
    words: words.flatMap((word, index) =>
      span.start < starts[index]! + word.length && starts[index]! < span.end ? [index] : [],
    ),
  }));
}

/** polarity_scores, with the rules (and which words came from which emoji) recorded when `explain` is set. */
function polarityScores(text: string, explain: boolean): Scored {
  const emojiSpans: EmojiSpan[] = [];
  const replaced = replaceEmoji(text, explain ? emojiSpans : undefined);
  const starts: number[] = [];
  const words = splitPythonWhitespace(replaced, explain ? starts : undefined).map(stripPunctuationIfWord);
  const lower = words.map((word) => word.toLowerCase());
  const upper = words.map(isPythonUpper);
  const capitals = upper.filter(Boolean).length;
  const sentence: Sentence = {
    words,
    lower,
    upper,
    capDifferential: capitals > 0 && capitals < words.length,
    rules: explain ? words.map(() => []) : undefined,
  };
  const emoji = wordsOfEmoji(emojiSpans, words, starts);
  for (const span of emoji) {
    for (const index of span.words) sentence.rules?.[index]!.push(`emoji ${span.emoji} read as "${span.description}"`);
  }

  const sentiments: number[] = [];
  for (let i = 0; i < words.length; i += 1) {
    // Boosters, and "kind" in "kind of", modify other words and count as neutral themselves.
    if (BOOSTER_DICT.has(lower[i]!) || (i < words.length - 1 && lower[i] === 'kind' && lower[i + 1] === 'of')) {
      sentiments.push(0);
      continue;
    }
    sentiments.push(sentimentValence(sentence, i));
  }
  butCheck(sentence, sentiments);

  const emphasis = punctuationEmphasis(replaced);
  if (sentiments.length === 0)
    return { scores: { neg: 0, neu: 0, pos: 0, compound: 0 }, emoji, sentence, sentiments, sum: 0, emphasis };

  // score_valence
  let sum = 0;
  for (const sentiment of sentiments) sum += sentiment;
  if (sum > 0) sum += emphasis.amplifier;
  else if (sum < 0) sum -= emphasis.amplifier;
  const compound = normalize(sum);

  // _sift_sentiment_scores: each non-neutral word also counts 1, as each neutral word does.
  let positive = 0;
  let negative = 0;
  let neutral = 0;
  for (const sentiment of sentiments) {
    if (sentiment > 0) positive += sentiment + 1;
    if (sentiment < 0) negative += sentiment - 1;
    if (sentiment === 0) neutral += 1;
  }
  if (positive > Math.abs(negative)) positive += emphasis.amplifier;
  else if (positive < Math.abs(negative)) negative -= emphasis.amplifier;
  const total = positive + Math.abs(negative) + neutral;

  const scores = {
    neg: round3(Math.abs(negative / total)),
    neu: round3(Math.abs(neutral / total)),
    pos: round3(Math.abs(positive / total)),
    compound: pythonRound(compound, 4),
  };
  return { scores, emoji, sentence, sentiments, sum, emphasis };
}

/** VADER's scores alone, without the per-word explanation (for bulk evaluation). */
export function vaderScores(text: string): VaderScores {
  return polarityScores(text, false).scores;
}

/** Scores a text with VADER and explains which words moved the score, and by how much. */
export function analyseVader(text: string): VaderResult {
  const { scores, emoji, sentence, sentiments, sum, emphasis } = polarityScores(text, true);
  const { words: lexicon } = vaderLexicons();
  const contributions: VaderContribution[] = [];
  sentiments.forEach((valence, index) => {
    if (valence === 0) return;
    contributions.push({
      word: sentence.words[index]!,
      lexicon: lexicon.get(sentence.lower[index]!) ?? 0,
      valence: round3(valence),
      rules: sentence.rules![index]!,
    });
  });
  if (sum !== 0 && emphasis.amplifier > 0) {
    contributions.push({
      word: emphasis.marks,
      lexicon: 0,
      valence: round3(sum > 0 ? emphasis.amplifier : -emphasis.amplifier),
      rules: ['punctuation emphasis (! and ?)'],
    });
  }
  return {
    ...scores,
    label: vaderLabel(scores.compound),
    contributions,
    emoji: emoji.map((span) => ({
      emoji: span.emoji,
      description: span.description,
      scored: span.words.some((index) => sentiments[index] !== 0),
    })),
  };
}
