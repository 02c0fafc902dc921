import { slashCommand, type EmbedField } from '../src/command/definition.js';
import { option } from '../src/command/options.js';
import { explainTokenization, type Explanation } from '../src/knowledge/explanations.js';
import { table } from '../src/render/format.js';
import { prepareText } from '../src/text/input.js';
import { TOKENIZER_NAMES } from '../src/text/service.js';
import type { Tokenization } from '../src/text/tokenizers.js';
import { quoteUserText } from '../src/util/user-text.js';
import type { PatchGrid } from '../src/vision/patches.js';

export interface TokenizeReport {
  results: Tokenization[];
  /** The same idea for images: how the ViT cuts its input into patch tokens. */
  vit: PatchGrid & { model: string };
  truncated: boolean;
  notes: string[];
  explanation: Explanation;
}

const SHOWN_TOKENS = 60;

const pieceList = (result: Tokenization): string => {
  const shown = result.tokens
    .slice(0, SHOWN_TOKENS)
    .map((token) => (token.special ? `[${token.piece}]` : quoteUserText(token.piece, 'code')))
    .join(' ');
  return result.tokens.length > SHOWN_TOKENS ? `${shown} … (+${result.tokens.length - SHOWN_TOKENS} more)` : shown;
};

const splitList = (result: Tokenization, target: 'markdown' | 'plain', limit = Infinity): string =>
  result.splits
    .slice(0, limit)
    .map((split) => quoteUserText(`${split.word} → ${split.pieces.join(' ')}`, target))
    .join('; ');

export default slashCommand({
  name: 'tokenize',
  followUps: [
    { label: 'Other languages', command: 'languages' },
    { label: 'Classic pipeline', command: 'preprocess' },
  ],
  description: 'See how BERT WordPiece, GPT-2 BPE and CLIP BPE cut text into tokens, next to ViT image patches',
  help: {
    what: 'See BERT WordPiece, GPT-2 BPE and CLIP BPE cut your text into tokens, next to ViT image patches.',
    example: { text: 'The unaffable café 😀' },
  },
  options: {
    text: option.string('The text to tokenize', { required: true, maxLength: 6000 }),
    tokenizer: option.string('Which tokenizer (default: all three)', {
      choices: [
        { name: 'All three side by side', value: 'all' },
        { name: 'BERT WordPiece (bert-base-uncased)', value: 'bert' },
        { name: 'GPT-2 byte-level BPE', value: 'gpt2' },
        { name: 'CLIP BPE', value: 'clip' },
      ],
      default: 'all',
    }),
  },
  positional: ['text'],

  async execute({ options: { text: raw, tokenizer }, services }): Promise<TokenizeReport> {
    const prepared = prepareText(raw, services.config.TEXT_MAX_CHARS);
    const names = tokenizer === 'all' ? TOKENIZER_NAMES : TOKENIZER_NAMES.filter((name) => name === tokenizer);
    const results = await services.text.tokenize(prepared.text, names);
    const vit = { model: services.vision.modelIds.vit, ...services.vision.patchGrid() };
    return {
      results,
      vit,
      truncated: prepared.truncated,
      notes: prepared.notes,
      explanation: explainTokenization(results),
    };
  },

  toJson: (report) => ({
    results: report.results.map((result) => ({
      tokenizer: result.tokenizer,
      algorithm: result.algorithm,
      tokens: result.tokens.map((token) => ({
        piece: token.piece,
        id: token.id,
        ...(token.special ? { special: true } : {}),
      })),
      count: result.count,
      specialCount: result.specialCount,
      unknownCount: result.unknownCount,
      splits: result.splits,
      notes: result.notes,
    })),
    vit: report.vit,
    truncated: report.truncated,
    notes: report.notes,
    explanation: report.explanation,
  }),

  toText: (report) =>
    [
      ...report.results.map(
        (result) =>
          `${result.tokenizer} (${result.algorithm}): ${result.count} tokens\n` +
          table(
            ['#', 'piece', 'id', ''],
            result.tokens.map((token, index) => [
              String(index),
              JSON.stringify(quoteUserText(token.piece, 'plain')),
              String(token.id),
              token.special ? 'special' : '',
            ]),
          ) +
          (result.splits.length ? `\nsplit words: ${splitList(result, 'plain')}` : '') +
          (result.notes.length ? `\n${result.notes.join('\n')}` : ''),
      ),
      `ViT: ${report.vit.summary}`,
      ...report.notes,
      report.explanation.text,
    ].join('\n\n'),

  toEmbeds: (report) => {
    const fields: EmbedField[] = report.results.map((result) => ({
      name: `${result.tokenizer} · ${result.algorithm} · ${result.count} tokens`,
      value: [
        pieceList(result),
        result.splits.length ? `Split: ${splitList(result, 'markdown', 5)}` : '',
        ...result.notes.map((note) => `• ${note}`),
      ]
        .filter(Boolean)
        .join('\n'),
    }));
    fields.push({
      name: 'The same idea for images',
      value: `${report.vit.model}: one ${report.vit.summary}. Your text is ${report.results.map((r) => `${r.count} (${r.tokenizer})`).join(', ')} tokens.`,
    });
    fields.push({ name: 'Vision vs language', value: report.explanation.text });
    if (report.notes.length) fields.push({ name: 'Notes', value: report.notes.join('\n') });
    return { embeds: [{ title: 'Tokens: how a model reads text', fields }], files: [] };
  },
});
