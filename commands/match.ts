import { slashCommand } from '../src/command/definition.js';
import { option } from '../src/command/options.js';
import { explainMatch, type Explanation } from '../src/knowledge/explanations.js';
import { PALETTE, renderChart } from '../src/render/chart.js';
import { bar, ms, percent, table } from '../src/render/format.js';
import type { MatchResult } from '../src/vision/clip.js';
import { quoteUserText } from '../src/util/user-text.js';
import { MAX_LABEL_CHARS, MAX_LABELS, parseLabels } from '../src/vision/user-labels.js';

export interface MatchReport {
  result: MatchResult;
  explanation: Explanation;
}

const describeModel = ({ model }: MatchResult): string =>
  `${model.id} · ${model.precision} · ${model.executionProvider}`;

export default slashCommand({
  name: 'match',
  description: 'Score an image against your own labels with CLIP (zero-shot)',
  help: {
    what: 'CLIP scores your image against labels you choose (zero-shot).',
    example: { image: 'photo.jpg', labels: 'cat, dog, teapot' },
  },
  options: {
    image: option.attachment('The image to match'),
    labels: option.string('2-20 labels separated by commas, e.g. "cat, dog, teapot"', {
      required: true,
      // Room for every label at its longest, with separators.
      maxLength: MAX_LABELS * (MAX_LABEL_CHARS + 2),
    }),
  },
  positional: ['image'],
  usesModels: true,

  async execute({ options: { image, labels }, services, progress }): Promise<MatchReport> {
    const result = await services.vision.match(image.bytes, parseLabels(labels), ({ position }) =>
      progress(`CLIP: waiting in the queue, position ${position}`),
    );
    return { result, explanation: explainMatch(result) };
  },

  toJson: ({ result, explanation }) => ({
    model: result.model,
    template: result.template,
    logitScale: result.logitScale,
    matches: result.matches,
    textCache: result.textCache,
    timings: result.timings,
    explanation,
  }),

  toText: ({ result, explanation }) =>
    [
      `${describeModel(result)} — ${ms(result.timings.totalMs)} (text cache ${result.textCache.hits}/${result.matches.length} hits)`,
      table(
        ['label', 'score', 'cosine'],
        result.matches.map((match) => [
          quoteUserText(match.label, 'plain'),
          percent(match.score),
          match.cosine.toFixed(4),
        ]),
      ),
      explanation.text,
    ].join('\n\n'),

  async toEmbeds({ result, explanation }) {
    const chart = await renderChart({
      thumbnail: result.preview,
      panels: [
        {
          heading: `CLIP · ${result.model.id}`,
          subtitle: `softmax of ${result.logitScale} × cosine · ${ms(result.timings.totalMs)}`,
          bars: result.matches.map((match) => ({ label: quoteUserText(match.label, 'plain'), score: match.score })),
          color: PALETTE.clip,
        },
      ],
    });
    return {
      files: [{ name: 'match.png', data: chart }],
      embeds: [
        {
          title: 'CLIP zero-shot match',
          description: result.matches
            .map(
              (match) =>
                `\`${bar(match.score, 10)}\` ${percent(match.score)} **${quoteUserText(match.label)}** · cos ${match.cosine.toFixed(3)}`,
            )
            .join('\n'),
          fields: [
            {
              name: 'How',
              value: `Each label became "${result.template}" and was embedded by the text tower; the image by the vision tower. Scores are a softmax over ${result.logitScale} × cosine similarity.`,
            },
            { name: 'Vision vs language', value: explanation.text },
          ],
          image: 'match.png',
          footer: `${describeModel(result)}: ${ms(result.timings.totalMs)} · text cache ${result.textCache.hits}/${result.matches.length} hits`,
        },
      ],
    };
  },
});
