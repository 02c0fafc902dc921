import { describe, expect, it } from 'vitest';
import { prepareText, stripDiscordMarkup } from '../../../src/text/input.js';
import { quoteUserText, removeInvisibleCharacters } from '../../../src/util/user-text.js';

/** Code points as U+XXXX, so a failure shows which invisible character was left. */
const codePoints = (text: string): string[] =>
  [...text].map((char) => `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);

describe('invisible characters', () => {
  it.each([
    ['U+202A–E bidi embeddings and overrides', 'a\u202Ab\u202Bc\u202Cd\u202De\u202Ef'],
    ['U+2066–9 bidi isolates', 'a\u2066b\u2067c\u2068d\u2069e'],
    ['U+200E/F and U+061C direction marks', 'a\u200Eb\u200Fc\u061Cd'],
    ['U+2060 word joiner and U+2061–4 invisible operators', 'a\u2060b\u2061c\u2062d\u2063e\u2064f'],
    ['U+180E Mongolian vowel separator', 'a\u180Eb'],
    ['U+200B/C zero-width space and non-joiner, U+FEFF', 'a\u200Bb\u200Cc\uFEFFd'],
    ['U+00AD soft hyphen and U+206A–F deprecated format characters', 'a\u00ADb\u206Ac\u206Fd'],
    ['a zero-width joiner between letters', 'a\u200Db'],
    ['tag characters outside a flag', 'a\u{E0041}\u{E0042}b'],
    ['controls and line separators', 'a\u0000b\u0007c\u009Fd\u2028e\u2029f'],
  ])('removes %s', (_case, text) => {
    const cleaned = removeInvisibleCharacters(text);
    expect(codePoints(cleaned.replace(/[a-f]/g, ''))).toEqual([]);
    expect(cleaned).toBe(text.replace(/[^a-f]/gu, ''));
  });

  it.each([
    ['a ZWJ sequence', '👩\u200D💻'],
    ['a ZWJ sequence after a variation selector', '❤\uFE0F\u200D🔥'],
    ['a ZWJ sequence after a skin tone', '👩🏽\u200D💻'],
    ['a family', '👨\u200D👩\u200D👧'],
    ['a subdivision flag made of tag characters', '🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}'],
    ['a keycap and text presentation', '1\uFE0F\u20E3 ☺\uFE0E'],
    ['tabs and line breaks', 'a\tb\nc\r\nd'],
  ])('keeps what emoji and layout need: %s', (_case, text) => {
    expect(removeInvisibleCharacters(text)).toBe(text);
  });
});

describe('quoting user text', () => {
  it('escapes every Markdown construct Discord would render, so the text shows as typed', () => {
    expect(quoteUserText('[free nitro](https://evil.example)')).toBe('\\[free nitro\\](https://evil.example)');
    expect(quoteUserText('# Big\n## Bigger\n-# small\n> quote\n>>> rest\n- item\n  + sub\n1. first')).toBe(
      '\\# Big\n\\#\\# Bigger\n\\-\\# small\n\\> quote\n\\>\\>\\> rest\n\\- item\n  \\+ sub\n1\\. first',
    );
    expect(quoteUserText('**b** *i* __u__ ~~s~~ ||spoiler|| `code` \\*')).toBe(
      '\\*\\*b\\*\\* \\*i\\* \\_\\_u\\_\\_ \\~\\~s\\~\\~ \\|\\|spoiler\\|\\| \\`code\\` \\\\\\*',
    );
    expect(quoteUserText('<@123> <@&4> <#5> <t:0:R> </cmd:1> <:e:6> @everyone @here')).toBe(
      '\\<\\@123\\> \\<\\@&4\\> \\<\\#5\\> \\<t:0:R\\> \\</cmd:1\\> \\<:e:6\\> \\@everyone \\@here',
    );
  });

  it('leaves ordinary text and the middle of lines alone', () => {
    expect(quoteUserText('The unaffable café 😀 - 2023. was fine: 3+4')).toBe(
      'The unaffable café 😀 - 2023. was fine: 3+4',
    );
  });

  it('removes bidi overrides and invisible characters in every target', () => {
    for (const target of ['markdown', 'code', 'plain'] as const)
      expect(quoteUserText('good\u202E dab\u202C \u2066x\u2069 a\u2060b', target)).not.toMatch(
        /[\u202A-\u202E\u2066-\u2069\u2060]/,
      );
    expect(quoteUserText('good\u202E dab', 'plain')).toBe('good dab');
  });

  it('holds text in a code span that its own backticks and line breaks cannot end', () => {
    expect(quoteUserText('a`b\nc', 'code')).toBe('`aˋb c`');
    expect(quoteUserText('[x](https://evil.example)', 'code')).toBe('`[x](https://evil.example)`');
    expect(quoteUserText('\u202E', 'code')).toBe('` `');
  });
});

describe('preparing text for the engines', () => {
  it('removes bidi overrides and invisible format characters, and says so', () => {
    const prepared = prepareText('good\u202E dab\u202C \u2066film\u2069 w\u2060o\u180Er\u2062d', 100);
    expect(prepared.text).toBe('good dab film word');
    expect(prepared.notes).toEqual([
      'Invisible characters (controls, bidi overrides, zero-width and other format characters) were removed.',
    ]);
  });

  it('keeps emoji sequences whole', () => {
    const prepared = prepareText('great 👩\u200D💻 🏳\uFE0F\u200D🌈', 100);
    expect(prepared.text).toBe('great 👩\u200D💻 🏳\uFE0F\u200D🌈');
    expect(prepared.notes).toEqual([]);
  });

  it('takes masked links, headings, subtext and block quotes out before analysis, keeping their words', () => {
    expect(stripDiscordMarkup('[great](https://evil.example) film')).toBe('great film');
    expect(stripDiscordMarkup('[[nested](https://a.example)](https://b.example)')).toBe('nested');
    expect(stripDiscordMarkup('[a]**(https://evil.example)')).toBe('a');
    expect(stripDiscordMarkup('# Big\n## Bigger\n-# small\n> quoted\n>>> rest')).toBe(
      'Big\nBigger\nsmall\nquoted\nrest',
    );
    const prepared = prepareText('# [Awful](https://evil.example)\n> truly', 100, { stripMarkup: true });
    expect(prepared.text).toBe('Awful\ntruly');
    expect(prepared.notes).toEqual([
      'Discord formatting (mentions, bold, code, spoilers, links, headings, quotes) was removed before analysis.',
    ]);
  });
});
