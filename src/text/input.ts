import { UserFacingError } from '../util/errors.js';

export interface PreparedText {
  text: string;
  /** Characters the user sent, before cleaning. */
  originalLength: number;
  truncated: boolean;
  notes: string[];
}

// Control characters other than tab and newline carry no meaning for either engine and can corrupt terminal output.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u200B-\u200F\u2028\u2029\uFEFF]/g;

/** Mentions become readable placeholders and Markdown markers go, so "**great**" reads as "great". */
export function stripDiscordMarkup(text: string): string {
  return text
    .replace(/<@!?\d+>/g, '@user')
    .replace(/<@&\d+>/g, '@role')
    .replace(/<#\d+>/g, '#channel')
    .replace(/<a?:(\w+):\d+>/g, ':$1:')
    .replace(/```[\w-]*\n?/g, '')
    .replace(/(\*\*|__|~~|\|\||`)/g, '');
}

/** Cleans user text and enforces the length limit: overlong text is cut with a visible note, never silently. */
export function prepareText(raw: string, maxChars: number, options: { stripMarkup?: boolean } = {}): PreparedText {
  const notes: string[] = [];
  let cleaned = raw.normalize('NFC').replace(CONTROL, '');
  if (cleaned.length !== raw.normalize('NFC').length) notes.push('Invisible control characters were removed.');
  if (options.stripMarkup) {
    const plain = stripDiscordMarkup(cleaned);
    if (plain !== cleaned)
      notes.push('Discord formatting (mentions, bold, code, spoilers) was removed before analysis.');
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
