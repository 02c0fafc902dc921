import { slashCommand, type EmbedField } from '../src/command/definition.js';
import { option } from '../src/command/options.js';
import { explainSentiment, type Explanation } from '../src/knowledge/explanations.js';
import { ms, percent, table } from '../src/render/format.js';
import { prepareText } from '../src/text/input.js';
import type { SentimentReport as EngineReport } from '../src/text/service.js';
import { quoteUserText } from '../src/util/user-text.js';

export interface SentimentReport extends EngineReport {
  /** The text both engines read, after cleaning. */
  text: string;
  truncated: boolean;
  explanation: Explanation;
}

const signed = (value: number): string => `${value >= 0 ? '+' : ''}${value.toFixed(3)}`;
const VADER_NAME = 'VADER (lexicon + rules)';

export default slashCommand({
  name: 'sentiment',
  followUps: [
    { label: 'Which words mattered?', command: 'saliency-text' },
    { label: 'Stress test', command: 'stress-text' },
    { label: 'Mask words', command: 'mask-text' },
    { label: 'Classic pipeline', command: 'preprocess' },
  ],
  description: 'Sentiment from VADER (lexicon + rules) beside a transformer (DistilBERT SST-2)',
  help: {
    what: 'VADER (word lexicon + rules) beside a transformer (DistilBERT SST-2), with the words that moved VADER.',
    example: { text: 'Not bad at all' },
  },
  options: { text: option.string('The text to analyse', { required: true, maxLength: 6000 }) },
  positional: ['text'],
  usesModels: true,

  async execute({ options: { text: raw }, services, progress }): Promise<SentimentReport> {
    const prepared = prepareText(raw, services.config.TEXT_MAX_CHARS, { stripMarkup: true });
    const report = await services.text.sentiment(prepared.text, (position) =>
      progress(`transformer: waiting in the queue, position ${position}`),
    );
    const notes = [...prepared.notes, ...report.notes];
    return {
      ...report,
      notes,
      text: prepared.text,
      truncated: prepared.truncated,
      explanation: explainSentiment({ notes }),
    };
  },

  toJson: ({ vader, transformer, comparison, notes, truncated, explanation }) => ({
    vader,
    transformer,
    agreement: comparison,
    notes,
    truncated,
    explanation,
  }),

  toText: ({ vader, transformer, comparison, notes, explanation }) =>
    [
      table(
        ['engine', 'label', 'score'],
        [
          [
            'VADER',
            vader.label,
            `compound ${signed(vader.compound)} (neg ${vader.neg} neu ${vader.neu} pos ${vader.pos})`,
          ],
          'label' in transformer
            ? ['transformer', transformer.label.toLowerCase(), percent(transformer.score)]
            : ['transformer', 'unavailable', transformer.unavailable],
        ],
      ),
      vader.contributions.length
        ? table(
            ['word', 'lexicon', 'valence', 'rules'],
            vader.contributions.map((c) => [
              quoteUserText(c.word, 'plain'),
              signed(c.lexicon),
              signed(c.valence),
              quoteUserText(c.rules.join('; '), 'plain'),
            ]),
          )
        : 'VADER: no lexicon words.',
      ...(comparison?.reason ? [comparison.reason] : []),
      ...notes,
      explanation.text,
    ].join('\n\n'),

  toEmbeds: ({ text, vader, transformer, comparison, notes, explanation }) => {
    const contributions = vader.contributions.length
      ? vader.contributions
          // The word and the rules (which quote neighbouring words) are the user's text.
          .map(
            (c) =>
              `\`${signed(c.valence)}\` **${quoteUserText(c.word)}**${c.rules.length ? ` — ${quoteUserText(c.rules.join(', '))}` : ''}`,
          )
          .join('\n')
      : 'No word from the lexicon: neutral.';
    const transformerValue =
      'label' in transformer
        ? `**${transformer.label.toLowerCase()}** ${percent(transformer.score)}\n${transformer.tokens} tokens${transformer.truncated ? ` (cut to ${transformer.maxTokens})` : ''}`
        : `unavailable: ${transformer.unavailable}`;
    const fields: EmbedField[] = [
      {
        name: VADER_NAME,
        value: `**${vader.label}** compound ${signed(vader.compound)}\nneg ${vader.neg} · neu ${vader.neu} · pos ${vader.pos}`,
        inline: true,
      },
      { name: 'Transformer (DistilBERT SST-2)', value: transformerValue, inline: true },
      { name: 'Words that moved VADER', value: contributions },
    ];
    if (comparison) {
      fields.push({
        name: comparison.agree ? 'They agree' : 'They disagree',
        value: comparison.reason ?? 'Both engines give the same label.',
      });
    }
    if (notes.length) fields.push({ name: 'Notes', value: notes.map((note) => `• ${note}`).join('\n') });
    fields.push({ name: 'Vision vs language', value: explanation.text });
    const footer =
      'label' in transformer
        ? `VADER 3.3.2 (sightread port) · ${transformer.model.id} · ${transformer.model.precision} · ${transformer.model.executionProvider}: ${ms(transformer.timings.totalMs)}`
        : 'VADER 3.3.2 (sightread port)';
    return {
      embeds: [
        {
          title: 'Sentiment: lexicon vs transformer',
          description: quoteUserText(text.length > 300 ? `${text.slice(0, 300)}…` : text),
          fields,
          footer,
        },
      ],
      files: [],
    };
  },
});
