import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { PALETTE, renderChart, warmChartText, type ChartPanel } from '../../src/render/chart.js';
import { renderPatchGrid } from '../../src/render/patch-view.js';
import type { RgbImage } from '../../src/util/image.js';
import { patchGrid } from '../../src/vision/patches.js';
import { median, timeIt } from './stats.js';

/**
 * `npx tsx scripts/bench/render.ts [image] [rounds]`: the render stage of one /classify in one
 * process: the two-panel chart and the 224 × 224 patch view, drawn and encoded, alone and
 * together as the command runs them. Prints one line of JSON (medians in ms, output sizes in bytes).
 */
const ROOT = resolve(import.meta.dirname, '../..');
const fallbackImage = join(ROOT, '..', 'shared/images/chelsea.png');
const imagePath = process.argv[2] ?? fallbackImage;
const rounds = Number(process.argv[3] ?? 100);

/** The model's input: the photo's centre, 224 × 224, as the classifier crops it. */
async function modelInput(path: string): Promise<RgbImage> {
  if (!existsSync(path)) {
    // A smooth synthetic picture: JPEG sizes then stay near a photograph's.
    const size = 224;
    const data = Buffer.alloc(size * size * 3);
    for (let y = 0; y < size; y += 1) for (let x = 0; x < size; x += 1) data.set([x, y, Math.round(128 + 100 * Math.sin((x + y) / 20))], (y * size + x) * 3);
    return { data, width: size, height: size };
  }
  const { data, info } = await sharp(path).resize(224, 224, { fit: 'cover' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

const cats = (scores: number[]): ChartPanel['bars'] =>
  ['tabby, tabby cat', 'tiger cat', 'Egyptian cat', 'lynx, catamount', 'Persian cat'].map((label, i) => ({ label, score: scores[i]! }));
const panels: ChartPanel[] = [
  { heading: 'CNN · resnet-50', subtitle: 'q8 · cpu · 41.2 ms', bars: cats([0.612, 0.203, 0.118, 0.021, 0.009]), color: PALETTE.cnn },
  { heading: 'VIT · vit-base-patch16-224', subtitle: 'q8 · cpu · 88.7 ms', bars: cats([0.389, 0.097, 0.447, 0.012, 0.006]), color: PALETTE.vit },
];

const rgb = await modelInput(imagePath);
const grid = patchGrid({ width: rgb.width, height: rgb.height }, 16);

let started = performance.now();
await warmChartText();
const warmMs = performance.now() - started;
started = performance.now();
const firstChart = await renderChart({ panels });
const firstChartMs = performance.now() - started;
const patchJpeg = await renderPatchGrid(rgb, grid);

const chartMs = median(await timeIt(() => renderChart({ panels }), rounds, 10));
const patchViewMs = median(await timeIt(() => renderPatchGrid(rgb, grid), rounds, 10));
// As /classify runs them: the patch view first, so that it encodes while the chart draws.
const stageMs = median(await timeIt(() => Promise.all([renderPatchGrid(rgb, grid), renderChart({ panels })]), rounds, 10));

const round = (value: number): number => Math.round(value * 100) / 100;
process.stdout.write(
  `${JSON.stringify({
    image: existsSync(imagePath) ? imagePath : 'synthetic',
    rounds,
    warmMs: round(warmMs),
    firstChartMs: round(firstChartMs),
    chartMs: round(chartMs),
    patchViewMs: round(patchViewMs),
    stageMs: round(stageMs),
    chartBytes: firstChart.length,
    patchViewBytes: patchJpeg.length,
  })}\n`,
);
