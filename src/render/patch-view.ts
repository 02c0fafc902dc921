import type { RgbImage } from '../util/image.js';
import { inTurn } from '../util/turns.js';
import { PALETTE } from './chart.js';
import { blankCanvas, canvasOf, encodeJpeg, imageDataOf, opaquePixelsOf } from './pixels.js';
import { fitText, useStyle } from './text.js';

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
 * JPEG: it is a photograph, so a PNG would upload several times the bytes, and at quality 90 with
 * full chroma the difference is invisible.
 */
export async function renderPatchGrid(rgb: RgbImage, grid: PatchGridShape): Promise<Buffer> {
  const scale = Math.max(1, Math.floor(SCALE_TARGET / Math.max(rgb.width, rgb.height)));
  const width = rgb.width * scale;
  const height = rgb.height * scale;
  const caption = `${grid.patches} patches + [CLS] = ${grid.tokens} tokens`;
  const pixels = await inTurn(() => {
    const canvas = blankCanvas(width, height + CAPTION);
    const context = canvas.getContext('2d');
    const image = imageDataOf(rgb);
    if (scale === 1) {
      context.putImageData(image, 0, 0);
    } else {
      // Whole-pixel enlargement without smoothing: each pixel the model saw stays a solid block.
      context.imageSmoothingEnabled = false;
      context.drawImage(canvasOf(image), 0, 0, width, height);
    }
    // One-pixel lines on the patch borders, the last ones inside the image.
    const step = grid.patchSize * scale;
    context.fillStyle = 'rgba(255, 255, 255, 0.75)';
    for (let column = 0; column <= grid.columns; column += 1)
      context.fillRect(Math.min(column * step, width - 1), 0, 1, grid.rows * step);
    for (let row = 0; row <= grid.rows; row += 1)
      context.fillRect(0, Math.min(row * step, height - 1), grid.columns * step, 1);
    context.fillStyle = PALETTE.card;
    context.fillRect(0, height, width, CAPTION);
    useStyle(context, CAPTION_STYLE);
    context.fillStyle = PALETTE.text;
    context.fillText(fitText(context, caption, width - 12).text, 6, height + 16);
    return opaquePixelsOf(canvas);
  });
  return encodeJpeg(pixels);
}
