/**
 * User text shown back to people: /sentiment's text, /tokenize's pieces, /ask's question,
 * /match's labels, a topic /explain does not know, a file name. Replies are public and Discord
 * renders Markdown, so text echoed as it came could post a masked link ("[docs](https://…)"
 * showing one address and opening another), a heading, a quote, or a mention, under the bot's
 * name; and bidi overrides can make text read in a different order from what it says.
 */

/** Where quoted text goes: Discord Markdown, a Markdown code span, or plain text (terminal, images, logs). */
export type QuoteTarget = 'markdown' | 'code' | 'plain';

/**
 * Characters with no visible form that change how text around them reads: C0/C1 controls
 * (tab and line breaks aside), the line and paragraph separators, and every Unicode format
 * character (category Cf: bidi embeddings, overrides and isolates U+202A–E and U+2066–9, marks,
 * zero-width spaces and joiners, the word joiner U+2060, invisible operators U+2061–4, the
 * Mongolian vowel separator U+180E, soft hyphens, BOMs, tags…). Kept where emoji are made of
 * them: a zero-width joiner between pictographs (👩‍💻), and tag characters inside a
 * subdivision flag (🏴 + tags + cancel tag). Variation selectors are not format characters,
 * so emoji keep U+FE0F.
 */
const INVISIBLE =
  /(\u{1F3F4}[\u{E0020}-\u{E007E}]+\u{E007F})|(?<=\p{Extended_Pictographic}[\uFE0F\p{Emoji_Modifier}]?)(\u200D)(?=\p{Extended_Pictographic})|[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u2028\u2029]|\p{Cf}/gu;

/** Removes the characters INVISIBLE describes, keeping what emoji sequences need. */
export function removeInvisibleCharacters(text: string): string {
  return text.replace(
    INVISIBLE,
    (_match, flag: string | undefined, joiner: string | undefined) => flag ?? joiner ?? '',
  );
}

/**
 * Escapes everything Discord's Markdown would act on, so the text shows exactly as typed:
 * emphasis, code and spoiler markers, masked links, mentions, timestamps and custom emoji
 * (all start with <), headings, quotes, and list markers at the start of a line. Discord
 * drops the backslash before any ASCII punctuation, so escaped text reads unchanged.
 */
function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\*_~`|[\]<>#@]/g, '\\$&')
    .replace(/^(\s*)([-+])/gm, '$1\\$2')
    .replace(/^(\s*\d+)\./gm, '$1\\.');
}

/**
 * User text made safe to echo into `target`, the one function every presenter uses for it:
 * invisible and bidi characters removed, then for Discord every Markdown trigger escaped
 * ('markdown'), or the text held in a code span ('code', for short items such as tokens and
 * labels, and for messages the terminal prints as they are).
 */
export function quoteUserText(text: string, target: QuoteTarget = 'markdown'): string {
  const visible = removeInvisibleCharacters(text);
  if (target === 'plain') return visible;
  if (target === 'markdown') return escapeMarkdown(visible);
  // Nothing renders inside a code span; only its own delimiter and line breaks would end it.
  const inner = visible.replace(/`/g, 'ˋ').replace(/[\r\n]+/g, ' ');
  return `\`${inner.trim() === '' ? ' ' : inner}\``;
}
