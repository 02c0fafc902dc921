import { ApplicationCommandOptionType, ApplicationCommandType } from 'discord-api-types/v10';
import { z } from 'zod';
import { defineCommand, imageInput } from '../src/command/definition.js';
import { renderChart, PALETTE } from '../src/render/chart.js';
import { bar, ms, percent, table } from '../src/render/format.js';
import { parseLabels } from '../src/vision/clip.js';
import { inspectImage } from '../src/vision/intake.js';
import { explainMatch } from '../src/knowledge/hooks.js';

const options = z.object({
  image: imageInput,
  labels: z.string().max(4000, 'labels: at most 4000 characters in all'),
});

export default defineCommand({
  data: {
    name: 'match',
    type: ApplicationCommandType.ChatInput,
    description: 'Score an image against your own labels with CLIP (zero-shot)',
    options: [
      { name: 'image', description: 'The image to match', type: ApplicationCommandOptionType.Attachment, required: true },
      {
        name: 'labels',
        description: '2-20 labels separated by commas, e.g. "a cat, a dog, a teapot"',
        type: ApplicationCommandOptionType.String,
        required: true,
        max_length: 2000,
      },
    ],
  },
  options,
  cli: { positional: ['image'], example: 'match photo.jpg --labels "a cat, a dog" --json' },

  async execute({ options: { image, labels: rawLabels }, services, progress }) {
    const labels = parseLabels(rawLabels);
    await inspectImage(image.bytes, services.limits);
    const matcher = await services.clipMatcher();
    const result = await matcher.match(image.bytes, labels, {
      onPosition: (position) => progress(`CLIP: waiting in the queue, position ${position}`),
    });
    const explanation = explainMatch(result);
    const model = `${result.model.id} · ${result.model.precision} · ${result.model.executionProvider}`;
    const data = {
      model: result.model,
      template: services.config.CLIP_PROMPT_TEMPLATE,
      logitScale: result.logitScale,
      matches: result.matches,
      textCache: result.textCache,
      timings: result.timings,
      explanation,
    };
    const chart = await renderChart({
      thumbnail: result.image.rgb,
      panels: [
        {
          heading: `CLIP · ${result.model.id}`,
          subtitle: `softmax of ${result.logitScale} × cosine · ${ms(result.timings.totalMs)}`,
          bars: result.matches.map((match) => ({ label: match.label, score: match.score })),
          color: PALETTE.clip,
        },
      ],
    });
    return {
      data,
      files: [{ name: 'match.png', data: chart }],
      embeds: [
        {
          title: 'CLIP zero-shot match',
          description: result.matches
            .map((match) => `\`${bar(match.score, 10)}\` ${percent(match.score)} **${match.label}** · cos ${match.cosine.toFixed(3)}`)
            .join('\n'),
          fields: [
            { name: 'How', value: `Each label became "${services.config.CLIP_PROMPT_TEMPLATE}" and was embedded by the text tower; the image by the vision tower. Scores are a softmax over ${result.logitScale} × cosine similarity.` },
            { name: 'Vision vs language', value: explanation.text },
          ],
          image: 'match.png',
          footer: `${model}: ${ms(result.timings.totalMs)} · text cache ${result.textCache.hits}/${labels.length} hits`,
        },
      ],
      text: [
        `${model} — ${ms(result.timings.totalMs)} (text cache ${result.textCache.hits}/${labels.length} hits)`,
        table(['label', 'score', 'cosine'], result.matches.map((match) => [match.label, percent(match.score), match.cosine.toFixed(4)])),
        explanation.text,
      ].join('\n\n'),
    };
  },
});
