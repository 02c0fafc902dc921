import { slashCommand, type EmbedField } from '../src/command/definition.js';
import { option } from '../src/command/options.js';
import type { TransformerSentiment } from '../src/text/sentiment.js';
import { batchNote, ms, percent, table } from '../src/render/format.js';
import { renderGroupedBars } from '../src/render/grouped-bars.js';
import { prepareText } from '../src/text/input.js';
import { textVariants } from '../src/text/stress.js';
import { quoteUserText } from '../src/util/user-text.js';

type Verdict = { label: string; score: number } | { unavailable: string };

export interface StressTextReport {
  seed: number;
  variants: Array<{ name: string; text: string; vader: { label: string; compound: number }; transformer: Verdict }>;
  transformer: { model: TransformerSentiment['model']; timings: TransformerSentiment['timings'] } | undefined;
  notes: string[];
  reading: string;
}

const SOURCES = [
  'Hutto and Gilbert 2014, "VADER: A Parsimonious Rule-based Model for Sentiment Analysis of Social Media Text", ICWSM-14',
  'Jin et al. 2019, "Is BERT Really Robust?" (TextFooler), arXiv:1907.11932',
  'Pruthi et al. 2019, "Combating Adversarial Misspellings with Robust Word Recognition", arXiv:1905.11268',
];

const verdictText = (verdict: Verdict): string =>
  'label' in verdict ? `${verdict.label} ${percent(verdict.score)}` : 'unavailable';

const signed = (value: number): string => `${value >= 0 ? '+' : ''}${value.toFixed(3)}`;

/** The chart's two series: VADER in amber, the transformer in blurple. */
const COLORS = { vader: '#faa61a', transformer: '#5865f2' } as const;

/** A verdict on one axis: + for positive, − for negative, its probability as the length. */
const leaning = (verdict: { label: string; score: number }): number =>
  verdict.label === 'negative' ? -verdict.score : verdict.label === 'positive' ? verdict.score : 0;

function reading(variants: StressTextReport['variants']): string {
  const original = variants[0]!;
  const flips = (pick: (v: StressTextReport['variants'][number]) => string | undefined): string[] =>
    variants.slice(1).flatMap((variant) => (pick(variant) !== pick(original) ? [variant.name] : []));
  const vaderFlips = flips((v) => v.vader.label);
  const transformerFlips =
    'label' in original.transformer ? flips((v) => ('label' in v.transformer ? v.transformer.label : undefined)) : [];
  return [
    `VADER changed its label on ${vaderFlips.length ? vaderFlips.join(', ') : 'no variant'}; the transformer on ${'label' in original.transformer ? (transformerFlips.length ? transformerFlips.join(', ') : 'no variant') : '(unavailable)'}.`,
    'VADER follows hand-written rules: capitals and "!" boost, "not" flips the next words, an emoji counts through its English name, and a typo turns a lexicon word into an unknown one that scores nothing (Hutto and Gilbert 2014). The transformer reads subword pieces, so a typo splits a word into unfamiliar pieces, and a synonym swap that a person barely notices can move it (Jin et al. 2019; Pruthi et al. 2019). Sarcasm defeats both: it needs context neither has.',
  ].join(' ');
}

export default slashCommand({
  name: 'stress-text',
  description: 'Stress test for text: typos, negation, caps, emoji, synonyms, sarcasm — VADER vs transformer',
  help: {
    what: 'Your sentence with seeded typos, a negation, ALL CAPS, an emoji, synonyms and a sarcastic frame: how VADER and the transformer each react.',
    example: { text: 'The movie was great' },
  },
  options: {
    text: option.string('The sentence to stress', { required: true, maxLength: 6000 }),
    seed: option.integer('Seed of the typos (default 1)', { min: 0, max: 1_000_000, default: 1 }),
  },
  positional: ['text'],
  usesModels: true,

  async execute({ options: { text: raw, seed }, services, progress }): Promise<StressTextReport> {
    // Each variant is a little longer than the text: keep the text short enough for all of them.
    const prepared = prepareText(raw, Math.min(services.config.TEXT_MAX_CHARS, 1000), { stripMarkup: true });
    const variants = textVariants(prepared.text, seed);
    const pairs = await services.text.sentimentMany(
      variants.map((variant) => variant.text),
      (position) => progress(`transformer: waiting in the queue, position ${position}`),
    );
    const rows = variants.map((variant, index) => {
      const pair = pairs[index]!;
      return {
        ...variant,
        vader: { label: pair.vader.label, compound: pair.vader.compound },
        transformer:
          'label' in pair.transformer
            ? { label: pair.transformer.label.toLowerCase(), score: pair.transformer.score }
            : { unavailable: pair.transformer.unavailable },
      };
    });
    const first = pairs[0]!.transformer;
    const notes = [...prepared.notes];
    if (!variants.some((variant) => variant.name === 'synonyms'))
      notes.push(
        'No word of the synonym table (good, great, bad, love, hate…) occurs in the text: no synonym variant.',
      );
    return {
      seed,
      variants: rows,
      transformer: 'label' in first ? { model: first.model, timings: first.timings } : undefined,
      notes,
      reading: reading(rows),
    };
  },

  toJson: (report) => ({
    seed: report.seed,
    variants: report.variants,
    transformer: report.transformer,
    notes: report.notes,
    reading: report.reading,
    sources: SOURCES,
  }),

  toText: (report) =>
    [
      table(
        ['variant', 'text', 'VADER', 'transformer'],
        report.variants.map((variant) => [
          variant.name,
          quoteUserText(variant.text.length > 80 ? `${variant.text.slice(0, 80)}…` : variant.text, 'plain'),
          `${variant.vader.label} ${signed(variant.vader.compound)}`,
          verdictText(variant.transformer),
        ]),
      ),
      report.transformer
        ? `Transformer: ${report.transformer.model.id} · ${report.transformer.model.precision} · ${report.transformer.model.executionProvider}, ${report.variants.length} variants, ${batchNote(report.transformer.timings)}, ${ms(report.transformer.timings.totalMs)}`
        : `Transformer unavailable: ${'unavailable' in report.variants[0]!.transformer ? report.variants[0]!.transformer.unavailable : ''}`,
      ...report.notes,
      report.reading,
      `Sources: ${SOURCES.join('; ')}`,
    ].join('\n\n'),

  async toEmbeds(report) {
    const chart = await renderGroupedBars({
      title: 'Stress test for text: VADER beside the transformer',
      subtitle:
        'Right of the line is positive, left negative: VADER by its compound score (−1 to +1), the transformer by the probability of its label.',
      legend: [
        { name: 'VADER (compound)', color: COLORS.vader },
        {
          name: report.transformer ? `transformer · ${report.transformer.model.id}` : 'transformer (unavailable)',
          color: COLORS.transformer,
        },
      ],
      max: 1,
      signed: true,
      groups: report.variants.map((variant) => ({
        label: variant.name,
        sublabel: variant.text.length > 40 ? `${variant.text.slice(0, 40)}…` : variant.text,
        bars: [
          {
            value: variant.vader.compound,
            text: `${variant.vader.label} ${signed(variant.vader.compound)}`,
            color: COLORS.vader,
          },
          ...('label' in variant.transformer
            ? [
                {
                  value: leaning(variant.transformer),
                  text: verdictText(variant.transformer),
                  color: COLORS.transformer,
                },
              ]
            : []),
        ],
      })),
    });
    const fields: EmbedField[] = report.variants.map((variant) => ({
      name: variant.name,
      value: `${quoteUserText(variant.text.length > 200 ? `${variant.text.slice(0, 200)}…` : variant.text)}\nVADER **${variant.vader.label}** ${signed(variant.vader.compound)} · transformer **${verdictText(variant.transformer)}**`,
    }));
    if (report.notes.length) fields.push({ name: 'Notes', value: report.notes.map((note) => `• ${note}`).join('\n') });
    fields.push({ name: 'The reading', value: report.reading });
    fields.push({ name: 'Sources', value: SOURCES.join('\n') });
    return {
      embeds: [
        {
          title: 'Stress test for text: VADER vs transformer',
          description: `${report.variants.length} variants of your sentence (typo seed ${report.seed}).`,
          fields,
          image: 'stress-text.png',
          footer: report.transformer
            ? `VADER 3.3.2 (sightread port) · ${report.transformer.model.id} · ${report.transformer.model.precision} · ${report.transformer.model.executionProvider}: ${ms(report.transformer.timings.totalMs)}`
            : 'VADER 3.3.2 (sightread port) · transformer unavailable',
        },
      ],
      files: [{ name: 'stress-text.png', data: chart }],
    };
  },
});
