import { ApplicationCommandOptionType, ApplicationCommandType } from 'discord-api-types/v10';
import { z } from 'zod';
import { defineCommand, imageInput, type EmbedField, type EmbedSpec, type ReplyFile } from '../src/command/definition.js';
import { describeError, isUserFacing, UserFacingError } from '../src/util/errors.js';
import { renderChart, PALETTE } from '../src/render/chart.js';
import { bar, ms, percent, table } from '../src/render/format.js';
import type { Classification } from '../src/vision/classifier.js';
import { compareClassifications } from '../src/vision/compare.js';
import { decodeImage, neededShorterSide } from '../src/vision/preprocess.js';
import { patchGrid } from '../src/vision/patches.js';
import { renderPatchGrid } from '../src/render/patch-view.js';
import { explainClassification } from '../src/knowledge/hooks.js';

const options = z.object({
  image: imageInput,
  model: z.string().trim().min(1).default('both'),
  top: z.coerce.number().int().min(1, 'top must be between 1 and 10').max(10, 'top must be between 1 and 10').default(5),
});

const describeModel = (result: Classification): string => `${result.model.id} · ${result.model.precision} · ${result.model.executionProvider}`;

export default defineCommand({
  data: {
    name: 'classify',
    type: ApplicationCommandType.ChatInput,
    description: 'Classify an image with a CNN and a Vision Transformer side by side',
    options: [
      { name: 'image', description: 'The image to classify', type: ApplicationCommandOptionType.Attachment, required: true },
      {
        name: 'model',
        description: 'Which model(s) to run (default: both)',
        type: ApplicationCommandOptionType.String,
        choices: [
          { name: 'CNN and ViT side by side', value: 'both' },
          { name: 'CNN only', value: 'cnn' },
          { name: 'ViT only', value: 'vit' },
        ],
      },
      { name: 'top', description: 'How many labels to show (1-10, default 5)', type: ApplicationCommandOptionType.Integer, min_value: 1, max_value: 10 },
    ],
  },
  options,
  cli: { positional: ['image'], example: 'classify photo.jpg --model both --top 5 --json' },

  async execute({ options: { image, model, top }, services, progress }) {
    const started = performance.now();
    const { config } = services;
    const ids =
      model === 'both'
        ? [config.VISION_CNN_MODEL, config.VISION_VIT_MODEL]
        : [model === 'cnn' ? config.VISION_CNN_MODEL : model === 'vit' ? config.VISION_VIT_MODEL : model];
    // Decode once for every model, and before any model loads: a bad upload never costs a model load.
    const sizes = ids.flatMap((id) => {
      const spec = services.store.manifest.models.get(id)?.preprocess;
      return spec ? [neededShorterSide(spec)] : [];
    });
    const decoded = await decodeImage(image.bytes, services.limits, Math.max(224, ...sizes));

    const settled = await Promise.allSettled(
      ids.map(async (id) => {
        const classifier = await services.imageClassifier(id);
        return classifier.classify(decoded, top, {
          onPosition: (position) => progress(`${id}: waiting in the queue, position ${position}`),
        });
      }),
    );
    const results: Classification[] = [];
    const unavailable: Array<{ model: string; reason: string }> = [];
    settled.forEach((outcome, index) => {
      if (outcome.status === 'fulfilled') {
        results.push(outcome.value);
        return;
      }
      const error: unknown = outcome.reason;
      // A decode failure is the image's fault, not the model's: report it as such.
      if (isUserFacing(error) && error.code.startsWith('image_')) throw error;
      if (!isUserFacing(error)) services.logger.error({ err: error, model: ids[index] }, 'classifier failed');
      unavailable.push({ model: ids[index]!, reason: isUserFacing(error) ? error.message : `internal error: ${describeError(error)}` });
    });
    if (results.length === 0) {
      throw new UserFacingError(`No classifier could run. ${unavailable.map((u) => `${u.model}: ${u.reason}`).join(' ')}`, { code: 'model_missing' });
    }
    const agreement = results.length === 2 ? compareClassifications(results[0]!, results[1]!) : undefined;
    const explanation = explainClassification({ agreement, results });
    const perModel = results.map((result) => ({ model: result.model, predictions: result.predictions, timings: result.timings }));

    // The patch view shows the pixels the ViT saw. It renders after inference, beside the chart:
    // during inference it would take cores from onnxruntime, afterwards its encoding overlaps the
    // chart's drawing.
    const renderStarted = performance.now();
    const vit = results.find((result) => result.model.architecture === 'vit');
    const patchSize = vit ? services.store.entry(vit.model.id).patchSize : undefined;
    const grid = vit && patchSize ? patchGrid({ width: vit.image.rgb.width, height: vit.image.rgb.height }, patchSize) : undefined;
    // The patch view first: it draws quickly, so it encodes while the chart is still drawing.
    const patchView = vit && grid ? renderPatchGrid(vit.image.rgb, grid) : undefined;
    const [chart, patchJpeg] = await Promise.all([
      renderChart({
        // With a patch view the image is already in the reply; without its thumbnail the chart is
        // narrower (easier to read where Discord scales it down), about 1 ms quicker to encode and
        // a quarter of the bytes to upload.
        thumbnail: patchView ? undefined : results[0]!.image.rgb,
        panels: results.map((result) => ({
          heading: `${result.model.architecture.toUpperCase()} · ${result.model.id}`,
          subtitle: `${result.model.precision} · ${result.model.executionProvider} · ${ms(result.timings.totalMs)}`,
          bars: result.predictions,
          color: result.model.architecture === 'vit' ? PALETTE.vit : PALETTE.cnn,
        })),
      }),
      patchView,
    ]);
    const files: ReplyFile[] = [{ name: 'classify.png', data: chart }];
    if (patchJpeg) files.push({ name: 'patches.jpg', data: patchJpeg });
    const timings = { decodeMs: decoded.ms, renderMs: performance.now() - renderStarted, totalMs: performance.now() - started };
    const data =
      ids.length === 1 && perModel[0]
        ? { ...perModel[0], executionProvider: perModel[0].model.executionProvider, patches: grid, explanation, pipeline: timings }
        : { results: perModel, agreement, unavailable, patches: grid, explanation, pipeline: timings };

    const fields: EmbedField[] = results.map((result) => ({
      name: `${result.model.architecture.toUpperCase()} · ${result.model.name}`,
      value: result.predictions.map((p) => `\`${bar(p.score, 8)}\` ${percent(p.score)} ${p.label}`).join('\n'),
      inline: true,
    }));
    for (const missing of unavailable) fields.push({ name: `${missing.model} unavailable`, value: missing.reason });
    if (agreement) fields.push({ name: 'Agreement', value: agreement.summary });
    if (grid) fields.push({ name: 'How the ViT sees it', value: `${grid.summary}. A text model reads tokens; a ViT reads these patches.` });
    fields.push({ name: 'Vision vs language', value: explanation.text });

    const embeds: EmbedSpec[] = [
      {
        title: results.length > 1 ? 'CNN vs ViT' : `Classified by ${results[0]!.model.name}`,
        description: `Top ${top} ImageNet labels for **${image.name}**.`,
        fields,
        image: 'classify.png',
        footer: results.map((result) => `${describeModel(result)}: ${ms(result.timings.totalMs)}`).join(' | '),
      },
    ];
    if (grid) embeds.push({ title: 'Patch view: the ViT\'s "tokens"', description: grid.summary, image: 'patches.jpg' });

    const text = [
      ...results.map(
        (result) =>
          `${describeModel(result)} — ${ms(result.timings.totalMs)} (preprocess ${ms(result.timings.preprocessMs)}, inference ${ms(result.timings.inferenceMs)}, batch ${result.timings.batchSize})\n` +
          table(['#', 'label', 'score', 'class'], result.predictions.map((p, rank) => [String(rank + 1), p.label, percent(p.score), String(p.index)])),
      ),
      ...unavailable.map((missing) => `${missing.model} unavailable: ${missing.reason}`),
      ...(agreement ? [agreement.summary.replace(/\*\*/g, '')] : []),
      ...(grid ? [`ViT patch view: ${grid.summary}`] : []),
      explanation.text,
    ].join('\n\n');

    return { data, embeds, files, text };
  },
});
