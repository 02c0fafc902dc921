/**
 * The Porter stemmer (M. F. Porter, "An algorithm for suffix stripping", 1980), as published:
 * it maps related forms of an English word to one string ("classifiers", "classify" →
 * "classifi"; "normalizing", "normalized" → "normal"), so that a question and a note meet
 * whichever form each uses. The string need not be a word. Applied the same way to the notes
 * and to questions.
 */

const isVowelAt = (word: string, index: number): boolean => {
  const letter = word[index]!;
  if ('aeiou'.includes(letter)) return true;
  // "y" is a vowel after a consonant ("happy"), a consonant at the start or after a vowel ("toy").
  return letter === 'y' && index > 0 && !isVowelAt(word, index - 1);
};

/** m in [C](VC)^m[V]: how many vowel-consonant sequences the stem has. */
function measure(stem: string): number {
  let count = 0;
  let previousVowel = false;
  for (let index = 0; index < stem.length; index += 1) {
    const vowel = isVowelAt(stem, index);
    if (previousVowel && !vowel) count += 1;
    previousVowel = vowel;
  }
  return count;
}

const hasVowel = (stem: string): boolean => [...stem].some((_, index) => isVowelAt(stem, index));

const endsWithDoubleConsonant = (word: string): boolean =>
  word.length >= 2 && word.at(-1) === word.at(-2) && !isVowelAt(word, word.length - 1);

/** *o: the stem ends consonant-vowel-consonant, the last not w, x or y ("hop", not "snow"). */
const endsCvc = (word: string): boolean => {
  const n = word.length;
  return (
    n >= 3 &&
    !isVowelAt(word, n - 3) &&
    isVowelAt(word, n - 2) &&
    !isVowelAt(word, n - 1) &&
    !'wxy'.includes(word[n - 1]!)
  );
};

/**
 * One step of rules (suffix → replacement), longest suffix first: the longest suffix the word
 * ends with is the rule that applies, and only if its stem passes `condition`.
 */
function applyRules(
  word: string,
  rules: ReadonlyArray<readonly [string, string]>,
  condition: (stem: string, suffix: string) => boolean,
): string {
  for (const [suffix, replacement] of rules) {
    if (!word.endsWith(suffix)) continue;
    const stem = word.slice(0, -suffix.length);
    return condition(stem, suffix) ? stem + replacement : word;
  }
  return word;
}

const byLongestSuffix = (rules: Array<[string, string]>): Array<[string, string]> =>
  rules.sort(([a], [b]) => b.length - a.length);

const STEP_2 = byLongestSuffix([
  ['ational', 'ate'],
  ['tional', 'tion'],
  ['enci', 'ence'],
  ['anci', 'ance'],
  ['izer', 'ize'],
  ['abli', 'able'],
  ['alli', 'al'],
  ['entli', 'ent'],
  ['eli', 'e'],
  ['ousli', 'ous'],
  ['ization', 'ize'],
  ['ation', 'ate'],
  ['ator', 'ate'],
  ['alism', 'al'],
  ['iveness', 'ive'],
  ['fulness', 'ful'],
  ['ousness', 'ous'],
  ['aliti', 'al'],
  ['iviti', 'ive'],
  ['biliti', 'ble'],
]);

const STEP_3 = byLongestSuffix([
  ['icate', 'ic'],
  ['ative', ''],
  ['alize', 'al'],
  ['iciti', 'ic'],
  ['ical', 'ic'],
  ['ful', ''],
  ['ness', ''],
]);

const STEP_4 = byLongestSuffix(
  [
    'al',
    'ance',
    'ence',
    'er',
    'ic',
    'able',
    'ible',
    'ant',
    'ement',
    'ment',
    'ent',
    'ion',
    'ou',
    'ism',
    'ate',
    'iti',
    'ous',
    'ive',
    'ize',
  ].map((suffix): [string, string] => [suffix, '']),
);

function step1b(word: string): string {
  if (word.endsWith('eed')) return measure(word.slice(0, -3)) > 0 ? word.slice(0, -1) : word;
  const suffix = ['ed', 'ing'].find((ending) => word.endsWith(ending) && hasVowel(word.slice(0, -ending.length)));
  if (!suffix) return word;
  const stem = word.slice(0, -suffix.length);
  if (stem.endsWith('at') || stem.endsWith('bl') || stem.endsWith('iz')) return `${stem}e`;
  if (endsWithDoubleConsonant(stem) && !'lsz'.includes(stem.at(-1)!)) return stem.slice(0, -1);
  if (measure(stem) === 1 && endsCvc(stem)) return `${stem}e`;
  return stem;
}

export function porterStem(word: string): string {
  if (word.length <= 2) return word;
  let w = word;
  // Step 1a: plurals.
  if (w.endsWith('sses') || w.endsWith('ies')) w = w.slice(0, -2);
  else if (!w.endsWith('ss') && w.endsWith('s')) w = w.slice(0, -1);
  w = step1b(w);
  // Step 1c: a final y after a vowel-bearing stem becomes i ("happy" → "happi"), as in "happiness".
  if (w.endsWith('y') && hasVowel(w.slice(0, -1))) w = `${w.slice(0, -1)}i`;
  w = applyRules(w, STEP_2, (stem) => measure(stem) > 0);
  w = applyRules(w, STEP_3, (stem) => measure(stem) > 0);
  // Step 4: "ion" goes only after s or t ("adoption" → "adopt", "champion" stays).
  w = applyRules(
    w,
    STEP_4,
    (stem, suffix) => measure(stem) > 1 && (suffix !== 'ion' || stem.endsWith('s') || stem.endsWith('t')),
  );
  // Step 5: a final e, and ll after a long stem.
  if (w.endsWith('e')) {
    const stem = w.slice(0, -1);
    const m = measure(stem);
    if (m > 1 || (m === 1 && !endsCvc(stem))) w = stem;
  }
  if (measure(w) > 1 && endsWithDoubleConsonant(w) && w.endsWith('l')) w = w.slice(0, -1);
  return w;
}
