import { slashCommand, type EmbedField, chosenImageModels, modelProgress } from '../src/command/definition.js';
import { imageModelsOption, option } from '../src/command/options.js';
import { PALETTE, renderChart } from '../src/render/chart.js';
import { ms, percent, table } from '../src/render/format.js';
import { renderStepStrip } from '../src/render/step-strip.js';
import { UserFacingError } from '../src/util/errors.js';
import { quoteUserText } from '../src/util/user-text.js';
import type { MaskCurve } from '../src/vision/lab.js';
import type { LabOutcome } from '../src/vision/service.js';

export interface MaskReport extends LabOutcome<MaskCurve> {
  imageName: string;
  ratios: number[];
  seed: number;
  totalMs: number;
}

export const DEFAULT_RATIOS = '0,0.25,0.5,0.75,0.9';

/** The ratios option: up to 10 numbers in [0, 1), comma-separated. */
export function parseRatios(text: string): number[] {
  const parts = text.split(',').map((part) => part.trim());
  const ratios = parts.map(Number);
  if (
    parts.length === 0 ||
    parts.length > 10 ||
    parts.some((part) => part === '') ||
    ratios.some((r) => !Number.isFinite(r))
  )
    throw new UserFacingError(`ratios must be 1 to 10 comma-separated numbers, such as ${DEFAULT_RATIOS}.`, {
      code: 'invalid_options',
    });
  const outside = ratios.filter((ratio) => ratio < 0 || ratio >= 1);
  if (outside.length)
    throw new UserFacingError(
      `ratios must be at least 0 and below 1 (hiding every patch leaves nothing to see); got ${outside.join(', ')}.`,
      { code: 'invalid_options' },
    );
  return ratios;
}

/** A ratio as a whole percentage (0.25 → 25%). */
const share = (ratio: number): string => `${Math.round(ratio * 100)}%`;

const describe = (curve: MaskCurve): string =>
  `${curve.model.id} · ${curve.model.precision} · ${curve.model.executionProvider}`;

const READING =
  'Images are redundant: neighbouring patches repeat colour and texture, so a classifier often keeps its answer with half the patches gone, and masked-autoencoder pre-training (MAE, He et al. 2022) hides 75% of the patches because less would be too easy to fill in. Text is dense: BERT hides only 15% of the tokens, because each word carries information its neighbours do not (try /mask-text).';

function reading(report: MaskReport): string {
  const lines = report.results.map((curve) => {
    const survived = curve.steps.filter((step) => step.keptTop1 && step.ratio > 0).map((step) => share(step.ratio));
    return `${curve.model.architecture.toUpperCase()} kept its top-1 at ${survived.length ? survived.join(', ') : 'no ratio above 0'} hidden`;
  });
  return `${lines.join('; ')}.`;
}

export default slashCommand({
  name: 'mask',
  description: 'Hide 0-90% of the image patches and watch the CNN and ViT answers survive (or not)',
  help: {
    what: "Hides a seeded share of the 16×16 patches (mean colour, in pixel space) and charts whether the CNN's and the ViT's top-1 survive: images are redundant, text is dense.",
    example: { image: 'photo.jpg', model: 'both', ratios: DEFAULT_RATIOS, seed: '1' },
  },
  options: {
    image: option.attachment('The image to mask'),
    model: imageModelsOption('Which model(s) to run (default: both)'),
    ratios: option.string('Shares of patches to hide, comma-separated, each in [0, 1)', {
      default: DEFAULT_RATIOS,
      maxLength: 100,
    }),
    seed: option.integer('Which patches are hidden (same seed, same patches)', { min: 0, max: 2147483647, default: 1 }),
  },
  positional: ['image'],
  usesModels: true,

  async execute({ options: { image, model, ratios: text, seed }, services, progress, place }): Promise<MaskReport> {
    const started = performance.now();
    const ratios = parseRatios(text);
    const choice = await chosenImageModels(model, services, place);
    progress(
      `Hide patches: ${ratios.map(share).join(', ')} hidden; ${services.vision.modelsFor(choice).join(' and ')} each read the ${ratios.length} images…`,
    );
    const outcome = await services.vision.mask(
      image.bytes,
      choice,
      ratios,
      seed,
      modelProgress(progress, 'Hide patches'),
    );
    return { ...outcome, imageName: image.name, ratios, seed, totalMs: performance.now() - started };
  },

  toJson: (report) => ({
    image: report.imageName,
    seed: report.seed,
    fill: 'mean colour of the image, in pixel space (before normalisation)',
    models: report.results.map((curve) => ({
      model: curve.model,
      patchSize: curve.patchSize,
      patches: curve.patches,
      runs: curve.runs,
      timings: curve.timings,
      ratios: curve.steps.map(({ ratio, hidden, label, index, score, keptTop1 }) => ({
        ratio,
        hidden,
        label,
        index,
        score,
        keptTop1,
      })),
    })),
    unavailable: report.unavailable,
  }),

  toText: (report) =>
    [
      ...report.results.map(
        (curve) =>
          `${describe(curve)} — ${curve.patches} patches of ${curve.patchSize}×${curve.patchSize} px, filled with the mean colour in pixel space; ${curve.steps.length} images in ${curve.runs} run(s), ${ms(curve.timings.totalMs)}\n` +
          table(
            ['hidden', 'top-1', 'score of unmasked top-1', 'kept'],
            curve.steps.map((step) => [
              `${share(step.ratio)} (${step.hidden})`,
              step.label,
              percent(step.score),
              step.keptTop1 ? 'yes' : 'no',
            ]),
          ),
      ),
      ...report.unavailable.map((missing) => `${missing.model} unavailable: ${missing.reason}`),
      reading(report),
      READING,
    ].join('\n\n'),

  async toEmbeds(report) {
    const [chart, strip] = await Promise.all([
      renderChart({
        panels: report.results.map((curve) => ({
          heading: `${curve.model.architecture.toUpperCase()} · ${curve.model.id}`,
          subtitle: `score of the unmasked top-1 · ${ms(curve.timings.totalMs)}`,
          bars: curve.steps.map((step) => ({
            label: `${share(step.ratio)} hidden${step.keptTop1 ? '' : ` → ${step.label}`}`,
            score: step.score,
          })),
          color: curve.model.architecture === 'vit' ? PALETTE.vit : PALETTE.cnn,
        })),
      }),
      renderStepStrip(
        report.results[0]!.steps.map((step) => ({
          title: `${share(step.ratio)} hidden`,
          lines: report.results.map(
            (curve) =>
              `${curve.model.architecture.toUpperCase()}: ${curve.steps.find((s) => s.ratio === step.ratio)?.label ?? ''}`,
          ),
          image: step.image,
        })),
      ),
    ]);
    const fields: EmbedField[] = report.results.map((curve) => ({
      name: `${curve.model.architecture.toUpperCase()} · ${curve.model.name}`,
      value: curve.steps
        .map(
          (step) => `${step.keptTop1 ? '✅' : '❌'} ${share(step.ratio)} hidden: ${step.label}, ${percent(step.score)}`,
        )
        .join('\n'),
      inline: true,
    }));
    for (const missing of report.unavailable)
      fields.push({ name: `${quoteUserText(missing.model)} unavailable`, value: missing.reason });
    fields.push({ name: 'Reading', value: `${reading(report)} ${READING}` });
    return {
      embeds: [
        {
          title: 'Hide patches: images are redundant',
          description: `**${quoteUserText(report.imageName)}**, seed ${report.seed}: patches filled with the image's mean colour, in pixel space (before normalisation).`,
          fields,
          image: 'mask.png',
          footer: report.results
            .map((curve) => `${describe(curve)}: ${ms(curve.timings.totalMs)} (${curve.runs} run)`)
            .join(' | '),
        },
        { title: 'The masked images', description: 'What the first model saw at each ratio.', image: 'masked.png' },
      ],
      files: [
        { name: 'mask.png', data: chart },
        { name: 'masked.png', data: strip },
      ],
    };
  },
});
