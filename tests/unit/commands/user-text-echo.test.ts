import { afterAll, describe, expect, it } from 'vitest';
import type { EmbedSpec } from '../../../src/command/definition.js';
import { loadCommands } from '../../../src/command/loader.js';
import { runAndPresent, runCommand } from '../../../src/command/run.js';
import type { Tokenization } from '../../../src/text/tokenizers.js';
import { UserFacingError } from '../../../src/util/errors.js';
import { rejectionOf, solidPng, testServices } from '../../helpers.js';

/**
 * Everything a hostile message might try in a public reply: a masked link whose text is not its
 * address, a heading, subtext, a block quote, lists, emphasis, a timestamp, mentions, and the
 * invisible characters that reorder or hide text (bidi overrides and isolates, the word
 * joiner, the Mongolian vowel separator, an invisible operator), next to an emoji ZWJ sequence
 * that must survive.
 */
const HOSTILE =
  '[free nitro](https://evil.example) good\n# Big heading\n-# small print\n> quoted great\n- item\n1. first\n' +
  '*nice* <t:0:R> <@123> @everyone \u202Ebad\u202C \u2066iso\u2069 a\u2060b\u180Ec\u2062d 👩\u200D💻';

const INVISIBLE =
  /[\u00AD\u061C\u180E\u200B\u200C\u200E\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\uFEFF]|(?<!\p{Extended_Pictographic}[\uFE0F\p{Emoji_Modifier}]?)\u200D/u;

/**
 * The Markdown Discord would render from `shown`, by name: backslash-escaped characters and
 * code spans render literally, so they are taken out first.
 */
function renderedMarkdown(shown: string): string[] {
  const live = shown.replace(/\\[^A-Za-z0-9\s]/g, '').replace(/`[^`\n]*`/g, '');
  const constructs: Array<[string, RegExp]> = [
    ['masked link', /\[[^\]\n]*\]\(/],
    ['heading', /^[ \t]*#{1,3}[ \t]/m],
    ['subtext', /^[ \t]*-#[ \t]/m],
    ['block quote', /^[ \t]*>/m],
    ['list', /^[ \t]*(?:[-*+]|\d+\.)[ \t]/m],
    ['emphasis', /\*[^*\s][^*]*\*|_[^_\s][^_]*_/],
    ['mention, channel, timestamp or emoji', /<(?:@|#|t:|\/|a?:)/],
    ['@everyone or @here', /@(?:everyone|here)/],
    ['spoiler', /\|\|/],
  ];
  return [
    ...constructs.filter(([, pattern]) => pattern.test(live)).map(([name]) => name),
    ...(INVISIBLE.test(shown) ? ['invisible characters'] : []),
  ];
}

const commands = await loadCommands();
const services = testServices();
afterAll(() => services.dispose());
const command = (name: string) => commands.get(name)!;
const embed = (embeds: EmbedSpec[]): EmbedSpec => embeds[0]!;

describe('user text echoed in a public reply renders as plain text', () => {
  it('the checker finds every construct in the hostile text as sent', () => {
    expect(renderedMarkdown(HOSTILE)).toEqual([
      'masked link',
      'heading',
      'subtext',
      'block quote',
      'list',
      'emphasis',
      'mention, channel, timestamp or emoji',
      '@everyone or @here',
      'invisible characters',
    ]);
  });

  it('/sentiment shows the text it read without links, headings, quotes, mentions or bidi overrides', async () => {
    const reply = await runAndPresent(command('sentiment'), { text: HOSTILE }, services);
    const { description = '', fields = [] } = embed(reply.embeds);
    expect(renderedMarkdown(description)).toEqual([]);
    expect(description).toContain('free nitro good');
    expect(description).toContain('👩\u200D💻');
    const words = fields.find((field) => field.name === 'Words that moved VADER')!.value;
    expect(renderedMarkdown(words.replace(/\*\*/g, ''))).toEqual([]);
    expect(reply.text).not.toMatch(INVISIBLE);
  });

  it('/tokenize shows pieces in code spans and split words escaped, without bidi overrides', async () => {
    const tokenize = command('tokenize');
    const report = (await runCommand(tokenize, { text: 'a photo of a cat', tokenizer: 'clip' }, services)) as {
      results: Tokenization[];
    };
    // Pieces and split words as a real tokenizer can return them for hostile text.
    const hostile = {
      ...report,
      results: report.results.map((result) => ({
        ...result,
        tokens: [...result.tokens, { piece: 'x`[a](https://evil.example)\u202E', id: 9, special: false }],
        splits: [{ word: '[cats](https://evil.example)\u202E', pieces: ['[', 'cat', '##s', '>', '#'] }],
      })),
    };
    const { fields = [] } = embed((await tokenize.toEmbeds(hostile as never)).embeds);
    const pieces = fields[0]!.value;
    expect(renderedMarkdown(pieces)).toEqual([]);
    expect(pieces).toContain('`xˋ[a](https://evil.example)`');
    expect(pieces).toContain('Split: \\[cats\\](https://evil.example) → \\[ cat \\#\\#s \\> \\#');
    expect(tokenize.toText(hostile as never)).not.toMatch(INVISIBLE);
  });

  it('/preprocess shows every step, lemma and note without links, headings, mentions or bidi overrides', async () => {
    const reply = await runAndPresent(command('preprocess'), { text: `${HOSTILE} 😀__ **` }, services);
    for (const field of embed(reply.embeds).fields ?? [])
      expect(renderedMarkdown(field.value), `${field.name}: ${field.value}`).toEqual([]);
    expect(reply.text).not.toMatch(INVISIBLE);
  });

  it('/ask shows the question as its title without links, headings, mentions or bidi overrides', async () => {
    const question = `Why do vision transformers need more data than CNNs? ${HOSTILE}`;
    const reply = await runAndPresent(command('ask'), { question }, services);
    const { title } = embed(reply.embeds);
    expect(renderedMarkdown(title)).toEqual([]);
    expect(title).toMatch(/^Why do vision transformers need more data than CNNs\? free nitro good/);
  });

  it('/match shows each label as typed, in the embed, the text and the chart', async () => {
    const labels = '[cat](https://evil.example), # dog, \u202Eteapot, <@123> ~~gone~~';
    const image = { name: 'red.png', bytes: await solidPng([255, 0, 0]) };
    const reply = await runAndPresent(command('match'), { image, labels }, services);
    const { description = '' } = embed(reply.embeds);
    expect(renderedMarkdown(description.replace(/\*\*/g, ''))).toEqual([]);
    expect(description).toContain('**\\[cat\\](https://evil.example)**');
    expect(description).toContain('**teapot**');
    expect(reply.text).not.toMatch(INVISIBLE);
  });

  it('/match quotes a repeated label in its error', async () => {
    const image = { name: 'red.png', bytes: await solidPng([255, 0, 0]) };
    const error = await rejectionOf(
      runAndPresent(
        command('match'),
        { image, labels: '[cat](https://evil.example)\u202E, [cat](https://evil.example)' },
        services,
      ),
      UserFacingError,
    );
    expect(error.message).toBe('The label `[cat](https://evil.example)` appears twice; each label must be different.');
  });

  it('/explain quotes a topic it does not know in a code span, without bidi overrides', async () => {
    const error = await rejectionOf(
      runAndPresent(command('explain'), { topic: 'zzqx [zz](https://evil.example) # \u202Egnp.exe' }, services),
      UserFacingError,
    );
    expect(error.message).toMatch(/^I have no note on `zzqx \[zz\]\(https:\/\/evil\.example\) # gnp\.exe`\. Topics: /);
    expect(renderedMarkdown(error.message)).toEqual([]);
  });

  it('/classify shows the file name escaped', async () => {
    const image = { name: '[photo](https://evil.example)\u202Egnp.exe', bytes: await solidPng([255, 0, 0]) };
    const reply = await runAndPresent(command('classify'), { image, model: 'cnn' }, services);
    const { description = '' } = embed(reply.embeds);
    expect(description).toBe('Top 5 ImageNet labels for **\\[photo\\](https://evil.example)gnp.exe**.');
  });
});
