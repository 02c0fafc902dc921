/**
 * The Porter stemmer (M. F. Porter, "An algorithm for suffix stripping", Program 14(3), 1980),
 * ported rule for rule from NLTK's `nltk/stem/porter.py`, with its three modes:
 *
 * - `original`: the algorithm as the paper gives it (NLTK's ORIGINAL_ALGORITHM).
 * - `martin`: Martin Porter's own reference implementation, which departs from the paper in a few
 *   places ("bli" → "ble" instead of "abli" → "able", "logi" → "log", words of one or two letters
 *   left alone); its output on his published 23,531-word vocabulary is tartarus.org's output.txt
 *   (NLTK's MARTIN_EXTENSIONS).
 * - `nltk`: NLTK's default (NLTK_EXTENSIONS), which a tutorial's `PorterStemmer().stem(w)` runs:
 *   a few irregular forms ("dying" → "die", "skies" → "sky"), "ies"/"ied" on four-letter words
 *   ("ties" → "tie"), y → i only after a consonant ("enjoy" stays), and "fulli", "alli", "logi".
 *
 * tests/unit/text/preprocess/porter.test.ts checks all three against NLTK's test files for the
 * whole vocabulary. It maps related forms to one string ("classifiers", "classify" → "classifi"),
 * which need not be a word: that is what retrieval wants, and what /preprocess shows.
 */

export type PorterMode = 'original' | 'martin' | 'nltk';

const VOWELS = new Set(['a', 'e', 'i', 'o', 'u']);

// NLTK_EXTENSIONS' irregular forms: each form stems straight to its key.
const IRREGULAR: ReadonlyMap<string, string> = new Map(
  Object.entries({
    sky: ['sky', 'skies'],
    die: ['dying'],
    lie: ['lying'],
    tie: ['tying'],
    news: ['news'],
    inning: ['innings', 'inning'],
    outing: ['outings', 'outing'],
    canning: ['cannings', 'canning'],
    howe: ['howe'],
    proceed: ['proceed'],
    exceed: ['exceed'],
    succeed: ['succeed'],
  }).flatMap(([stem, forms]) => forms.map((form): [string, string] => [form, stem])),
);

/** A letter other than a, e, i, o, u, and other than a y after a consonant ("toy": t and y; "syzygy": s, z, g). */
function isConsonant(word: string, index: number): boolean {
  const letter = word[index]!;
  if (VOWELS.has(letter)) return false;
  if (letter === 'y') return index === 0 ? true : !isConsonant(word, index - 1);
  return true;
}

/** m in [C](VC)^m[V]: how many vowel-consonant sequences the stem has. */
function measure(stem: string): number {
  let count = 0;
  for (let index = 1; index < stem.length; index += 1) {
    if (!isConsonant(stem, index - 1) && isConsonant(stem, index)) count += 1;
  }
  return count;
}

const positiveMeasure = (stem: string): boolean => measure(stem) > 0;

function containsVowel(stem: string): boolean {
  for (let index = 0; index < stem.length; index += 1) if (!isConsonant(stem, index)) return true;
  return false;
}

/** *d: the word ends with a double consonant. */
const endsDoubleConsonant = (word: string): boolean =>
  word.length >= 2 && word.at(-1) === word.at(-2) && isConsonant(word, word.length - 1);

/** A rule: the suffix to remove ("*d" for a double consonant), its replacement, and a condition on the stem. */
type Rule = readonly [suffix: string, replacement: string, condition: ((stem: string) => boolean) | null];

export class PorterStemmer {
  constructor(readonly mode: PorterMode = 'nltk') {}

  /** *o: the stem ends consonant-vowel-consonant, the last not w, x or y ("hop", "wil"). */
  private endsCvc(word: string): boolean {
    const n = word.length;
    return (
      (n >= 3 &&
        isConsonant(word, n - 3) &&
        !isConsonant(word, n - 2) &&
        isConsonant(word, n - 1) &&
        !'wxy'.includes(word[n - 1]!)) ||
      (this.mode === 'nltk' && n === 2 && !isConsonant(word, 0) && isConsonant(word, 1))
    );
  }

  /** The first rule whose suffix the word ends with decides: applied if its condition holds, else the word stays. */
  private applyRules(word: string, rules: readonly Rule[]): string {
    for (const [suffix, replacement, condition] of rules) {
      if (suffix === '*d' && endsDoubleConsonant(word)) {
        const stem = word.slice(0, -2);
        return condition === null || condition(stem) ? stem + replacement : word;
      }
      if (word.endsWith(suffix)) {
        const stem = suffix === '' ? word : word.slice(0, -suffix.length);
        return condition === null || condition(stem) ? stem + replacement : word;
      }
    }
    return word;
  }

  private step1a(word: string): string {
    if (this.mode === 'nltk' && word.endsWith('ies') && word.length === 4) return `${word.slice(0, -3)}ie`;
    return this.applyRules(word, [
      ['sses', 'ss', null],
      ['ies', 'i', null],
      ['ss', 'ss', null],
      ['s', '', null],
    ]);
  }

  private step1b(word: string): string {
    if (this.mode === 'nltk' && word.endsWith('ied'))
      return word.length === 4 ? `${word.slice(0, -3)}ie` : `${word.slice(0, -3)}i`;
    if (word.endsWith('eed')) {
      const stem = word.slice(0, -3);
      return measure(stem) > 0 ? `${stem}ee` : word;
    }
    let intermediate: string | undefined;
    for (const suffix of ['ed', 'ing']) {
      if (word.endsWith(suffix) && containsVowel(word.slice(0, -suffix.length))) {
        intermediate = word.slice(0, -suffix.length);
        break;
      }
    }
    if (intermediate === undefined) return word;
    const last = intermediate.at(-1) ?? '';
    return this.applyRules(intermediate, [
      ['at', 'ate', null],
      ['bl', 'ble', null],
      ['iz', 'ize', null],
      ['*d', last, () => !'lsz'.includes(last)],
      ['', 'e', (stem) => measure(stem) === 1 && this.endsCvc(stem)],
    ]);
  }

  private step1c(word: string): string {
    // NLTK: y → i only after a consonant that is not the whole stem ("happy" → "happi", "enjoy" stays).
    const condition =
      this.mode === 'nltk'
        ? (stem: string) => stem.length > 1 && isConsonant(stem, stem.length - 1)
        : (stem: string) => containsVowel(stem);
    return this.applyRules(word, [['y', 'i', condition]]);
  }

  private step2(word: string): string {
    if (this.mode === 'nltk' && word.endsWith('alli') && positiveMeasure(word.slice(0, -4)))
      return this.step2(`${word.slice(0, -4)}al`);
    const rules: Rule[] = [
      ['ational', 'ate', positiveMeasure],
      ['tional', 'tion', positiveMeasure],
      ['enci', 'ence', positiveMeasure],
      ['anci', 'ance', positiveMeasure],
      ['izer', 'ize', positiveMeasure],
      this.mode === 'original' ? ['abli', 'able', positiveMeasure] : ['bli', 'ble', positiveMeasure],
      ['alli', 'al', positiveMeasure],
      ['entli', 'ent', positiveMeasure],
      ['eli', 'e', positiveMeasure],
      ['ousli', 'ous', positiveMeasure],
      ['ization', 'ize', positiveMeasure],
      ['ation', 'ate', positiveMeasure],
      ['ator', 'ate', positiveMeasure],
      ['alism', 'al', positiveMeasure],
      ['iveness', 'ive', positiveMeasure],
      ['fulness', 'ful', positiveMeasure],
      ['ousness', 'ous', positiveMeasure],
      ['aliti', 'al', positiveMeasure],
      ['iviti', 'ive', positiveMeasure],
      ['biliti', 'ble', positiveMeasure],
    ];
    if (this.mode === 'nltk') {
      rules.push(['fulli', 'ful', positiveMeasure]);
      // NLTK measures the word less "ogi", not the stem less "logi" (so "geologi" → "geolog").
      rules.push(['logi', 'log', () => positiveMeasure(word.slice(0, -3))]);
    }
    if (this.mode === 'martin') rules.push(['logi', 'log', positiveMeasure]);
    return this.applyRules(word, rules);
  }

  private step3(word: string): string {
    return this.applyRules(word, [
      ['icate', 'ic', positiveMeasure],
      ['ative', '', positiveMeasure],
      ['alize', 'al', positiveMeasure],
      ['iciti', 'ic', positiveMeasure],
      ['ical', 'ic', positiveMeasure],
      ['ful', '', positiveMeasure],
      ['ness', '', positiveMeasure],
    ]);
  }

  private step4(word: string): string {
    const long = (stem: string): boolean => measure(stem) > 1;
    return this.applyRules(word, [
      ['al', '', long],
      ['ance', '', long],
      ['ence', '', long],
      ['er', '', long],
      ['ic', '', long],
      ['able', '', long],
      ['ible', '', long],
      ['ant', '', long],
      ['ement', '', long],
      ['ment', '', long],
      ['ent', '', long],
      // "ion" goes only after s or t ("adoption" → "adopt", "champion" stays).
      ['ion', '', (stem) => long(stem) && (stem.endsWith('s') || stem.endsWith('t'))],
      ['ou', '', long],
      ['ism', '', long],
      ['ate', '', long],
      ['iti', '', long],
      ['ous', '', long],
      ['ive', '', long],
      ['ize', '', long],
    ]);
  }

  private step5a(word: string): string {
    if (!word.endsWith('e')) return word;
    const stem = word.slice(0, -1);
    const m = measure(stem);
    return m > 1 || (m === 1 && !this.endsCvc(stem)) ? stem : word;
  }

  private step5b(word: string): string {
    return this.applyRules(word, [['ll', 'l', () => measure(word.slice(0, -1)) > 1]]);
  }

  /** The stem of one word, lowercased first as NLTK does by default. */
  stem(word: string): string {
    let stem = word.toLowerCase();
    // As NLTK: the irregular forms and the length check look at the word as given.
    if (this.mode === 'nltk') {
      const irregular = IRREGULAR.get(word);
      if (irregular !== undefined) return irregular;
    }
    if (this.mode !== 'original' && word.length <= 2) return stem;
    stem = this.step1a(stem);
    stem = this.step1b(stem);
    stem = this.step1c(stem);
    stem = this.step2(stem);
    stem = this.step3(stem);
    stem = this.step4(stem);
    stem = this.step5a(stem);
    return this.step5b(stem);
  }
}

const original = new PorterStemmer('original');

/**
 * What retrieval applies, the same way to the notes and to questions: the algorithm as published,
 * except that words of one or two letters stay as they are (as in Porter's own implementation,
 * so "as" does not become "a"). Changing it changes which notes a question finds.
 */
export function porterStem(word: string): string {
  return word.length <= 2 ? word : original.stem(word);
}
