import type { RgbImage } from '../util/image.js';
import { inTurn } from '../util/turns.js';
import { blankCanvas, canvasOf, encodePng, pixelsOf, resizedImageData } from './pixels.js';
import type { SKRSContext2D } from '@napi-rs/canvas';
import { fitText, useStyle, warmFonts, type TextStyle } from './text.js';

export interface ChartBar {
  label: string;
  score: number;
}

export interface ChartPanel {
  heading: string;
  subtitle: string;
  bars: ChartBar[];
  color: string;
}

export const PALETTE = {
  cnn: '#5865f2',
  vit: '#eb459e',
  clip: '#3ba55c',
  text: '#f2f3f5',
  muted: '#b5bac1',
  card: '#2b2d31',
  track: '#404249',
};

/** The opaque rounded card every image sits on, so it reads the same on Discord's dark and light themes. */
export function fillCard(context: SKRSContext2D, width: number, height: number): void {
  context.fillStyle = PALETTE.card;
  context.beginPath();
  context.roundRect(0, 0, width, height, 12);
  context.fill();
}

const PANEL_WIDTH = 420;
/** Bars, and every text of a panel, end here: the rest of the panel is the gap to the next one. */
const BAR_WIDTH = PANEL_WIDTH - 20;
const THUMB = 168;
const ROW = 40;
const HEADER = 64;
const PAD = 20;
const STYLES = {
  heading: { size: 17, bold: true },
  subtitle: { size: 12 },
  label: { size: 14 },
  score: { size: 13 },
} satisfies Record<string, TextStyle>;

const SAMPLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('') + '…·×–—→';
let warmed: Promise<void> | undefined;

/**
 * Loads the chart's fonts, renders its common glyphs and encodes a first PNG, so that the first
 * reply does not pay for opening font files or starting sharp's encoder.
 */
export function warmChartText(): Promise<void> {
  warmed ??= Promise.resolve()
    .then(() => encodePng(pixelsOf(warmFonts(Object.values(STYLES), SAMPLE))))
    .then(() => undefined);
  return warmed;
}

const scoreText = (score: number): string => `${(score * 100).toFixed(1)}%`;

/** Where the thumbnail goes: fitted into the THUMB box with its aspect ratio kept, centred. */
function thumbnailBox(image: RgbImage): { left: number; top: number; width: number; height: number } {
  const scale = Math.min(THUMB / image.width, THUMB / image.height);
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  return { left: PAD + Math.floor((THUMB - width) / 2), top: PAD + Math.floor((THUMB - height) / 2), width, height };
}

/**
 * A PNG bar chart of one or more score panels side by side, with the model's input as a
 * thumbnail. The card is opaque with light text, so it reads the same on Discord's dark and light
 * themes. Texts too long for their panel are shortened with an ellipsis.
 */
export async function renderChart(options: {
  panels: ChartPanel[];
  thumbnail?: RgbImage | undefined;
}): Promise<Buffer> {
  const offset = options.thumbnail ? THUMB + PAD * 2 : PAD;
  const maxBars = Math.max(1, ...options.panels.map((panel) => panel.bars.length));
  const width = offset + options.panels.length * (PANEL_WIDTH + PAD);
  const height = Math.max(HEADER + maxBars * ROW + PAD, (options.thumbnail ? THUMB : 0) + PAD * 2);

  await warmChartText();
  const box = options.thumbnail ? thumbnailBox(options.thumbnail) : undefined;
  const thumbnail = options.thumbnail && box ? await resizedImageData(options.thumbnail, box) : undefined;

  const pixels = await inTurn(() => {
    const canvas = blankCanvas(width, height);
    const context = canvas.getContext('2d');
    fillCard(context, width, height);

    /** Draws a text shortened to fit `maxWidth`. */
    const text = (
      style: TextStyle,
      colour: string,
      value: string,
      x: number,
      baseline: number,
      maxWidth: number,
    ): void => {
      useStyle(context, style);
      context.fillStyle = colour;
      context.fillText(fitText(context, value, maxWidth).text, x, baseline);
    };
    /** Bars of one colour, as one path filled once. */
    const bars = (colour: string, x: number, lengths: readonly number[]): void => {
      context.beginPath();
      lengths.forEach((length, row) => context.roundRect(x, HEADER + row * ROW + 18, length, 12, 6));
      context.fillStyle = colour;
      context.fill();
    };
    // Texts are drawn style by style, not bar by bar: each change of font is parsed anew.
    options.panels.forEach((panel, index) => {
      const x = offset + index * (PANEL_WIDTH + PAD);
      text(STYLES.heading, PALETTE.text, panel.heading, x, PAD + 14, BAR_WIDTH);
      text(STYLES.subtitle, PALETTE.muted, panel.subtitle, x, PAD + 34, BAR_WIDTH);
      bars(
        PALETTE.track,
        x,
        panel.bars.map(() => BAR_WIDTH),
      );
      bars(
        panel.color,
        x,
        panel.bars.map((bar) => Math.max(2, Math.round(Math.max(0, Math.min(1, bar.score)) * BAR_WIDTH))),
      );
      // A label gives way to its score, which is always shown whole, so the scores are measured first.
      useStyle(context, STYLES.score);
      const scores = panel.bars.map((bar) => {
        const percent = scoreText(bar.score);
        return { text: percent, width: context.measureText(percent).width };
      });
      useStyle(context, STYLES.label);
      context.fillStyle = PALETTE.text;
      const labelWidths = panel.bars.map((bar, row) => {
        const label = fitText(context, bar.label, BAR_WIDTH - scores[row]!.width - 8);
        context.fillText(label.text, x, HEADER + row * ROW + 12);
        return label.width;
      });
      useStyle(context, STYLES.score);
      context.fillStyle = PALETTE.muted;
      scores.forEach((score, row) => context.fillText(score.text, x + labelWidths[row]! + 8, HEADER + row * ROW + 12));
    });
    if (thumbnail && box) {
      context.save();
      context.beginPath();
      context.roundRect(box.left, box.top, box.width, box.height, 8);
      context.clip();
      context.drawImage(canvasOf(thumbnail), box.left, box.top);
      context.restore();
    }
    return pixelsOf(canvas);
  });
  return encodePng(pixels);
}
