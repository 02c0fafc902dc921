import { slashCommand, type EmbedField } from '../src/command/definition.js';
import { option } from '../src/command/options.js';
import { ms, percent, table } from '../src/render/format.js';
import { renderGroupedBars } from '../src/render/grouped-bars.js';
import { prepareText } from '../src/text/input.js';
import { MAX_SALIENCY_WORDS, type WordSaliencyReport } from '../src/text/service.js';
import { quoteUserText } from '../src/util/user-text.js';

export interface SaliencyTextReport extends WordSaliencyReport {
  text: string;
  notes: string[];
}

const signed = (value: number): string => `${value >= 0 ? '+' : ''}${value.toFixed(3)}`;

/** The chart's two series: VADER in amber, the transformer in blurple. */
const COLORS = { vader: '#faa61a', transformer: '#5865f2' } as const;

/** The largest |value| of a series, so each series can be drawn on its own scale. */
const largest = (values: ReadonlyArray<number | null>): number =>
  Math.max(1e-9, ...values.map((value) => Math.abs(value ?? 0)));

const READING =
  'VADER\'s weights are read off its rules: a word counts only if it is in the lexicon, whatever surrounds it. The transformer\'s are measured: each word is left out in turn (all variants in one batch) and the change in the probability of its verdict is that word\'s weight, so context words ("not", "but") and words outside any lexicon can matter, and one word\'s weight depends on the others.';

export default slashCommand({
  name: 'saliency-text',
  description: "Which words mattered? VADER's word valences beside the transformer's leave-one-word-out change",
  help: {
    what: "Which words mattered: VADER's per-word valences beside the transformer's leave-one-word-out change in probability (batched).",
    example: { text: 'The movie was not bad at all' },
  },
  options: { text: option.string('The text to explain', { required: true, maxLength: 2000 }) },
  positional: ['text'],
  usesModels: true,

  async execute({ options: { text: raw }, services, progress }): Promise<SaliencyTextReport> {
    const prepared = prepareText(raw, services.config.TEXT_MAX_CHARS, { stripMarkup: true });
    const report = await services.text.wordSaliency(prepared.text, (position) =>
      progress(`transformer: waiting in the queue, position ${position}`),
    );
    const notes = [...prepared.notes];
    if (prepared.text.split(/\s+/).filter(Boolean).length > MAX_SALIENCY_WORDS)
      notes.push(`Only the first ${MAX_SALIENCY_WORDS} words are weighed (one transformer run each).`);
    return { ...report, text: prepared.text, notes };
  },

  toJson: ({ words, transformer, notes }) => ({
    words,
    transformer:
      'label' in transformer
        ? {
            label: transformer.label,
            score: transformer.score,
            model: transformer.model,
            timings: transformer.timings,
            variants: transformer.images,
            runs: transformer.runs,
          }
        : transformer,
    notes,
  }),

  toText: ({ words, vader, transformer, notes }) =>
    [
      `VADER: ${vader.label} (compound ${signed(vader.compound)}); transformer: ${
        'label' in transformer
          ? `${transformer.label.toLowerCase()} ${percent(transformer.score)} — ${transformer.model.id} · ${transformer.model.precision} · ${transformer.model.executionProvider}, ${transformer.images} texts in ${transformer.runs} run(s), ${ms(transformer.timings.totalMs)}`
          : `unavailable: ${transformer.unavailable}`
      }`,
      table(
        ['word', 'VADER valence', 'transformer: drop when left out'],
        words.map((w) => [
          quoteUserText(w.word, 'plain'),
          signed(w.vader),
          w.transformer === null ? 'n/a' : signed(w.transformer),
        ]),
      ),
      ...notes,
      READING,
    ].join('\n\n'),

  async toEmbeds({ text, words, vader, transformer, notes }) {
    const vaderMax = largest(words.map((w) => w.vader));
    const transformerMax = largest(words.map((w) => w.transformer));
    const chart = await renderGroupedBars({
      title: 'Which words mattered?',
      subtitle:
        "VADER: each word's valence in its lexicon (−4 to +4, after its rules). Transformer: how much the probability of its verdict drops when the word is left out. Each series is scaled to its own largest |value|: compare within a colour, read the numbers across.",
      legend: [
        { name: 'VADER valence', color: COLORS.vader },
        {
          name: 'label' in transformer ? `${transformer.model.id}: drop when left out` : 'transformer (unavailable)',
          color: COLORS.transformer,
        },
      ],
      max: 1,
      signed: true,
      groups: words.map((w) => ({
        label: w.word,
        bars: [
          { value: w.vader / vaderMax, text: signed(w.vader), color: COLORS.vader },
          ...(w.transformer === null
            ? []
            : [{ value: w.transformer / transformerMax, text: signed(w.transformer), color: COLORS.transformer }]),
        ],
      })),
    });
    const rows = words
      .map(
        (w) =>
          `**${quoteUserText(w.word)}** · VADER \`${signed(w.vader)}\` · transformer \`${w.transformer === null ? 'n/a' : signed(w.transformer)}\``,
      )
      .join('\n');
    const fields: EmbedField[] = [
      { name: 'Per word (VADER valence · transformer drop when left out)', value: rows || 'No words.' },
      {
        name: 'Verdicts',
        value: `VADER **${vader.label}** (${signed(vader.compound)}); transformer ${
          'label' in transformer
            ? `**${transformer.label.toLowerCase()}** ${percent(transformer.score)}`
            : `unavailable: ${transformer.unavailable}`
        }`,
      },
    ];
    if (notes.length) fields.push({ name: 'Notes', value: notes.map((note) => `• ${note}`).join('\n') });
    fields.push({ name: 'What differs', value: READING });
    return {
      embeds: [
        {
          title: 'Which words mattered?',
          description: quoteUserText(text.length > 300 ? `${text.slice(0, 300)}…` : text),
          fields,
          image: 'saliency-text.png',
          footer:
            'label' in transformer
              ? `VADER 3.3.2 (sightread port) · ${transformer.model.id} · ${transformer.model.precision} · ${transformer.model.executionProvider}: ${ms(transformer.timings.totalMs)} (${transformer.runs} run)`
              : 'VADER 3.3.2 (sightread port)',
        },
      ],
      files: [{ name: 'saliency-text.png', data: chart }],
    };
  },
});
