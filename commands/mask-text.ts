import { slashCommand, type EmbedField } from '../src/command/definition.js';
import { option } from '../src/command/options.js';
import { ms, percent, table } from '../src/render/format.js';
import { prepareText } from '../src/text/input.js';
import type { MaskedWordsReport } from '../src/text/service.js';
import { quoteUserText } from '../src/util/user-text.js';

type MaskTextReport = MaskedWordsReport & { seed: number; notes: string[] };

/**
 * The most embed fields the blanks take (past it, the last one lists the rest): Discord shows 25
 * fields and folds the rest away, which took the count and the notes with them once a long text
 * had more than 24 blanks.
 */
const SHOWN_BLANKS = 20;

const READING =
  'BERT was pre-trained by hiding 15% of the tokens and predicting them from both sides. Text is dense: a hidden word is often one only the rest of the sentence pins down, and sometimes nothing does (names, numbers, the word that carries the point). An image survives far more hiding (try /mask: masked autoencoders hide 75% of the patches), because neighbouring patches repeat what is missing.';

export default slashCommand({
  name: 'mask-text',
  description: 'Hide 15% of the words and let BERT fill them in: text is dense',
  help: {
    what: "Hides a seeded 15% of the words and shows BERT's top 3 guesses per blank and how many it recovered.",
    example: { text: 'The cat sat on the mat because it was tired', seed: '1' },
  },
  options: {
    text: option.string('The sentence to mask', { required: true, maxLength: 2000 }),
    seed: option.integer('Which words are hidden (same seed, same words)', { min: 0, max: 2147483647, default: 1 }),
  },
  positional: ['text'],
  usesModels: true,

  async execute({ options: { text: raw, seed }, services, progress }): Promise<MaskTextReport> {
    const prepared = prepareText(raw, services.config.TEXT_MAX_CHARS, { stripMarkup: true });
    const report = await services.text.maskWords(prepared.text, seed, (position) =>
      progress(`fill-mask model: waiting in the queue, position ${position}`),
    );
    // What cleaning did to the text (mentions, formatting, invisible characters), as /saliency-text says it.
    const notes = [...prepared.notes];
    if (report.unread > 0)
      notes.push(
        `The text is longer than ${report.model.id} reads at once: ${report.unread} of the ${report.unread + report.blanks.length} hidden words fell after the part it read, so they are shown as written and not counted.`,
      );
    return { ...report, seed, notes };
  },

  toJson: ({ masked, blanks, recovered, unread, model, timings, seed, notes }) => ({
    masked,
    blanks,
    recovered,
    unread,
    seed,
    model,
    timings,
    notes,
  }),

  toText: ({ masked, blanks, recovered, model, timings, notes }) =>
    [
      `${quoteUserText(masked, 'plain')}`,
      table(
        ['hidden word', 'guesses (top 3)', 'recovered'],
        blanks.map((blank) => [
          quoteUserText(blank.original, 'plain'),
          blank.predictions.map((guess) => `${guess.token} ${percent(guess.score)}`).join(', '),
          blank.predictions[0]?.token === blank.original ? 'yes' : 'no',
        ]),
      ),
      `Recovered ${recovered} of ${blanks.length} — ${model.id} · ${model.precision} · ${model.executionProvider}, ${ms(timings.totalMs)}`,
      ...notes,
      READING,
    ].join('\n\n'),

  toEmbeds: ({ masked, blanks, recovered, model, timings, notes }) => {
    const shown = blanks.length > SHOWN_BLANKS ? blanks.slice(0, SHOWN_BLANKS - 1) : blanks;
    const fields: EmbedField[] = shown.map((blank, index) => ({
      name: `Blank ${index + 1}: ${quoteUserText(blank.original)}`,
      value: blank.predictions
        .map(
          (guess) =>
            `${guess.token === blank.original ? '✅' : '·'} ${quoteUserText(guess.token)} ${percent(guess.score)}`,
        )
        .join('\n'),
      inline: true,
    }));
    if (shown.length < blanks.length)
      fields.push({
        name: `Blanks ${shown.length + 1}–${blanks.length}`,
        value: blanks
          .slice(shown.length)
          .map(
            (blank) =>
              `${blank.predictions[0]?.token === blank.original ? '✅' : '·'} ${quoteUserText(blank.original)}`,
          )
          .join(', '),
      });
    if (notes.length) fields.push({ name: 'Notes', value: notes.map((note) => `• ${note}`).join('\n') });
    fields.push({ name: `Recovered ${recovered} of ${blanks.length}`, value: READING });
    return {
      embeds: [
        {
          title: 'Mask words: text is dense',
          description: quoteUserText(masked),
          fields,
          // The count again where trimming never reaches: an embed over 6,000 characters loses its last fields.
          footer: `Recovered ${recovered} of ${blanks.length} · ${model.id} · ${model.precision} · ${model.executionProvider}: ${ms(timings.totalMs)}`,
        },
      ],
      files: [],
    };
  },
});
