import { createCanvas } from '@napi-rs/canvas';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { renderBenchChart, type BenchBar } from '../../../src/render/bench-chart.js';
import { PALETTE } from '../../../src/render/chart.js';
import { useStyle, wrapText } from '../../../src/render/text.js';

const TITLE =
  '/classify, one request: ResNet-50 + ViT-B/16 (int8), ms — Intel(R) Xeon(R) Platinum 8480+ @ 2.0GHz (Sapphire Rapids, 56 cores per socket, 2 sockets), 112 cores';
const bars: BenchBar[] = [
  { label: 'floor (decode + raw runs)', value: 61.4, valueText: '61 ms', color: '#949ba4' },
  { label: 'sightread /classify', value: 64.9, valueText: '65 ms', color: '#5865f2' },
  {
    label: 'transformers.js pipelines, with a label far too long for its column',
    value: 1317.4,
    valueText: '1317 ms',
    color: '#eb459e',
  },
];

describe('the benchmark chart', () => {
  it('wraps a long title at spaces into lines that fit, and shortens what is left past the last line', () => {
    const context = createCanvas(1, 1).getContext('2d');
    useStyle(context, { size: 20, bold: true });
    const lines = wrapText(context, TITLE, 860, 2);
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(context.measureText(line).width).toBeLessThanOrEqual(860);
    expect(lines[1]!.endsWith('…')).toBe(true);
    expect(TITLE.startsWith(`${lines[0]} ${lines[1]!.slice(0, -1)}`)).toBe(true);
    expect(wrapText(context, 'short title', 860, 2)).toEqual(['short title']);
    expect(wrapText(context, TITLE, 860, 5).join(' ')).toBe(TITLE);
  });

  it('keeps the title, labels and values on the card', async () => {
    const png = await renderBenchChart({ title: TITLE, bars });
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(info.width).toBe(900);
    const card = [0x2b, 0x2d, 0x31];
    expect(PALETTE.card).toBe('#2b2d31');
    const inked: string[] = [];
    // The right padding, below the rounded corners: nothing drawn there.
    for (let y = 12; y < info.height - 12; y += 1) {
      for (let x = 900 - 18; x < 900; x += 1) {
        const at = (y * info.width + x) * info.channels;
        if (card.some((value, c) => data[at + c] !== value)) inked.push(`${x},${y}`);
      }
    }
    expect(inked).toEqual([]);
    // Below the two lines of the title, the label column ends before the bars start at x = 260.
    for (let y = 40 + 26 + 10; y < info.height; y += 1) {
      for (let x = 251; x < 260; x += 1) {
        const at = (y * info.width + x) * info.channels;
        if (card.some((value, c) => data[at + c] !== value)) inked.push(`${x},${y}`);
      }
    }
    expect(inked).toEqual([]);
  });
});
