import { seededRandom } from '../util/random.js';

/** One perturbed copy of a sentence. */
export interface TextVariant {
  name: string;
  text: string;
}

/** A small synonym table: the swap keeps the meaning for a reader, not always for a model. */
const SYNONYMS: Record<string, string> = {
  good: 'decent',
  great: 'terrific',
  bad: 'poor',
  terrible: 'dreadful',
  love: 'adore',
  hate: 'loathe',
  happy: 'glad',
  sad: 'unhappy',
  awful: 'atrocious',
  excellent: 'superb',
  boring: 'tedious',
  funny: 'amusing',
  beautiful: 'lovely',
  amazing: 'astonishing',
  like: 'enjoy',
  nice: 'pleasant',
  best: 'finest',
  worst: 'poorest',
};

const AUXILIARIES = /\b(is|are|was|were|am|will|can|do|does|did|should|would|could|has|have|had)\b/i;

/** Swaps two neighbouring letters in about one word in three (at least one), with a seeded generator. */
export function withTypos(text: string, seed: number): string {
  const random = seededRandom(seed);
  const words = text.split(/(\s+)/);
  const candidates = words.flatMap((word, index) => (/^\p{L}{3,}$/u.test(word) ? [index] : []));
  if (candidates.length === 0) return text;
  const chosen = new Set(candidates.filter(() => random() < 1 / 3));
  if (chosen.size === 0) chosen.add(candidates[Math.floor(random() * candidates.length)]!);
  return words
    .map((word, index) => {
      if (!chosen.has(index)) return word;
      const letters = [...word];
      const at = Math.floor(random() * (letters.length - 1));
      [letters[at], letters[at + 1]] = [letters[at + 1]!, letters[at]!];
      return letters.join('');
    })
    .join('');
}

/** "not" after the first auxiliary verb, or "It is not true that …" when there is none. */
export function withNegation(text: string): string {
  const match = AUXILIARIES.exec(text);
  if (match) return `${text.slice(0, match.index + match[0].length)} not${text.slice(match.index + match[0].length)}`;
  return `It is not true that ${text.charAt(0).toLowerCase()}${text.slice(1)}`;
}

/** Words of the table swapped for their synonym, case kept; undefined when none is in the table. */
export function withSynonyms(text: string): string | undefined {
  let swapped = false;
  const result = text.replace(/\p{L}+/gu, (word) => {
    const synonym = SYNONYMS[word.toLowerCase()];
    if (!synonym) return word;
    swapped = true;
    return word[0] === word[0]!.toUpperCase() ? synonym[0]!.toUpperCase() + synonym.slice(1) : synonym;
  });
  return swapped ? result : undefined;
}

/**
 * The text stress test: the original, seeded typos, an inserted negation, ALL CAPS, an appended
 * emoji, a synonym swap (when a word of the table occurs) and a sarcastic frame.
 */
export function textVariants(text: string, seed: number): TextVariant[] {
  const synonyms = withSynonyms(text);
  const bare = text.replace(/[.!?…]+$/u, '');
  return [
    { name: 'original', text },
    { name: 'typos', text: withTypos(text, seed) },
    { name: 'negation', text: withNegation(text) },
    { name: 'all caps', text: text.toUpperCase() },
    { name: 'emoji', text: `${text} 😡` },
    ...(synonyms ? [{ name: 'synonyms', text: synonyms }] : []),
    { name: 'sarcasm', text: `Oh great, ${bare.charAt(0).toLowerCase()}${bare.slice(1)}. Just what I needed.` },
  ];
}
