import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../util/paths.js';
import { stripPythonWhitespace } from './python-text.js';

/** Where vaderSentiment 3.3.2's two data files and their MIT licence live (the Dockerfile copies this folder). */
export const VADER_DATA_DIR = join(PROJECT_ROOT, 'models/vader');

export interface VaderLexicons {
  /** token → mean valence (−4..+4); keys as written in the file, looked up lowercased, as the reference does. */
  words: ReadonlyMap<string, number>;
  /** emoji → its English description. Only single-code-point keys can ever match (VADER looks at one code point at a time). */
  emoji: ReadonlyMap<string, string>;
  /** The smallest code point of a single-code-point emoji key: text without one can skip the emoji pass. */
  lowestEmojiCodePoint: number;
}

function readData(name: string): string {
  const path = join(VADER_DATA_DIR, name);
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(
      `VADER's ${name} is missing or unreadable at ${path} (it ships in models/vader/): ${(error as Error).message}`,
    );
  }
}

/**
 * The reference reads each line as `line.strip().split('\t')[0:2]`, and a later duplicate replaces
 * an earlier one (a Python dict). It would stop with an error on a malformed line; we skip those,
 * but an empty result means the wrong file.
 */
function parseColumns<T>(content: string, name: string, value: (column: string) => T | undefined): Map<string, T> {
  const entries = new Map<string, T>();
  for (const line of content.split('\n')) {
    const columns = stripPythonWhitespace(line).split('\t');
    const key = columns[0];
    const parsed = columns[1] === undefined ? undefined : value(columns[1]);
    if (key && parsed !== undefined) entries.set(key, parsed);
  }
  if (entries.size === 0) throw new Error(`VADER's ${name} in ${VADER_DATA_DIR} has no entries`);
  return entries;
}

/** `float(measure)` for the values the lexicon holds; anything else is a malformed line. */
function parseValence(column: string): number | undefined {
  const valence = column.trim() === '' ? Number.NaN : Number(column);
  return Number.isFinite(valence) ? valence : undefined;
}

let loaded: VaderLexicons | undefined;

/** Reads both files on first use (about 10 ms) and keeps them. */
export function vaderLexicons(): VaderLexicons {
  if (loaded) return loaded;
  const words = parseColumns(readData('vader_lexicon.txt'), 'vader_lexicon.txt', parseValence);
  const emoji = parseColumns(
    readData('emoji_utf8_lexicon.txt'),
    'emoji_utf8_lexicon.txt',
    (description) => description,
  );
  let lowestEmojiCodePoint = Number.POSITIVE_INFINITY;
  for (const key of emoji.keys()) {
    const codePoint = key.codePointAt(0)!;
    if (key.length === String.fromCodePoint(codePoint).length)
      lowestEmojiCodePoint = Math.min(lowestEmojiCodePoint, codePoint);
  }
  loaded = { words, emoji, lowestEmojiCodePoint };
  return loaded;
}
