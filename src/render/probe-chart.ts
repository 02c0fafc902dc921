import type { SKRSContext2D } from '@napi-rs/canvas';
import { inTurn } from '../util/turns.js';
import { fillCard, PALETTE } from './chart.js';
import { blankCanvas, encodePng, pixelsOf } from './pixels.js';
import { fitText, useStyle, type TextStyle } from './text.js';

/** One line of a line plot: y for x = 1, 2, 3… (undefined where there is no value). */
export interface Series {
  name: string;
  color: string;
  values: ReadonlyArray<number | undefined>;
}

export interface ProbeChartData {
  accuracy: Series[];
  loss: Series[];
  /** Rows: true class, columns: predicted. */
  confusion: { labels: string[]; counts: number[][] };
  /** Accuracy on unseen examples for 1, 2, 4… examples per class. */
  hunger: Array<{ perClass: number; accuracy: number }>;
}

const PANEL = 320;
const PAD = 20;
const STYLES = {
  heading: { size: 15, bold: true },
  small: { size: 11 },
} satisfies Record<string, TextStyle>;

export const SERIES_COLORS = { train: PALETTE.cnn, validation: PALETTE.vit, hunger: PALETTE.clip };

function heading(context: SKRSContext2D, text: string, x: number, y: number): void {
  useStyle(context, STYLES.heading);
  context.fillStyle = PALETTE.text;
  context.fillText(fitText(context, text, PANEL).text, x, y);
}

/** A line plot in the box (x, y, w, h): y from 0 to `top`, x from first to last point. */
function linePlot(
  context: SKRSContext2D,
  box: { x: number; y: number; w: number; h: number },
  series: readonly Series[],
  top: number,
  xLabels?: readonly string[],
): void {
  context.strokeStyle = PALETTE.track;
  context.lineWidth = 1;
  context.strokeRect(box.x, box.y, box.w, box.h);
  useStyle(context, STYLES.small);
  context.fillStyle = PALETTE.muted;
  context.fillText(top.toFixed(top < 10 ? 1 : 0), box.x + 4, box.y + 12);
  context.fillText('0', box.x + 4, box.y + box.h - 4);
  const points = Math.max(...series.map((line) => line.values.length), 1);
  const xOf = (index: number): number => box.x + (points === 1 ? box.w / 2 : (index / (points - 1)) * box.w);
  const yOf = (value: number): number => box.y + box.h - (Math.min(value, top) / top) * box.h;
  series.forEach((line, index) => {
    context.strokeStyle = line.color;
    context.fillStyle = line.color;
    context.lineWidth = 2;
    context.beginPath();
    let drawing = false;
    line.values.forEach((value, i) => {
      if (value === undefined || !Number.isFinite(value)) {
        drawing = false;
        return;
      }
      if (drawing) context.lineTo(xOf(i), yOf(value));
      else context.moveTo(xOf(i), yOf(value));
      drawing = true;
      if (points <= 12) context.fillRect(xOf(i) - 2, yOf(value) - 2, 4, 4);
    });
    context.stroke();
    context.fillText(line.name, box.x + box.w - 90, box.y + 14 + index * 14);
  });
  context.fillStyle = PALETTE.muted;
  if (xLabels) xLabels.forEach((label, i) => context.fillText(label, xOf(i) - 3, box.y + box.h + 14));
}

/**
 * /teach train's figure: training and validation accuracy and loss per epoch (the two plots of a
 * Keras tutorial), the leave-one-out confusion matrix and accuracy against examples per class.
 */
export async function renderProbeChart(data: ProbeChartData): Promise<Buffer> {
  const width = PAD + 4 * (PANEL + PAD);
  const height = PAD * 3 + PANEL + 20;
  const pixels = await inTurn(() => {
    const canvas = blankCanvas(width, height);
    const context = canvas.getContext('2d');
    fillCard(context, width, height);
    const box = (column: number): { x: number; y: number; w: number; h: number } => ({
      x: PAD + column * (PANEL + PAD),
      y: PAD + 30,
      w: PANEL,
      h: PANEL - 40,
    });
    heading(context, 'Accuracy per epoch', box(0).x, PAD + 14);
    linePlot(context, box(0), data.accuracy, 1);
    const maxLoss = Math.max(
      0.1,
      ...data.loss.flatMap((line) => line.values.filter((v): v is number => v !== undefined && Number.isFinite(v))),
    );
    heading(context, 'Loss (cross-entropy) per epoch', box(1).x, PAD + 14);
    linePlot(context, box(1), data.loss, maxLoss);

    heading(context, 'Leave-one-out confusion', box(2).x, PAD + 14);
    const { labels, counts } = data.confusion;
    const cell = Math.min(28, (PANEL - 90) / Math.max(1, labels.length));
    const left = box(2).x + 90;
    const topY = box(2).y;
    const most = Math.max(1, ...counts.flat());
    useStyle(context, STYLES.small);
    counts.forEach((row, r) => {
      context.fillStyle = PALETTE.muted;
      context.fillText(fitText(context, labels[r] ?? '', 84).text, box(2).x, topY + r * cell + cell * 0.65);
      row.forEach((value, c) => {
        context.fillStyle = r === c ? PALETTE.clip : PALETTE.vit;
        context.globalAlpha = value === 0 ? 0.08 : 0.25 + 0.75 * (value / most);
        context.fillRect(left + c * cell, topY + r * cell, cell - 2, cell - 2);
        context.globalAlpha = 1;
        context.fillStyle = PALETTE.text;
        if (value > 0 && cell >= 14)
          context.fillText(String(value), left + c * cell + 3, topY + r * cell + cell * 0.65);
      });
    });
    context.fillStyle = PALETTE.muted;
    context.fillText('rows: true class · columns: predicted', box(2).x, topY + labels.length * cell + 16);

    heading(context, 'Accuracy vs examples per class', box(3).x, PAD + 14);
    linePlot(
      context,
      box(3),
      [{ name: 'unseen examples', color: SERIES_COLORS.hunger, values: data.hunger.map((point) => point.accuracy) }],
      1,
      data.hunger.map((point) => String(point.perClass)),
    );
    return pixelsOf(canvas);
  });
  return encodePng(pixels);
}
