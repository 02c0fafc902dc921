import {
  slashCommand,
  type EmbedField,
  type EmbedSpec,
  type ReplyFile,
  chosenImageModels,
  modelProgress,
} from '../src/command/definition.js';
import { imageModelsOption, option } from '../src/command/options.js';
import { explainClassification, type Explanation } from '../src/knowledge/explanations.js';
import { PALETTE, renderChart } from '../src/render/chart.js';
import { bar, batchNote, ms, percent, table } from '../src/render/format.js';
import { renderPatchGrid } from '../src/render/patch-view.js';
import { quoteUserText } from '../src/util/user-text.js';
import type { Classification } from '../src/vision/classifier.js';
import type { ClassifyOutcome } from '../src/vision/service.js';

export interface ClassifyReport extends ClassifyOutcome {
  imageName: string;
  top: number;
  explanation: Explanation;
  totalMs: number;
}

const describeModel = (result: Classification): string =>
  `${result.model.id} · ${result.model.precision} · ${result.model.executionProvider}`;

export default slashCommand({
  name: 'classify',
  followUps: [
    { label: 'Where did it look?', command: 'saliency' },
    { label: 'Stress test', command: 'stress' },
    { label: 'Hide patches', command: 'mask' },
  ],
  description: 'Classify an image with a CNN and a Vision Transformer side by side',
  help: {
    what: "A CNN and a Vision Transformer label your image side by side, with agreement, latency and the ViT's patch grid.",
    example: { image: 'photo.jpg', model: 'both', top: '5' },
  },
  options: {
    image: option.attachment('The image to classify'),
    model: imageModelsOption('Which model(s) to run (default: both)'),
    top: option.integer('How many labels to show (1-10, default 5)', { min: 1, max: 10, default: 5 }),
  },
  positional: ['image'],
  usesModels: true,

  async execute({ options: { image, model, top }, services, progress, place }): Promise<ClassifyReport> {
    const started = performance.now();
    const outcome = await services.vision.classify(
      image.bytes,
      await chosenImageModels(model, services, place),
      top,
      modelProgress(progress, 'Classify'),
    );
    const explanation = explainClassification(outcome);
    return { ...outcome, imageName: image.name, top, explanation, totalMs: performance.now() - started };
  },

  toJson: (report) => ({
    results: report.results.map(({ model, predictions, timings }) => ({ model, predictions, timings })),
    agreement: report.agreement,
    unavailable: report.unavailable,
    patches: report.patches,
    explanation: report.explanation,
    pipeline: { decodeMs: report.decodeMs, totalMs: report.totalMs },
  }),

  toText: (report) =>
    [
      ...report.results.map(
        (result) =>
          `${describeModel(result)} — ${ms(result.timings.totalMs)} (preprocess ${ms(result.timings.prepareMs)}, inference ${ms(result.timings.inferenceMs)}, ${batchNote(result.timings)})\n` +
          table(
            ['#', 'label', 'score', 'class'],
            result.predictions.map((p, rank) => [String(rank + 1), p.label, percent(p.score), String(p.index)]),
          ),
      ),
      ...report.unavailable.map((missing) => `${missing.model} unavailable: ${missing.reason}`),
      ...(report.agreement ? [report.agreement.summary.replace(/\*\*/g, '')] : []),
      ...(report.patches ? [`ViT patch view: ${report.patches.summary}`] : []),
      report.explanation.text,
    ].join('\n\n'),

  async toEmbeds(report) {
    const { results, patches, agreement } = report;
    const vit = results.find((result) => result.model.architecture === 'vit');
    // The patch view shows the pixels the ViT saw; it starts first because it draws quickly and
    // then encodes while the chart is still drawing.
    const patchView = vit && patches ? renderPatchGrid(vit.preview, patches) : undefined;
    const [chart, patchJpeg] = await Promise.all([
      renderChart({
        // With a patch view the image is already in the reply; without it the chart is narrower,
        // easier to read where Discord scales it down, and smaller to upload.
        thumbnail: patchView ? undefined : results[0]!.preview,
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

    const fields: EmbedField[] = results.map((result) => ({
      name: `${result.model.architecture.toUpperCase()} · ${result.model.name}`,
      value: result.predictions.map((p) => `\`${bar(p.score, 8)}\` ${percent(p.score)} ${p.label}`).join('\n'),
      inline: true,
    }));
    for (const missing of report.unavailable)
      // The id may be what the user typed as the model option.
      fields.push({ name: `${quoteUserText(missing.model)} unavailable`, value: missing.reason });
    if (agreement) fields.push({ name: 'Agreement', value: agreement.summary });
    if (patches) {
      fields.push({
        name: 'How the ViT sees it',
        value: `${patches.summary}. A text model reads tokens; a ViT reads these patches.`,
      });
    }
    fields.push({ name: 'Vision vs language', value: report.explanation.text });
    const embeds: EmbedSpec[] = [
      {
        title: results.length > 1 ? 'CNN vs ViT' : `Classified by ${results[0]!.model.name}`,
        description: `Top ${report.top} ImageNet labels for **${quoteUserText(report.imageName)}**.`,
        fields,
        image: 'classify.png',
        footer: results.map((result) => `${describeModel(result)}: ${ms(result.timings.totalMs)}`).join(' | '),
      },
    ];
    if (patches)
      embeds.push({ title: 'Patch view: the ViT\'s "tokens"', description: patches.summary, image: 'patches.jpg' });
    return { embeds, files };
  },
});
