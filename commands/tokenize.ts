import { ApplicationCommandOptionType, ApplicationCommandType } from 'discord-api-types/v10';
import { z } from 'zod';
import { defineCommand, type EmbedField } from '../src/command/definition.js';
import { explainTokenization } from '../src/knowledge/hooks.js';
import { table } from '../src/render/format.js';
import { prepareText } from '../src/text/input.js';
import { tokenizeText, type Tokenization } from '../src/text/tokenizers.js';
import { patchGrid } from '../src/vision/patches.js';

const options = z.object({
  text: z.string({ error: 'text: give me a sentence to tokenize' }),
  tokenizer: z.enum(['bert', 'gpt2', 'clip', 'all'], { error: 'tokenizer must be bert, gpt2, clip or all' }).default('all'),
});

const SHOWN_TOKENS = 60;

export default defineCommand({
  data: {
    name: 'tokenize',
    type: ApplicationCommandType.ChatInput,
    description: 'See how BERT WordPiece, GPT-2 BPE and CLIP BPE cut text into tokens, next to ViT image patches',
    options: [
      { name: 'text', description: 'The text to tokenize', type: ApplicationCommandOptionType.String, required: true, max_length: 6000 },
      {
        name: 'tokenizer',
        description: 'Which tokenizer (default: all three)',
        type: ApplicationCommandOptionType.String,
        choices: [
          { name: 'All three side by side', value: 'all' },
          { name: 'BERT WordPiece (bert-base-uncased)', value: 'bert' },
          { name: 'GPT-2 byte-level BPE', value: 'gpt2' },
          { name: 'CLIP BPE', value: 'clip' },
        ],
      },
    ],
  },
  options,
  cli: { positional: ['text'], example: 'tokenize "The unaffable café" --tokenizer clip --json' },

  async execute({ options: { text: raw, tokenizer }, services }) {
    const prepared = prepareText(raw, services.config.TEXT_MAX_CHARS);
    const ids = { bert: 'bert-base-uncased', gpt2: 'gpt2', clip: services.config.CLIP_MODEL };
    const chosen = tokenizer === 'all' ? (['bert', 'gpt2', 'clip'] as const) : ([tokenizer] as const);
    const results: Tokenization[] = await Promise.all(chosen.map(async (name) => tokenizeText(await services.tokenizers.get(ids[name]), prepared.text)));

    const vitEntry = services.store.manifest.models.get(services.config.VISION_VIT_MODEL);
    const size = vitEntry?.preprocess?.size ?? { width: 224, height: 224 };
    const grid = patchGrid(size, vitEntry?.patchSize ?? 16);
    const vit = { model: vitEntry?.id ?? 'vit-base-patch16-224', ...grid };
    const explanation = explainTokenization(results);
    const view = (result: Tokenization): object => ({
      tokenizer: result.tokenizer,
      algorithm: result.algorithm,
      tokens: result.tokens.map((token) => ({ piece: token.piece, id: token.id, ...(token.special ? { special: true } : {}) })),
      count: result.count,
      specialCount: result.specialCount,
      unknownCount: result.unknownCount,
      splits: result.splits,
      notes: result.notes,
    });
    const data =
      results.length === 1
        ? { ...view(results[0]!), vit, truncated: prepared.truncated, notes: [...prepared.notes, ...results[0]!.notes], explanation }
        : { results: results.map(view), vit, truncated: prepared.truncated, notes: prepared.notes, explanation };

    const pieceList = (result: Tokenization): string => {
      const shown = result.tokens.slice(0, SHOWN_TOKENS).map((token) => (token.special ? `[${token.piece}]` : `\`${token.piece.replace(/`/g, "'")}\``)).join(' ');
      return result.tokens.length > SHOWN_TOKENS ? `${shown} … (+${result.tokens.length - SHOWN_TOKENS} more)` : shown;
    };
    const fields: EmbedField[] = results.map((result) => ({
      name: `${result.tokenizer} · ${result.algorithm} · ${result.count} tokens`,
      value: [
        pieceList(result),
        result.splits.length ? `Split: ${result.splits.slice(0, 5).map((split) => `${split.word} → ${split.pieces.join(' ')}`).join('; ')}` : '',
        ...result.notes.map((note) => `• ${note}`),
      ]
        .filter(Boolean)
        .join('\n'),
    }));
    fields.push({ name: 'The same idea for images', value: `${vit.model}: one ${grid.summary}. Your text is ${results.map((r) => `${r.count} (${r.tokenizer})`).join(', ')} tokens.` });
    fields.push({ name: 'Vision vs language', value: explanation.text });
    if (prepared.notes.length) fields.push({ name: 'Notes', value: prepared.notes.join('\n') });

    const text = [
      ...results.map(
        (result) =>
          `${result.tokenizer} (${result.algorithm}): ${result.count} tokens\n` +
          table(['#', 'piece', 'id', ''], result.tokens.map((token, index) => [String(index), JSON.stringify(token.piece), String(token.id), token.special ? 'special' : ''])) +
          (result.splits.length ? `\nsplit words: ${result.splits.map((split) => `${split.word} → ${split.pieces.join(' ')}`).join('; ')}` : '') +
          (result.notes.length ? `\n${result.notes.join('\n')}` : ''),
      ),
      `ViT: ${grid.summary}`,
      ...prepared.notes,
      explanation.text,
    ].join('\n\n');
    return { data, embeds: [{ title: 'Tokens: how a model reads text', fields }], files: [], text };
  },
});
