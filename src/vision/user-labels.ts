import { UserFacingError } from '../util/errors.js';
import { quoteUserText, removeInvisibleCharacters } from '../util/user-text.js';

export const MIN_LABELS = 2;
export const MAX_LABELS = 20;
export const MAX_LABEL_CHARS = 100;

/** Splits and validates the user's labels: count, length, blanks and duplicates, each with a clear message. */
export function parseLabels(input: string | readonly string[]): string[] {
  const parts = typeof input === 'string' ? input.split(/[,\n|]/) : [...input];
  // Invisible characters would make two labels that look the same count as different.
  const labels = parts.map((label) => removeInvisibleCharacters(label).replace(/\s+/g, ' ').trim());
  const nonEmpty = labels.filter((label) => label.length > 0);
  if (nonEmpty.length === 0)
    throw new UserFacingError(`Give ${MIN_LABELS}–${MAX_LABELS} labels separated by commas, e.g. "cat, dog, teapot".`, {
      code: 'bad_labels',
    });
  if (nonEmpty.length < labels.length && labels.length > 1) {
    throw new UserFacingError(
      'One of the labels is empty (two commas in a row, or only spaces); remove it and try again.',
      { code: 'bad_labels' },
    );
  }
  if (nonEmpty.length < MIN_LABELS)
    throw new UserFacingError(`Give at least ${MIN_LABELS} labels to choose between, separated by commas.`, {
      code: 'bad_labels',
    });
  if (nonEmpty.length > MAX_LABELS)
    throw new UserFacingError(`That is ${nonEmpty.length} labels; the limit is ${MAX_LABELS}.`, { code: 'bad_labels' });
  nonEmpty.forEach((label, index) => {
    if (label.length > MAX_LABEL_CHARS) {
      throw new UserFacingError(
        `Label ${index + 1} is ${label.length} characters long; the limit is ${MAX_LABEL_CHARS}.`,
        { code: 'bad_labels' },
      );
    }
  });
  const seen = new Map<string, string>();
  for (const label of nonEmpty) {
    const key = label.toLowerCase();
    if (seen.has(key))
      throw new UserFacingError(
        `The label ${quoteUserText(label, 'code')} appears twice; each label must be different.`,
        {
          code: 'bad_labels',
        },
      );
    seen.set(key, label);
  }
  return nonEmpty;
}
