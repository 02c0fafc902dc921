import { UserFacingError } from '../util/errors.js';

export const MAX_CLASS_NAME = 32;

const fail = (message: string): never => {
  throw new UserFacingError(message, { code: 'bad_class_name' });
};

/**
 * A class name as stored and shown: trimmed, inner spaces collapsed, lower case (so "Cat" and
 * "cat" are one class). Letters, digits, spaces, "-", "_", "'" and "." only: no mentions, no
 * markdown, no links; it must contain a letter or a digit (not only emoji or punctuation).
 */
export function normaliseClassName(raw: string): string {
  const name = raw.normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase();
  if (name === '') fail('A class name cannot be empty: name what the pictures show, e.g. `cat`.');
  if ([...name].length > MAX_CLASS_NAME) {
    fail(`A class name is at most ${MAX_CLASS_NAME} characters; "${[...name].slice(0, 20).join('')}…" is longer.`);
  }
  if (/<[@#&!:]|@(everyone|here)\b/.test(name)) fail('A class name cannot be a mention: use a plain word.');
  if (!/[\p{L}\p{N}]/u.test(name)) fail('A class name needs at least one letter or digit (not only emoji or symbols).');
  if (!/^[\p{L}\p{M}\p{N} _'.-]+$/u.test(name)) {
    fail('A class name may use letters, digits, spaces, "-", "_", "\'" and "." only (no markdown, links or emoji).');
  }
  return name;
}
