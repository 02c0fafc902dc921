import type { RgbImage } from '../util/image.js';
import { inTurn } from '../util/turns.js';
import { fillCard, PALETTE } from './chart.js';
import { blankCanvas, canvasOf, encodePng, imageDataOf, pixelsOf } from './pixels.js';
import { fitText, useStyle, type TextStyle } from './text.js';

/** One step of a pipeline as a picture: its thumbnail, a title, a few short lines of numbers. */
export interface StripPanel {
  title: string;
  lines: string[];
  image: RgbImage;
  /** A rectangle to outline, in the image's own pixels (what a centre crop keeps); outside it is shaded. */
  outline?: { left: number; top: number; width: number; height: number };
}

const BOX = 150;
const GAP = 14;
const PAD = 16;
const TITLE = { size: 13, bold: true } satisfies TextStyle;
const LINE = { size: 11 } satisfies TextStyle;
const LINE_HEIGHT = 15;
const TEXT_TOP = 10;

/**
 * A strip of thumbnails, one per step, left to right, each fitted into the same box with its
 * aspect ratio kept, so a resize or a squash shows as a change of shape, and a crop as the
 * outlined part of the image before it. A PNG on the same opaque card as the charts.
 */
export async function renderStepStrip(panels: readonly StripPanel[]): Promise<Buffer> {
  const lineCount = Math.max(0, ...panels.map((panel) => panel.lines.length));
  const width = PAD * 2 + panels.length * BOX + (panels.length - 1) * GAP;
  const height = PAD * 2 + BOX + TEXT_TOP + LINE_HEIGHT * (lineCount + 1);
  const pixels = await inTurn(() => {
    const canvas = blankCanvas(width, height);
    const context = canvas.getContext('2d');
    fillCard(context, width, height);
    panels.forEach((panel, index) => {
      const left = PAD + index * (BOX + GAP);
      const scale = Math.min(BOX / panel.image.width, BOX / panel.image.height);
      const w = Math.max(1, Math.round(panel.image.width * scale));
      const h = Math.max(1, Math.round(panel.image.height * scale));
      const x = left + Math.floor((BOX - w) / 2);
      const y = PAD + Math.floor((BOX - h) / 2);
      context.fillStyle = PALETTE.track;
      context.fillRect(left, PAD, BOX, BOX);
      context.imageSmoothingEnabled = true;
      context.drawImage(canvasOf(imageDataOf(panel.image)), x, y, w, h);
      if (panel.outline) {
        const o = panel.outline;
        const box = { x: x + o.left * scale, y: y + o.top * scale, w: o.width * scale, h: o.height * scale };
        // Shade what the crop throws away, then outline what it keeps.
        context.fillStyle = 'rgba(0, 0, 0, 0.55)';
        context.fillRect(x, y, w, box.y - y);
        context.fillRect(x, box.y + box.h, w, y + h - (box.y + box.h));
        context.fillRect(x, box.y, box.x - x, box.h);
        context.fillRect(box.x + box.w, box.y, x + w - (box.x + box.w), box.h);
        context.strokeStyle = PALETTE.vit;
        context.lineWidth = 2;
        context.strokeRect(box.x, box.y, box.w, box.h);
      }
      let textY = PAD + BOX + TEXT_TOP + 10;
      useStyle(context, TITLE);
      context.fillStyle = PALETTE.text;
      context.fillText(fitText(context, `${index + 1}. ${panel.title}`, BOX).text, left, textY);
      useStyle(context, LINE);
      context.fillStyle = PALETTE.muted;
      for (const line of panel.lines) {
        textY += LINE_HEIGHT;
        context.fillText(fitText(context, line, BOX).text, left, textY);
      }
    });
    return pixelsOf(canvas);
  });
  return encodePng(pixels);
}
