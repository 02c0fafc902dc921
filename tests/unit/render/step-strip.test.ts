import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { renderStepStrip } from '../../../src/render/step-strip.js';

const grey = (width: number, height: number) => ({ data: Buffer.alloc(width * height * 3, 128), width, height });

describe('the step strip', () => {
  it('draws one panel per step, and outlines and shades what a crop throws away', async () => {
    const png = await renderStepStrip([
      {
        title: 'resize',
        lines: ['300×150'],
        image: grey(300, 150),
        outline: { left: 75, top: 0, width: 150, height: 150 },
      },
      { title: 'centre crop', lines: ['150×150'], image: grey(150, 150) },
    ]);
    const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    // 16 px padding, two 150 px boxes, a 14 px gap.
    expect(info.width).toBe(16 * 2 + 150 * 2 + 14);
    const at = (x: number, y: number): number[] => [
      ...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3),
    ];
    // The first thumbnail is 150 × 75, centred in its box from y = 16 + 37: the crop keeps x 37.5–112.5 of it.
    const y = 16 + 37 + 30;
    expect(at(16 + 10, y)[0]).toBeLessThan(80); // shaded, cut away
    expect(at(16 + 75, y)).toEqual([128, 128, 128]); // kept, untouched
    expect(at(16 + 75 + 150 + 14, y)).toEqual([128, 128, 128]); // the crop itself
  });
});
