import type { RgbImage } from '../util/image.js';
import { inTurn } from '../util/turns.js';
import { Canvas, parseColour } from './canvas.js';
import { PALETTE } from './chart.js';
import { prepareText } from './glyphs.js';

/** A ViT's patch grid as plain numbers (vision/patches.ts computes it). */
export interface PatchGridShape {
  patchSize: number;
  columns: number;
  rows: number;
  patches: number;
  tokens: number;
}

// Discord shows embed images at most 400 px wide, so a 224-pixel input is drawn 1:1, where the
// grid stays crisp (and the image is a quarter of the work); only small inputs are enlarged.
const SCALE_TARGET = 224;
const CAPTION = 24;
const CAPTION_STYLE = { size: 12 };

/**
 * The pixels the ViT saw (enlarged only when small), with its patch grid drawn over them, as a
 * JPEG: it is a photograph, so a PNG would upload about 160 KB per reply where this is 20–30 KB,
 * and at quality 90 with full chroma the difference is invisible.
 */
export async function renderPatchGrid(rgb: RgbImage, grid: PatchGridShape): Promise<Buffer> {
  const scale = Math.max(1, Math.floor(SCALE_TARGET / Math.max(rgb.width, rgb.height)));
  const width = rgb.width * scale;
  const height = rgb.height * scale;
  const caption = `${grid.patches} patches + [CLS] = ${grid.tokens} tokens`;
  const text = await prepareText(CAPTION_STYLE, [caption]);
  const canvas = await inTurn(() => {
    const canvas = new Canvas(width, height + CAPTION);
    canvas.drawImage(rgb, 0, 0, scale);
    // One-pixel lines on the patch borders, the last ones inside the image.
    const step = grid.patchSize * scale;
    const white = parseColour('#ffffff');
    for (let column = 0; column <= grid.columns; column += 1) canvas.fillRoundedRect(Math.min(column * step, width - 1), 0, 1, grid.rows * step, 0, white, 0.75);
    for (let row = 0; row <= grid.rows; row += 1) canvas.fillRoundedRect(0, Math.min(row * step, height - 1), grid.columns * step, 1, 0, white, 0.75);
    canvas.fillRoundedRect(0, height, width, CAPTION, 0, parseColour(PALETTE.card));
    const rgbText = parseColour(PALETTE.text);
    for (const piece of text.layout(caption).pieces) canvas.drawMask(piece.mask, 6 + piece.x, height + 16, rgbText);
    return canvas;
  });
  return canvas.jpeg();
}
