import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { z } from 'zod';
import { Services } from '../../src/app.js';
import { parseConfig } from '../../src/config/config.js';
import { brightestCell, type SaliencyMap } from '../../src/vision/lab.js';

/**
 * How well the lab's saliency maps find the object on the models that scripts/lab/train_toy_models.py
 * trains on synthetic shapes: for each held-out image (whose object's box is known) the maps of the
 * trained ViT (attention rollout), the trained CNN (class activation map) and the same two models
 * with their weights shuffled (Adebayo et al. 2018), each computed by the product's own
 * `services.vision.saliency`, the call /saliency makes. Measured per map:
 *
 *   mass in box  the share of the map's mass inside the object's box (each cell's value spread
 *                evenly over its pixels); a uniform map scores the box's share of the image.
 *   peak in box  whether the brightest cell overlaps the box (the pointing game at cell
 *                resolution); a uniformly random cell scores the share of cells the box touches.
 *                A blank map (every cell 0) has no peak and counts as a miss.
 *   blank        maps with every cell 0 (a CAM whose top class has no positive evidence anywhere).
 *   rank corr.   Spearman's correlation of the trained and the shuffled model's maps on the same
 *                image, over the images where neither map is blank: near 1 would mean the map
 *                ignores what training learned.
 *
 * `npx tsx scripts/lab/toy-saliency-table.ts <toy dir> [images]`: prints a Markdown table, writes
 * <toy dir>/table.json.
 */
const [toyDir, countArg] = process.argv.slice(2) as [string | undefined, string | undefined];
if (!toyDir) throw new Error('usage: toy-saliency-table.ts <folder written by train_toy_models.py> [images]');
const records = z
  .array(
    z.strictObject({
      file: z.string(),
      label: z.string(),
      box: z.tuple([z.number(), z.number(), z.number(), z.number()]),
    }),
  )
  .parse(JSON.parse(readFileSync(join(toyDir, 'heldout/boxes.json'), 'utf8')))
  .slice(0, countArg ? Number(countArg) : undefined);

const config = parseConfig({
  MODELS_MANIFEST: join(toyDir, 'manifest.json'),
  MODELS_DIR: join(toyDir, 'store'),
  MODEL_DOWNLOADS: 'false',
  EXECUTION_PROVIDER: 'cpu',
  LOG_LEVEL: 'silent',
});
const services = new Services(config, pino({ level: 'silent' }));

type Box = readonly [number, number, number, number];
const SIZE = 224;

/** The area of the box inside each cell of a rows × cols grid over the 224×224 input, as a share of the cell. */
function coverage(box: Box, rows: number, cols: number): number[][] {
  const [x0, y0, x1, y1] = box;
  return Array.from({ length: rows }, (_, r) =>
    Array.from({ length: cols }, (_, c) => {
      const [left, right] = [(c * SIZE) / cols, ((c + 1) * SIZE) / cols];
      const [top, bottom] = [(r * SIZE) / rows, ((r + 1) * SIZE) / rows];
      const w = Math.max(0, Math.min(right, x1) - Math.max(left, x0));
      const h = Math.max(0, Math.min(bottom, y1) - Math.max(top, y0));
      return (w * h) / ((right - left) * (bottom - top));
    }),
  );
}

function massInBox(values: number[][], cover: number[][]): number {
  let inside = 0;
  let total = 0;
  values.forEach((row, r) =>
    row.forEach((value, c) => {
      inside += value * cover[r]![c]!;
      total += value;
    }),
  );
  return total > 0 ? inside / total : 0;
}

function peakInBox(values: number[][], cover: number[][]): boolean {
  const cell = brightestCell(values);
  return cell !== undefined && cover[cell.row]![cell.col]! > 0;
}

const blank = (values: number[][]): boolean => brightestCell(values) === undefined;

/** Spearman's rank correlation (average ranks for ties). */
function spearman(a: readonly number[], b: readonly number[]): number {
  const ranks = (values: readonly number[]): number[] => {
    const order = values.map((value, index) => ({ value, index })).sort((x, y) => x.value - y.value);
    const out = new Array<number>(values.length);
    for (let i = 0; i < order.length;) {
      let j = i;
      while (j + 1 < order.length && order[j + 1]!.value === order[i]!.value) j += 1;
      for (let k = i; k <= j; k += 1) out[order[k]!.index] = (i + j) / 2;
      i = j + 1;
    }
    return out;
  };
  const [ra, rb] = [ranks(a), ranks(b)];
  const mean = (values: number[]): number => values.reduce((s, v) => s + v, 0) / values.length;
  const [ma, mb] = [mean(ra), mean(rb)];
  let [sab, saa, sbb] = [0, 0, 0];
  for (let i = 0; i < ra.length; i += 1) {
    sab += (ra[i]! - ma) * (rb[i]! - mb);
    saa += (ra[i]! - ma) ** 2;
    sbb += (rb[i]! - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

const MODELS = ['toy-vit', 'toy-cnn', 'toy-vit-shuffled', 'toy-cnn-shuffled'] as const;
type ModelId = (typeof MODELS)[number];
interface Row {
  methods: Set<string>;
  correct: number;
  blank: number;
  mass: number[];
  peak: number[];
  rank: number[];
}
const rows = new Map<ModelId, Row>(
  MODELS.map((id) => [id, { methods: new Set(), correct: 0, blank: 0, mass: [], peak: [], rank: [] }]),
);
const uniform = { mass: [] as number[], peak: [] as number[] };

for (const record of records) {
  const bytes = readFileSync(join(toyDir, 'heldout', record.file));
  const maps = new Map<ModelId, SaliencyMap>();
  for (const id of MODELS) {
    const outcome = await services.vision.saliency(bytes, id);
    const map = outcome.results[0];
    if (!map) throw new Error(`${id}: ${outcome.unavailable.map((u) => u.reason).join('; ')}`);
    maps.set(id, map);
    const row = rows.get(id)!;
    const cover = coverage(record.box, map.rows, map.cols);
    row.methods.add(`${map.method} ${map.rows}×${map.cols}`);
    row.correct += +(map.label === record.label);
    row.blank += +blank(map.values);
    row.mass.push(massInBox(map.values, cover));
    row.peak.push(+peakInBox(map.values, cover));
  }
  for (const [trained, shuffled] of [
    ['toy-vit', 'toy-vit-shuffled'],
    ['toy-cnn', 'toy-cnn-shuffled'],
  ] as const) {
    const [a, b] = [maps.get(trained)!.values, maps.get(shuffled)!.values];
    if (blank(a) || blank(b)) continue;
    const r = spearman(a.flat(), b.flat());
    rows.get(trained)!.rank.push(r);
    rows.get(shuffled)!.rank.push(r);
  }
  const grid = maps.get('toy-vit')!;
  const cover = coverage(record.box, grid.rows, grid.cols);
  const [x0, y0, x1, y1] = record.box;
  uniform.mass.push(((x1 - x0) * (y1 - y0)) / (SIZE * SIZE));
  uniform.peak.push(cover.flat().filter((share) => share > 0).length / (grid.rows * grid.cols));
}
await services.dispose();

const mean = (values: readonly number[]): number => values.reduce((s, v) => s + v, 0) / Math.max(1, values.length);
const pct = (value: number): string => `${(100 * value).toFixed(1)}%`;
const lines = [
  `${records.length} held-out images (224×224, one object 36–72 px across); maps from services.vision.saliency`,
  '',
  '| model | method (grid) | top-1 correct | mass in box (mean) | peak in box | blank maps | rank corr. trained vs shuffled (mean, images) |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...MODELS.map((id) => {
    const row = rows.get(id)!;
    return `| ${id} | ${[...row.methods].join(', ')} | ${pct(row.correct / records.length)} | ${pct(mean(row.mass))} | ${pct(mean(row.peak))} | ${row.blank} | ${row.rank.length > 0 ? `${mean(row.rank).toFixed(2)} (${row.rank.length})` : '— (every pair has a blank map)'} |`;
  }),
  `| uniform map | — | — | ${pct(mean(uniform.mass))} | ${pct(mean(uniform.peak))} (random cell) | — | — |`,
];
console.log(lines.join('\n'));
writeFileSync(
  join(toyDir, 'table.json'),
  JSON.stringify(
    {
      images: records.length,
      models: Object.fromEntries(
        MODELS.map((id) => {
          const row = rows.get(id)!;
          return [
            id,
            {
              methods: [...row.methods],
              accuracy: row.correct / records.length,
              massInBox: mean(row.mass),
              peakInBox: mean(row.peak),
              blankMaps: row.blank,
              rankCorrelation: row.rank.length > 0 ? mean(row.rank) : null,
              rankCorrelationImages: row.rank.length,
            },
          ];
        }),
      ),
      uniform: { massInBox: mean(uniform.mass), peakInBox: mean(uniform.peak) },
    },
    null,
    1,
  ),
);
