/**
 * Penn-Treebank-style word tokenization, ported regex for regex from NLTK's
 * `nltk/tokenize/treebank.py` (TreebankWordTokenizer) and `nltk/tokenize/destructive.py`
 * (NLTKWordTokenizer, the "improved Treebank" tokenizer that `nltk.word_tokenize` runs on each
 * sentence). Contractions split the Treebank way ("isn't" → "is" "n't", "can't" → "ca" "n't",
 * "they'll" → "they" "'ll"), double quotes become `` and '', punctuation stands alone except a
 * period inside a sentence ("York." stays whole: only the last period of the text is split).
 *
 * Python's `re` and JavaScript's differ where it matters here: Python's \w, \d and \b are
 * Unicode-aware for str patterns, JavaScript's are ASCII even with the u flag, so \w is written
 * [\p{L}\p{N}_] and \b as lookarounds; Python's `$` also matches before a final newline.
 */

const WORD = String.raw`[\p{L}\p{N}_]`;
/** Python's \b at the start of a word (the pattern that follows starts with a word character). */
const WORD_START = `(?<!${WORD})`;
/** Python's \b after a word character. */
const WORD_END = `(?!${WORD})`;
/** Python's `$` without MULTILINE: the end, or just before a newline that ends the text. */
const END = String.raw`(?=\n?$)`;

type Substitution = readonly [pattern: RegExp, replacement: string];

const sub = (source: string, replacement: string, flags = ''): Substitution => [
  new RegExp(source, `gu${flags}`),
  replacement,
];

// Robert MacIntyre's contractions, as NLTK lists them: "cannot" → "can" "not", "gonna" → "gon" "na".
const CONTRACTIONS_2 = ['can)(not', "d)('ye", 'gim)(me', 'gon)(na', 'got)(ta', 'lem)(me', "more)('n"]
  .map((pair) => sub(`${WORD_START}(${pair})${WORD_END}`, ' $1 $2 ', 'i'))
  .concat([sub(String.raw`${WORD_START}(wan)(na)(?=\s)`, ' $1 $2 ', 'i')]);
const CONTRACTIONS_3 = [sub(`('t)(is)${WORD_END}`, ' $1 $2 ', 'i'), sub(`('t)(was)${WORD_END}`, ' $1 $2 ', 'i')].map(
  ([pattern, replacement]): Substitution => [new RegExp(` ${pattern.source}`, pattern.flags), replacement],
);

const PARENS_BRACKETS = sub(String.raw`[\]\[(){}<>]`, ' $& ');
const DOUBLE_DASHES = sub('--', ' -- ');

const ENDING_QUOTES_COMMON: Substitution[] = [
  sub("''", " '' "),
  sub('"', " '' "),
  sub(String.raw`([^' ])('[sS]|'[mM]|'[dD]|') `, '$1 $2 '),
  sub(String.raw`([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) `, '$1 $2 '),
];

/** The rule sets of one tokenizer, applied in NLTK's order. */
interface TokenizerRules {
  startingQuotes: Substitution[];
  punctuation: Substitution[];
  endingQuotes: Substitution[];
}

const TREEBANK: TokenizerRules = {
  startingQuotes: [sub('^"', '``'), sub('(``)', ' $1 '), sub(String.raw`([ \(\[{<])("|'{2})`, '$1 `` ')],
  punctuation: [
    sub(String.raw`([:,])([^\d])`, ' $1 $2'),
    sub(`([:,])${END}`, ' $1 '),
    sub(String.raw`\.\.\.`, ' ... '),
    sub('[;@#$%&]', ' $& '),
    // The final period of the text, with any closing brackets and quotes after it.
    sub(String.raw`([^\.])(\.)([\]\)}>"']*)\s*$`, '$1 $2$3 '),
    sub('[?!]', ' $& '),
    sub("([^'])' ", "$1 ' "),
  ],
  endingQuotes: ENDING_QUOTES_COMMON,
};

const NLTK: TokenizerRules = {
  startingQuotes: [
    sub('([«“‘„]|[`]+)', ' $1 '),
    sub('^"', '``'),
    sub('(``)', ' $1 '),
    sub(String.raw`([ \(\[{<])("|'{2})`, '$1 `` '),
    // A quote opening a word that is not a clitic ('re, 've, 'll, 'm, 't, 's, 'd, 'n).
    sub(`(')(?!re|ve|ll|m|t|s|d|n)(${WORD})${WORD_END}`, '$1 $2', 'i'),
  ],
  punctuation: [
    sub(String.raw`([^\.])(\.)([\]\)}>"'»”’ ]*)\s*$`, '$1 $2 $3 '),
    sub(String.raw`([:,])([^\d])`, ' $1 $2'),
    sub(`([:,])${END}`, ' $1 '),
    sub(String.raw`\.{2,}`, ' $& '),
    sub('[;@#$%&]', ' $& '),
    sub(String.raw`([^\.])(\.)([\]\)}>"']*)\s*$`, '$1 $2$3 '),
    sub('[?!]', ' $& '),
    sub("([^'])' ", "$1 ' "),
    sub('[*]', ' $& '),
  ],
  endingQuotes: [sub('([»”’])', ' $1 '), ...ENDING_QUOTES_COMMON],
};

function tokenizeWith(rules: TokenizerRules, input: string): string[] {
  const apply = (text: string, substitutions: readonly Substitution[]): string =>
    substitutions.reduce((current, [pattern, replacement]) => current.replace(pattern, replacement), text);
  let text = apply(input, rules.startingQuotes);
  text = apply(text, rules.punctuation);
  text = apply(text, [PARENS_BRACKETS, DOUBLE_DASHES]);
  // NLTK pads with spaces so that the ending-quote and contraction rules can rely on them.
  text = apply(` ${text} `, rules.endingQuotes);
  text = apply(text, CONTRACTIONS_2);
  text = apply(text, CONTRACTIONS_3);
  return text.split(/\s+/u).filter((token) => token !== '');
}

/** NLTK's TreebankWordTokenizer().tokenize(text). */
export const treebankTokenize = (text: string): string[] => tokenizeWith(TREEBANK, text);

/** NLTK's NLTKWordTokenizer().tokenize(text): what `word_tokenize` runs on each sentence. */
export const nltkWordTokenize = (text: string): string[] => tokenizeWith(NLTK, text);
