import { fillCard, PALETTE } from './chart.js';
import { blankCanvas, encodePng, pixelsOf } from './pixels.js';
import { inTurn } from '../util/turns.js';
import { fitText, useStyle, wrapText } from './text.js';

export interface GroupedBar {
  value: number;
  /** Written beside the bar: "38", "63.8% ✓". */
  text: string;
  color: string;
}

export interface BarGroup {
  label: string;
  /** A second, muted line under the label ("Cyrillic", "σ = 25"). */
  sublabel?: string;
  bars: GroupedBar[];
}

export interface GroupedBarChart {
  title: string;
  subtitle?: string;
  groups: BarGroup[];
  legend: Array<{ name: string; color: string }>;
  /** The value of a full-length bar; the largest value (or the reference) when absent. */
  max?: number;
  /** A vertical line across every group: "one 224×224 image = 197 tokens". */
  reference?: { value: number; label: string; color: string };
  /** Values may be negative: bars grow left or right of a zero line in the middle (max is then the largest |value|). */
  signed?: boolean;
}

const WIDTH = 920;
const PAD = 20;
const LABELS = 190;
const BARS_LEFT = PAD + LABELS;
const VALUE_ROOM = 150;
const BAR_ROOM = WIDTH - BARS_LEFT - VALUE_ROOM - PAD;
const BAR = 11;
const BAR_GAP = 3;
const GROUP_GAP = 12;
const TITLE = { size: 19, bold: true };
const SUBTITLE = { size: 12 };
const LABEL = { size: 14 };
const SUBLABEL = { size: 11 };
const VALUE = { size: 11 };
const LEGEND = { size: 12 };

/**
 * Horizontal bars in groups (one group per language or per variant, one bar per model or
 * tokenizer), with a legend and an optional reference line: the lab's "price in tokens" and
 * stress-test charts. Plain numbers in, a PNG card out.
 */
export async function renderGroupedBars(chart: GroupedBarChart): Promise<Buffer> {
  const pixels = await inTurn(() => {
    const measuring = blankCanvas(1, 1).getContext('2d');
    useStyle(measuring, SUBTITLE);
    const subtitle = chart.subtitle ? wrapText(measuring, chart.subtitle, WIDTH - 2 * PAD, 3) : [];
    const top = 44 + subtitle.length * 16 + 46;
    const groupHeight = (group: BarGroup): number =>
      Math.max(36, group.bars.length * (BAR + BAR_GAP) - BAR_GAP) + GROUP_GAP;
    const height = top + chart.groups.reduce((sum, group) => sum + groupHeight(group), 0) + PAD;
    const signed = chart.signed === true;
    const max = Math.max(
      1e-9,
      chart.max ??
        Math.max(
          chart.reference?.value ?? 0,
          ...chart.groups.flatMap((g) => g.bars.map((b) => (signed ? Math.abs(b.value) : b.value))),
        ),
    );
    const room = signed ? BAR_ROOM / 2 : BAR_ROOM;
    const zero = BARS_LEFT + (signed ? room : 0);
    const length = (value: number): number =>
      Math.max(1, Math.round((Math.max(0, Math.min(signed ? Math.abs(value) : value, max)) / max) * room));

    const canvas = blankCanvas(WIDTH, height);
    const context = canvas.getContext('2d');
    fillCard(context, WIDTH, height);
    useStyle(context, TITLE);
    context.fillStyle = PALETTE.text;
    context.fillText(fitText(context, chart.title, WIDTH - 2 * PAD).text, PAD, 34);
    useStyle(context, SUBTITLE);
    context.fillStyle = PALETTE.muted;
    subtitle.forEach((line, index) => context.fillText(line, PAD, 56 + index * 16));
    // The legend: a swatch and a name per series.
    let x = PAD;
    useStyle(context, LEGEND);
    for (const entry of chart.legend) {
      context.fillStyle = entry.color;
      context.fillRect(x, top - 42, 12, 12);
      context.fillStyle = PALETTE.text;
      context.fillText(entry.name, x + 18, top - 32);
      x += 18 + context.measureText(entry.name).width + 22;
    }

    let y = top;
    for (const group of chart.groups) {
      useStyle(context, LABEL);
      context.fillStyle = PALETTE.text;
      context.fillText(fitText(context, group.label, LABELS - 10).text, PAD, y + 13);
      if (group.sublabel) {
        useStyle(context, SUBLABEL);
        context.fillStyle = PALETTE.muted;
        context.fillText(fitText(context, group.sublabel, LABELS - 10).text, PAD, y + 28);
      }
      group.bars.forEach((bar, index) => {
        const barTop = y + index * (BAR + BAR_GAP);
        context.fillStyle = PALETTE.track;
        context.fillRect(BARS_LEFT, barTop, BAR_ROOM, BAR);
        context.fillStyle = bar.color;
        const span = length(bar.value);
        context.fillRect(signed && bar.value < 0 ? zero - span : zero, barTop, span, BAR);
        useStyle(context, VALUE);
        context.fillStyle = PALETTE.muted;
        context.fillText(fitText(context, bar.text, VALUE_ROOM - 8).text, BARS_LEFT + BAR_ROOM + 8, barTop + BAR - 1);
      });
      y += groupHeight(group);
    }
    if (signed) {
      context.fillStyle = PALETTE.muted;
      context.fillRect(zero, top - 4, 1, y - GROUP_GAP - top + 4);
    }
    if (chart.reference) {
      const at = BARS_LEFT + length(chart.reference.value);
      context.strokeStyle = chart.reference.color;
      context.lineWidth = 2;
      context.setLineDash([6, 4]);
      context.beginPath();
      context.moveTo(at, top - 4);
      context.lineTo(at, y - GROUP_GAP);
      context.stroke();
      context.setLineDash([]);
      useStyle(context, LEGEND);
      context.fillStyle = chart.reference.color;
      const label = fitText(context, chart.reference.label, WIDTH - PAD - BARS_LEFT).text;
      const width = context.measureText(label).width;
      context.fillText(label, Math.max(BARS_LEFT, Math.min(at - width / 2, WIDTH - PAD - width)), top - 8);
    }
    return pixelsOf(canvas);
  });
  return encodePng(pixels);
}
