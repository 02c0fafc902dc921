import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import type { ChartPanel } from '../../src/render/chart.js';
import type { RgbImage } from '../../src/util/image.js';
import { patchGrid } from '../../src/vision/patches.js';
import { median } from './stats.js';

/**
 * `npx tsx scripts/bench/render.ts [--image photo] [--rounds 100] [--against ../other-checkout]`:
 * the render stage of one /classify, in one process: the two-panel chart and the 224 × 224 patch
 * view, drawn and encoded, each alone and both together as the command runs them. Prints one
 * line of JSON: medians in ms, output sizes in bytes.
 *
 * With --against, the same renders from another checkout (its src/render, loaded by tsx) run
 * interleaved with these, round by round, so that both see the same load on a shared machine;
 * the JSON then has both sets of medians and their ratios. First-call costs (warmMs, firstChartMs)
 * are this checkout's only: the other runs in a process that is already warm.
 */
interface Renderer {
  renderChart: (options: { panels: ChartPanel[]; thumbnail?: RgbImage | undefined }) => Promise<Buffer>;
  renderPatchGrid: (rgb: RgbImage, grid: ReturnType<typeof patchGrid>) => Promise<Buffer>;
  warmChartText: () => Promise<void>;
  PALETTE: { cnn: string; vit: string };
}

const ROOT = resolve(import.meta.dirname, '../..');
const { values } = parseArgs({
  options: {
    image: { type: 'string', default: join(ROOT, '..', 'shared/images/chelsea.png') },
    rounds: { type: 'string', default: '100' },
    against: { type: 'string' },
  },
});
const rounds = Math.max(50, Number(values.rounds));
const WARMUP = 10;

async function load(root: string): Promise<Renderer> {
  const chart = (await import(join(root, 'src/render/chart.ts'))) as Pick<
    Renderer,
    'renderChart' | 'warmChartText' | 'PALETTE'
  >;
  const patchView = (await import(join(root, 'src/render/patch-view.ts'))) as Pick<Renderer, 'renderPatchGrid'>;
  return { ...chart, ...patchView };
}

/** The model's input: the photo's centre, 224 × 224, as the classifier crops it. */
async function modelInput(path: string): Promise<RgbImage> {
  if (!existsSync(path)) {
    // A smooth synthetic picture, so that JPEG sizes stay near a photograph's.
    const size = 224;
    const data = Buffer.alloc(size * size * 3);
    for (let y = 0; y < size; y += 1)
      for (let x = 0; x < size; x += 1)
        data.set([x, y, Math.round(128 + 100 * Math.sin((x + y) / 20))], (y * size + x) * 3);
    return { data, width: size, height: size };
  }
  const { data, info } = await sharp(path)
    .resize(224, 224, { fit: 'cover' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

const cats = (scores: number[]): ChartPanel['bars'] =>
  ['tabby, tabby cat', 'tiger cat', 'Egyptian cat', 'lynx, catamount', 'Persian cat'].map((label, i) => ({
    label,
    score: scores[i]!,
  }));
const panelsFor = (palette: Renderer['PALETTE']): ChartPanel[] => [
  {
    heading: 'CNN · resnet-50',
    subtitle: 'q8 · cpu · 41.2 ms',
    bars: cats([0.612, 0.203, 0.118, 0.021, 0.009]),
    color: palette.cnn,
  },
  {
    heading: 'VIT · vit-base-patch16-224',
    subtitle: 'q8 · cpu · 88.7 ms',
    bars: cats([0.447, 0.389, 0.097, 0.012, 0.006]),
    color: palette.vit,
  },
];

const rgb = await modelInput(values.image);
const grid = patchGrid({ width: rgb.width, height: rgb.height }, 16);
const round = (value: number): number => Math.round(value * 100) / 100;

const current = await load(ROOT);
let started = performance.now();
await current.warmChartText();
const warmMs = performance.now() - started;
started = performance.now();
const firstChart = await current.renderChart({ panels: panelsFor(current.PALETTE) });
const firstChartMs = performance.now() - started;
const firstPatchView = await current.renderPatchGrid(rgb, grid);

const other = values.against ? await load(resolve(values.against)) : undefined;
if (other) await other.warmChartText();

/** The three measurements of one renderer; each a function that renders once. */
function jobs(renderer: Renderer): Record<'chartMs' | 'patchViewMs' | 'stageMs', () => Promise<unknown>> {
  const panels = panelsFor(renderer.PALETTE);
  return {
    chartMs: () => renderer.renderChart({ panels }),
    patchViewMs: () => renderer.renderPatchGrid(rgb, grid),
    // As /classify runs them: the patch view first, so that it encodes while the chart draws.
    stageMs: () => Promise.all([renderer.renderPatchGrid(rgb, grid), renderer.renderChart({ panels })]),
  };
}
const contestants = { current: jobs(current), ...(other ? { against: jobs(other) } : {}) };
const samples = new Map<string, number[]>();
for (let index = 0; index < WARMUP + rounds; index += 1) {
  for (const measurement of ['chartMs', 'patchViewMs', 'stageMs'] as const) {
    for (const [name, job] of Object.entries(contestants)) {
      const begun = performance.now();
      await job[measurement]();
      if (index < WARMUP) continue;
      const key = `${name}.${measurement}`;
      samples.set(key, [...(samples.get(key) ?? []), performance.now() - begun]);
    }
  }
}
const medians = (name: string): Record<string, number> =>
  Object.fromEntries(
    ['chartMs', 'patchViewMs', 'stageMs'].map((measurement) => [
      measurement,
      round(median(samples.get(`${name}.${measurement}`) ?? [])),
    ]),
  );

const result: Record<string, unknown> = {
  image: existsSync(values.image) ? values.image : 'synthetic',
  rounds,
  warmMs: round(warmMs),
  firstChartMs: round(firstChartMs),
  ...medians('current'),
  chartBytes: firstChart.length,
  patchViewBytes: firstPatchView.length,
};
if (other) {
  const mine = medians('current');
  const theirs = medians('against');
  result.against = { root: resolve(values.against!), ...theirs };
  result.ratio = Object.fromEntries(
    Object.keys(mine).map((key) => [key.replace(/Ms$/, ''), round(mine[key]! / theirs[key]!)]),
  );
}
process.stdout.write(`${JSON.stringify(result)}\n`);
