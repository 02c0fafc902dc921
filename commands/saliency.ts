import { slashCommand, type EmbedField, chosenImageModels, modelProgress } from '../src/command/definition.js';
import { imageModelsOption, option } from '../src/command/options.js';
import { ms, percent } from '../src/render/format.js';
import { heatmapOverlay } from '../src/render/heatmap.js';
import { renderStepStrip } from '../src/render/step-strip.js';
import { quoteUserText } from '../src/util/user-text.js';
import { brightestCell, type SaliencyMap, type SaliencyMethod } from '../src/vision/lab.js';
import type { LabOutcome } from '../src/vision/service.js';

export interface SaliencyReport extends LabOutcome<SaliencyMap> {
  imageName: string;
  totalMs: number;
}

/** The size of one map cell in the pixels the model saw (7×7 on 224 px is 32×32; 14×14 is 16×16). */
const cellSize = (map: SaliencyMap): string => {
  const width = map.preview.width / map.cols;
  const height = map.preview.height / map.rows;
  const size = (value: number): string => (Number.isInteger(value) ? `${value}` : value.toFixed(1));
  return `${size(width)}×${size(height)} pixels of its ${map.preview.width}×${map.preview.height} input`;
};

/** What a method's map is, for a reader who has not met it, with this map's own cell size. */
const methodNote = (map: SaliencyMap): string =>
  ({
    'class activation map': `the CNN's last feature map (one cell per ${cellSize(map)}), weighted by the classifier's weights for the top class — one inference, read from inside the graph`,
    'attention rollout': `how much the [CLS] token's answer draws on each patch, multiplying every layer's attention (plus the residual path) — one inference, one cell per patch (${cellSize(map)})`,
    'occlusion sensitivity': `how much the top class's probability drops when each cell (${cellSize(map)}) is hidden (filled with the image's mean colour) — one extra image per cell, all in one batch; used because this model's graph has neither a CAM head nor attention Softmaxes`,
  })[map.method];

const describe = (map: SaliencyMap): string =>
  `${map.model.id} · ${map.model.precision} · ${map.model.executionProvider}`;

/**
 * Why a map has no bright cell at all. A class activation map is blank when every cell's weighted
 * features are at or below zero for the top class (the class won on the classifier's bias, or on
 * negative evidence elsewhere, as for models with shuffled weights); occlusion when hiding no
 * single cell lowers the top class's probability (a flat image).
 */
const BLANK: Record<SaliencyMethod, string> = {
  'class activation map':
    "no cell's features count for the top class (every cell's weighted sum is at or below zero, and negative evidence is cut at zero)",
  'attention rollout': 'the class token draws on no patch',
  'occlusion sensitivity': "hiding any one cell does not lower the top class's probability",
};

/** The brightest cell as "row r, column c" (1-based), or undefined for a blank map. */
function peak(map: SaliencyMap): string | undefined {
  const cell = brightestCell(map.values);
  return cell && `row ${cell.row + 1}, column ${cell.col + 1} of ${map.rows}×${map.cols}`;
}

/** "peak at row 3, column 4 of 14×14", or why the map is blank. */
function where(map: SaliencyMap, peakWord: string): string {
  const cell = peak(map);
  return cell ? `${peakWord} at ${cell}` : `blank map: ${BLANK[map.method]}`;
}

const READING =
  'A CNN pools a coarse grid of local features, so its map is a few blurry cells where the evidence for the class sits; a ViT mixes all patches from the first layer, so attention can spread over the whole image and its map is finer (one cell per patch) but not always tighter. Neither is "where the model looked" in a human sense: maps can look plausible even for a model with random weights (Adebayo et al. 2018), which is why the tests check that shuffling the weights changes the map.';

export default slashCommand({
  name: 'saliency',
  description: 'Where did it look? CNN activation map vs ViT attention rollout over your image',
  help: {
    what: "Where the CNN and the ViT looked: the CNN's class activation map (7×7) beside the ViT's attention rollout (14×14), or occlusion for other models, over the image.",
    example: { image: 'photo.jpg', model: 'both' },
  },
  options: {
    image: option.attachment('The image to explain'),
    model: imageModelsOption('Which model(s) to explain (default: both)'),
  },
  positional: ['image'],
  usesModels: true,

  async execute({ options: { image, model }, services, progress, place }): Promise<SaliencyReport> {
    const started = performance.now();
    const choice = await chosenImageModels(model, services, place);
    progress(`Where did it look? ${services.vision.modelsFor(choice).join(' and ')}: computing each model's map…`);
    const outcome = await services.vision.saliency(image.bytes, choice, modelProgress(progress, 'Where did it look?'));
    return { ...outcome, imageName: image.name, totalMs: performance.now() - started };
  },

  toJson: (report) => ({
    image: report.imageName,
    maps: report.results.map(({ model, method, label, index, rows, cols, values, timings, images, runs }) => ({
      model,
      method,
      label,
      index,
      rows,
      cols,
      values,
      images,
      runs,
      timings,
    })),
    unavailable: report.unavailable,
  }),

  toText: (report) =>
    [
      ...report.results.map(
        (map) =>
          `${describe(map)} — ${map.method}, ${map.rows}×${map.cols} grid, top class ${map.label} (${percent(map.score)}), ${where(map, 'peak')}; ${map.images} image(s) in ${map.runs} run(s), ${ms(map.timings.totalMs)}\n` +
          map.values.map((row) => row.map((v) => v.toFixed(2)).join(' ')).join('\n'),
      ),
      ...report.unavailable.map((missing) => `${missing.model} unavailable: ${missing.reason}`),
      READING,
    ].join('\n\n'),

  async toEmbeds(report) {
    const strip = await renderStepStrip(
      report.results.flatMap((map) => [
        {
          title: `${map.model.architecture.toUpperCase()} input`,
          lines: [map.model.id, `${map.preview.width}×${map.preview.height}`],
          image: map.preview,
        },
        {
          // The method names are too long for a panel's bold title: it goes on its own line.
          title: `${map.model.architecture.toUpperCase()} map`,
          lines: [
            map.method,
            `${map.rows}×${map.cols} · ${map.label}`,
            `${percent(map.score)} · ${ms(map.timings.totalMs)}`,
          ],
          image: heatmapOverlay(map.preview, map.values),
        },
      ]),
    );
    const fields: EmbedField[] = report.results.map((map) => ({
      name: `${map.model.architecture.toUpperCase()} · ${map.method}`,
      value: `Top class **${map.label}** (${percent(map.score)}); ${where(map, 'brightest')}.\n${methodNote(map)}.`,
    }));
    for (const missing of report.unavailable)
      fields.push({ name: `${quoteUserText(missing.model)} unavailable`, value: missing.reason });
    fields.push({ name: 'What differs', value: READING });
    return {
      embeds: [
        {
          title: 'Where did it look?',
          description: `Saliency maps for **${quoteUserText(report.imageName)}**.`,
          fields,
          image: 'saliency.png',
          footer: report.results
            .map((map) => `${describe(map)}: ${ms(map.timings.totalMs)} (${map.runs} run)`)
            .join(' | '),
        },
      ],
      files: [{ name: 'saliency.png', data: strip }],
    };
  },
});
