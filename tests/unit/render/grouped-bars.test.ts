import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { renderGroupedBars } from '../../../src/render/grouped-bars.js';

const RED = '#ff0000';
const BLUE = '#0000ff';

/** The x of every pixel of this colour on row y of a decoded PNG. */
async function columnsOf(png: Buffer, rgb: [number, number, number]): Promise<{ width: number; rows: number[][] }> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const rows = Array.from({ length: info.height }, (_, y) =>
    Array.from({ length: info.width }, (_, x) => x).filter((x) => {
      const at = (y * info.width + x) * 3;
      return data[at] === rgb[0] && data[at + 1] === rgb[1] && data[at + 2] === rgb[2];
    }),
  );
  return { width: info.width, rows };
}

describe('grouped bars', () => {
  it('grows signed bars left or right of a zero line in the middle, by |value| / max', async () => {
    const png = await renderGroupedBars({
      title: 'signed',
      legend: [],
      max: 1,
      signed: true,
      groups: [
        {
          label: 'one',
          bars: [
            { value: -1, text: '-1', color: RED },
            { value: 0.5, text: '+0.5', color: BLUE },
          ],
        },
      ],
    });
    const red = (await columnsOf(png, [255, 0, 0])).rows.filter((row) => row.length > 0);
    const blue = (await columnsOf(png, [0, 0, 255])).rows.filter((row) => row.length > 0);
    expect(red.length).toBeGreaterThan(0);
    expect(blue.length).toBeGreaterThan(0);
    const [redRow, blueRow] = [red[0]!, blue[0]!];
    const redEnd = Math.max(...redRow);
    const blueStart = Math.min(...blueRow);
    // The negative bar ends where the positive one starts (the zero line), and is twice as long.
    expect(Math.abs(redEnd + 1 - blueStart)).toBeLessThanOrEqual(1);
    expect(redRow.length / blueRow.length).toBeCloseTo(2, 1);
  });
});
