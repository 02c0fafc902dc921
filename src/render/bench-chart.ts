import { createCanvas } from '@napi-rs/canvas';
import { fillCard, PALETTE } from './chart.js';
import { encodePng, pixelsOf } from './pixels.js';
import { fitText, useStyle, wrapText } from './text.js';

export interface BenchBar {
  label: string;
  value: number;
  /** The value as it is written beside its bar, e.g. "65 ms". */
  valueText: string;
  color: string;
}

const WIDTH = 900;
const PAD = 20;
const TITLE = { size: 20, bold: true };
const TITLE_LINE = 26;
const TITLE_LINES = 2;
const LABEL = { size: 15 };
const VALUE = { size: 14 };
const BARS_LEFT = 260;
const MAX_BAR = 560;
const ROW = 44;
const BAR_HEIGHT = 26;

/**
 * The benchmark's horizontal bar chart (`npm run bench` writes it to bench/results/chart.png).
 * The title names the machine, and CPU names run long: it wraps onto a second line, and only
 * past that is it shortened with an ellipsis.
 */
export function renderBenchChart(options: { title: string; bars: readonly BenchBar[] }): Promise<Buffer> {
  const measuring = createCanvas(1, 1).getContext('2d');
  useStyle(measuring, TITLE);
  const title = wrapText(measuring, options.title, WIDTH - 2 * PAD, TITLE_LINES);
  useStyle(measuring, VALUE);
  const widestValue = Math.max(0, ...options.bars.map((bar) => measuring.measureText(bar.valueText).width));
  // Bars shrink when a long value would otherwise run off the card.
  const barRoom = Math.min(MAX_BAR, WIDTH - PAD - BARS_LEFT - 10 - widestValue);
  const max = Math.max(...options.bars.map((bar) => bar.value));
  const top = 70 + (title.length - 1) * TITLE_LINE;
  const height = top + 20 + options.bars.length * ROW;

  const canvas = createCanvas(WIDTH, height);
  const context = canvas.getContext('2d');
  fillCard(context, WIDTH, height);
  useStyle(context, TITLE);
  context.fillStyle = PALETTE.text;
  title.forEach((line, index) => context.fillText(line, PAD, 40 + index * TITLE_LINE));
  options.bars.forEach((bar, index) => {
    const y = top + index * ROW;
    const length = max > 0 ? Math.max(1, Math.round((bar.value / max) * barRoom)) : 1;
    useStyle(context, LABEL);
    context.fillStyle = PALETTE.text;
    context.fillText(fitText(context, bar.label, BARS_LEFT - PAD - 10).text, PAD, y + 18);
    context.fillStyle = bar.color;
    context.beginPath();
    context.roundRect(BARS_LEFT, y, length, BAR_HEIGHT, 4);
    context.fill();
    useStyle(context, VALUE);
    context.fillStyle = PALETTE.muted;
    context.fillText(bar.valueText, BARS_LEFT + length + 10, y + 18);
  });
  // Drawn once per benchmark run: compressed harder than the cards of every reply.
  return encodePng(pixelsOf(canvas), 9);
}
