import { UserFacingError } from '../util/errors.js';
import { removeInvisibleCharacters } from '../util/user-text.js';

export interface PreparedText {
  text: string;
  /** Characters the user sent, before cleaning. */
  originalLength: number;
  truncated: boolean;
  notes: string[];
}

/**
 * Mentions become readable placeholders and Markdown goes, so "**great**" reads as "great" and
 * "[great](https://…)" as "great": emphasis, code and spoiler markers, masked links (their
 * text stays), headings, subtext and block quotes. This is for the engines; what is shown back
 * to people is escaped by quoteUserText whatever is left here.
 */
export function stripDiscordMarkup(text: string): string {
  let plain = text
    .replace(/<@!?\d+>/g, '@user')
    .replace(/<@&\d+>/g, '@role')
    .replace(/<#\d+>/g, '#channel')
    .replace(/<a?:(\w+):\d+>/g, ':$1:')
    .replace(/```[\w-]*\n?/g, '')
    .replace(/(\*\*|__|~~|\|\||`)/g, '')
    .replace(/^[ \t]*(?:#{1,3}|-#)[ \t]+/gm, '')
    .replace(/^[ \t]*>(?:>>)?[ \t]?/gm, '');
  // A link's text may itself look like a link ("[[a](b)](c)"): unwrap until none is left.
  for (let previous = ''; previous !== plain;) {
    previous = plain;
    plain = plain.replace(/\[([^[\]\n]*)\]\([^()\n]*\)/g, '$1');
  }
  return plain;
}

/** Cleans user text and enforces the length limit: overlong text is cut with a visible note, never silently. */
export function prepareText(raw: string, maxChars: number, options: { stripMarkup?: boolean } = {}): PreparedText {
  const notes: string[] = [];
  const normalized = raw.normalize('NFC');
  let cleaned = removeInvisibleCharacters(normalized);
  if (cleaned !== normalized)
    notes.push('Invisible characters (controls, bidi overrides, zero-width and other format characters) were removed.');
  if (options.stripMarkup) {
    const plain = stripDiscordMarkup(cleaned);
    if (plain !== cleaned)
      notes.push(
        'Discord formatting (mentions, bold, code, spoilers, links, headings, quotes) was removed before analysis.',
      );
    cleaned = plain;
  }
  const trimmed = cleaned.trim();
  if (trimmed.length === 0) {
    throw new UserFacingError(
      raw.length === 0
        ? 'The text is empty: give me a sentence to analyse.'
        : 'The text is only whitespace: give me a sentence to analyse.',
      {
        code: 'empty_text',
      },
    );
  }
  const chars = [...trimmed];
  const truncated = chars.length > maxChars;
  const text = truncated ? chars.slice(0, maxChars).join('') : trimmed;
  if (truncated) notes.push(`The text was ${chars.length} characters; only the first ${maxChars} were analysed.`);
  return { text, originalLength: raw.length, truncated, notes };
}
