import sharp from 'sharp';
import { escapeXml, PALETTE } from '../render/chart.js';
import type { RgbImage } from './preprocess.js';

export interface PatchGrid {
  imageSize: { width: number; height: number };
  patchSize: number;
  columns: number;
  rows: number;
  patches: number;
  /** Patch tokens plus the [CLS] token the classifier reads. */
  tokens: number;
  valuesPerPatch: number;
  summary: string;
}

/** How a ViT turns its input into tokens: non-overlapping patches, each flattened, plus one class token. */
export function patchGrid(imageSize: { width: number; height: number }, patchSize: number): PatchGrid {
  const columns = Math.floor(imageSize.width / patchSize);
  const rows = Math.floor(imageSize.height / patchSize);
  const patches = columns * rows;
  const valuesPerPatch = patchSize * patchSize * 3;
  return {
    imageSize,
    patchSize,
    columns,
    rows,
    patches,
    tokens: patches + 1,
    valuesPerPatch,
    summary:
      `${imageSize.width}×${imageSize.height} → ${columns}×${rows} = ${patches} patches of ${patchSize}×${patchSize}×3 ` +
      `(${valuesPerPatch} numbers each) + 1 class token = ${patches + 1} tokens`,
  };
}

const SCALE_TARGET = 448;
const CAPTION = 28;
// The grid and caption depend only on the input size and patch size, so they are rasterised once.
const overlays = new Map<string, Promise<Buffer>>();

function overlayFor(width: number, height: number, grid: PatchGrid, scale: number): Promise<Buffer> {
  const key = `${width}x${height}/${grid.patchSize}`;
  let overlay = overlays.get(key);
  if (!overlay) {
    const step = grid.patchSize * scale;
    const lines: string[] = [];
    for (let x = 0; x <= grid.columns; x += 1) lines.push(`<line x1="${x * step}" y1="0" x2="${x * step}" y2="${grid.rows * step}"/>`);
    for (let y = 0; y <= grid.rows; y += 1) lines.push(`<line x1="0" y1="${y * step}" x2="${grid.columns * step}" y2="${y * step}"/>`);
    const caption = escapeXml(`${grid.patches} patches + [CLS] = ${grid.tokens} tokens`);
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height + CAPTION}">
<g stroke="#ffffff" stroke-opacity="0.75" stroke-width="1">${lines.join('')}</g>
<rect x="0" y="${height}" width="${width}" height="${CAPTION}" fill="${PALETTE.card}"/>
<text x="8" y="${height + 19}" font-size="14" font-family="DejaVu Sans, sans-serif" fill="${PALETTE.text}">${caption}</text>
</svg>`;
    overlay = sharp(Buffer.from(svg)).png().toBuffer();
    overlays.set(key, overlay);
  }
  return overlay;
}

/** The exact pixels the ViT saw, enlarged, with its patch grid drawn over them. */
export async function renderPatchGrid(rgb: RgbImage, grid: PatchGrid): Promise<Buffer> {
  const scale = Math.max(1, Math.floor(SCALE_TARGET / Math.max(rgb.width, rgb.height)));
  const width = rgb.width * scale;
  const height = rgb.height * scale;
  const overlay = await overlayFor(width, height, grid, scale);
  return sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } })
    .resize(width, height, { kernel: 'nearest' })
    .extend({ bottom: CAPTION, background: PALETTE.card })
    .composite([{ input: overlay, left: 0, top: 0 }])
    .png({ compressionLevel: 3 })
    .toBuffer();
}
