import type { RgbImage } from '../util/image.js';
import { inTurn } from '../util/turns.js';
import { Canvas, parseColour } from './canvas.js';
import { prepareText, type PreparedText, type TextStyle } from './glyphs.js';

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

export const PALETTE = { cnn: '#5865f2', vit: '#eb459e', clip: '#3ba55c', text: '#f2f3f5', muted: '#b5bac1', card: '#2b2d31', track: '#404249' };

const PANEL_WIDTH = 420;
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

const ASCII = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('') + '…·×–—→';
let warmed: Promise<void> | undefined;

/** Renders the glyphs every chart uses, so that the first reply does not pay for it. */
export function warmChartText(): Promise<void> {
  warmed ??= Promise.all(Object.values(STYLES).map((style) => prepareText(style, [ASCII]))).then(() => undefined);
  return warmed;
}

const scoreText = (score: number): string => `${(score * 100).toFixed(1)}%`;

function drawText(canvas: Canvas, prepared: PreparedText, text: string, x: number, baseline: number, colour: string): number {
  const { advance, pieces } = prepared.layout(text);
  const rgb = parseColour(colour);
  for (const piece of pieces) canvas.drawMask(piece.mask, x + piece.x, baseline, rgb);
  return advance;
}

/**
 * A PNG bar chart of one or more score panels side by side, with the model's input as a
 * thumbnail. The card is opaque with light text, so it reads the same on Discord's dark and light themes.
 */
export async function renderChart(options: { panels: ChartPanel[]; thumbnail?: RgbImage | undefined }): Promise<Buffer> {
  const offset = options.thumbnail ? THUMB + PAD * 2 : PAD;
  const maxBars = Math.max(1, ...options.panels.map((panel) => panel.bars.length));
  const width = offset + options.panels.length * (PANEL_WIDTH + PAD);
  const height = Math.max(HEADER + maxBars * ROW + PAD, (options.thumbnail ? THUMB : 0) + PAD * 2);

  await warmChartText();
  const [heading, subtitle, label, score] = await Promise.all([
    prepareText(STYLES.heading, options.panels.map((panel) => panel.heading)),
    prepareText(STYLES.subtitle, options.panels.map((panel) => panel.subtitle)),
    prepareText(STYLES.label, options.panels.flatMap((panel) => panel.bars.map((bar) => bar.label))),
    prepareText(STYLES.score, options.panels.flatMap((panel) => panel.bars.map((bar) => scoreText(bar.score)))),
  ]);

  const canvas = await inTurn(() => {
    const canvas = new Canvas(width, height);
    canvas.fillRoundedRect(0, 0, width, height, 12, parseColour(PALETTE.card));
    options.panels.forEach((panel, index) => {
      const x = offset + index * (PANEL_WIDTH + PAD);
      drawText(canvas, heading, heading.fit(panel.heading, PANEL_WIDTH), x, PAD + 14, PALETTE.text);
      drawText(canvas, subtitle, subtitle.fit(panel.subtitle, PANEL_WIDTH), x, PAD + 34, PALETTE.muted);
      panel.bars.forEach((bar, row) => {
        const y = HEADER + row * ROW;
        const percent = scoreText(bar.score);
        const scoreWidth = score.layout(percent).advance;
        const labelWidth = drawText(canvas, label, label.fit(bar.label, BAR_WIDTH - scoreWidth - 8), x, y + 12, PALETTE.text);
        drawText(canvas, score, percent, Math.round(x + labelWidth + 8), y + 12, PALETTE.muted);
        canvas.fillRoundedRect(x, y + 18, BAR_WIDTH, 12, 6, parseColour(PALETTE.track));
        const filled = Math.max(2, Math.round(Math.max(0, Math.min(1, bar.score)) * BAR_WIDTH));
        canvas.fillRoundedRect(x, y + 18, filled, 12, 6, parseColour(panel.color));
      });
    });
    if (options.thumbnail) canvas.drawImageFit(options.thumbnail, PAD, PAD, THUMB);
    return canvas;
  });
  return canvas.png();
}
