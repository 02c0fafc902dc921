import { slashCommand, type EmbedField, chosenImageModels, modelProgress } from '../src/command/definition.js';
import { imageModelsOption, option } from '../src/command/options.js';
import { PALETTE } from '../src/render/chart.js';
import { renderGroupedBars } from '../src/render/grouped-bars.js';
import { batchNote, ms, percent, table } from '../src/render/format.js';
import { quoteUserText } from '../src/util/user-text.js';
import type { StressModelResult, StressOutcome } from '../src/vision/service.js';

export interface StressReport {
  imageName: string;
  seed: number;
  variants: Array<{ name: string; strength: number }>;
  results: StressModelResult[];
  unavailable: StressOutcome['unavailable'];
  reading: string;
  totalMs: number;
}

const describeModel = (result: StressModelResult): string =>
  `${result.model.id} · ${result.model.precision} · ${result.model.executionProvider}`;

const SOURCES = [
  'Hendrycks and Dietterich 2019, "Benchmarking Neural Network Robustness to Common Corruptions and Perturbations" (ImageNet-C), arXiv:1903.12261',
  'Geirhos et al. 2019, "ImageNet-trained CNNs are biased towards texture", arXiv:1811.12231',
  'Paul and Chen 2022, "Vision Transformers are Robust Learners", AAAI, arXiv:2105.07581',
];

/** The reading, from the numbers: how many variants each model survived, and the worst one. */
function reading(report: Omit<StressReport, 'reading' | 'totalMs'>): string {
  const perturbed = report.variants.length - 1;
  const lines = report.results.map((result) => {
    const kept = result.variants.slice(1).filter((variant) => variant.keptTop1).length;
    let worst = 1;
    result.variants.forEach((variant, index) => {
      if (index > 0 && variant.score < result.variants[worst]!.score) worst = index;
    });
    return `${result.model.architecture.toUpperCase()} (${result.model.id}) kept "${result.original.label}" on ${kept} of ${perturbed} variants; it suffered most from ${report.variants[worst]!.name} (${percent(result.original.score)} → ${percent(result.variants[worst]!.score)})`;
  });
  return [
    `${lines.join('; ')}.`,
    'Noise, blur and JPEG artefacts change texture and fine detail, which ImageNet CNNs lean on (Geirhos et al. 2019); a 90° turn or a crop moves the object itself. ImageNet-C (Hendrycks and Dietterich 2019) measures the same corruptions at scale, and ViTs tend to degrade more gracefully than CNNs of similar accuracy (Paul and Chen 2022), though one photo proves nothing: compare several. Scores that stay high on a badly damaged image are a warning that softmax confidence is not certainty.',
  ].join(' ');
}

export default slashCommand({
  name: 'stress',
  description: 'Stress test: noise, blur, JPEG, rotation, grayscale, occlusion and crop, CNN vs ViT',
  help: {
    what: 'Ten damaged copies of your image (noise, blur, JPEG, rotation, grayscale, occlusion, crop) in one batch per model: how the original top-1 score holds up, CNN beside ViT.',
    example: { image: 'photo.jpg', model: 'both' },
  },
  options: {
    image: option.attachment('The image to stress'),
    model: imageModelsOption('Which model(s) to run (default: both)'),
    seed: option.integer('Seed of the random noise (default 1): the same seed gives the same noise', {
      min: 0,
      max: 1_000_000,
      default: 1,
    }),
  },
  positional: ['image'],
  usesModels: true,

  async execute({ options: { image, model, seed }, services, progress, place }): Promise<StressReport> {
    const started = performance.now();
    const choice = await chosenImageModels(model, services, place);
    progress(
      `Stress test: making 10 damaged copies, then ${services.vision.modelsFor(choice).join(' and ')} each read all 11 images…`,
    );
    const outcome = await services.vision.stress(image.bytes, choice, seed, modelProgress(progress, 'Stress test'));
    const base = {
      imageName: image.name,
      seed,
      variants: outcome.variants.map(({ name, strength }) => ({ name, strength })),
      results: outcome.results,
      unavailable: outcome.unavailable,
    };
    return { ...base, reading: reading(base), totalMs: performance.now() - started };
  },

  toJson: (report) => ({
    image: report.imageName,
    seed: report.seed,
    variants: report.variants.map((variant, index) => ({
      name: variant.name,
      strength: variant.strength,
      models: report.results.map((result) => ({
        model: result.model.id,
        label: result.variants[index]!.label,
        index: result.variants[index]!.index,
        score: result.variants[index]!.score,
        originalScore: result.original.score,
        keptTop1: result.variants[index]!.keptTop1,
      })),
    })),
    models: report.results.map(({ model, timings, original }) => ({ model, timings, original })),
    unavailable: report.unavailable,
    reading: report.reading,
    sources: SOURCES,
    totalMs: report.totalMs,
  }),

  toText: (report) =>
    [
      ...report.results.map(
        (result) =>
          `${describeModel(result)} — ${report.variants.length} variants, ${batchNote(result.timings)}, ${ms(result.timings.totalMs)}; original top-1: ${result.original.label} ${percent(result.original.score)}\n` +
          table(
            ['variant', 'strength', `score of "${result.original.label}"`, 'top-1', 'kept'],
            report.variants.map((variant, index) => {
              const answer = result.variants[index]!;
              return [
                variant.name,
                String(variant.strength),
                percent(answer.score),
                answer.label,
                answer.keptTop1 ? 'yes' : 'no',
              ];
            }),
          ),
      ),
      ...report.unavailable.map((missing) => `${missing.model} unavailable: ${missing.reason}`),
      report.reading,
      `Sources: ${SOURCES.join('; ')}`,
    ].join('\n\n'),

  async toEmbeds(report) {
    const color = (result: StressModelResult): string =>
      result.model.architecture === 'vit' ? PALETTE.vit : PALETTE.cnn;
    const chart = await renderGroupedBars({
      title: 'Stress test: the original top-1 score under each variant',
      subtitle: `${report.results.map((r) => `${r.model.architecture.toUpperCase()} ${r.model.id}: "${r.original.label}" ${percent(r.original.score)}`).join(' · ')}. ✓ top-1 kept, ✗ lost (the new top-1 follows).`,
      legend: report.results.map((result) => ({
        name: `${result.model.architecture.toUpperCase()} · ${result.model.id}`,
        color: color(result),
      })),
      max: 1,
      groups: report.variants.map((variant, index) => ({
        label: variant.name,
        bars: report.results.map((result) => {
          const answer = result.variants[index]!;
          return {
            value: answer.score,
            text: `${percent(answer.score)} ${answer.keptTop1 ? '✓' : `✗ ${answer.label}`}`,
            color: color(result),
          };
        }),
      })),
    });
    const fields: EmbedField[] = report.results.map((result) => ({
      name: `${result.model.architecture.toUpperCase()} · ${result.model.name}`,
      value: `"${result.original.label}" ${percent(result.original.score)}; kept on ${result.variants.slice(1).filter((v) => v.keptTop1).length} of ${report.variants.length - 1} variants`,
      inline: true,
    }));
    for (const missing of report.unavailable)
      fields.push({ name: `${quoteUserText(missing.model)} unavailable`, value: missing.reason });
    fields.push({ name: 'The reading', value: report.reading });
    fields.push({ name: 'Sources', value: SOURCES.join('\n') });
    return {
      embeds: [
        {
          title: 'Stress test: CNN vs ViT',
          description: `${report.variants.length} variants of **${quoteUserText(report.imageName)}** (noise seed ${report.seed}), one batch per model.`,
          fields,
          image: 'stress.png',
          footer: report.results
            .map((result) => `${describeModel(result)}: ${ms(result.timings.totalMs)} (${batchNote(result.timings)})`)
            .join(' | '),
        },
      ],
      files: [{ name: 'stress.png', data: chart }],
    };
  },
});
