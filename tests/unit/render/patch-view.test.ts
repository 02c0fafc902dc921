import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { PALETTE } from '../../../src/render/chart.js';
import { renderPatchGrid } from '../../../src/render/patch-view.js';
import { patchGrid } from '../../../src/vision/patches.js';

describe('the patch view of a small input', () => {
  it('enlarges it by whole pixels, each pixel the model saw a solid block', async () => {
    const size = 28;
    const data = Buffer.alloc(size * size * 3);
    for (let i = 0; i < size * size; i += 1) data.set([(i * 37) % 256, (i * 91) % 256, (i * 53 + 17) % 256], i * 3);
    const view = await renderPatchGrid(
      { data, width: size, height: size },
      patchGrid({ width: size, height: size }, 14),
    );
    const { data: shown, info } = await sharp(view).raw().toBuffer({ resolveWithObject: true });
    // 28 px → 8 px a pixel: 224 px, lines at 0, 112 and 223 (the last inside the image).
    expect([info.width, info.height]).toEqual([224, 224 + 24]);
    const lines = new Set([0, 14, 27]);
    let worst = 0;
    for (let y = 0; y < 224; y += 1) {
      for (let x = 0; x < 224; x += 1) {
        const [sx, sy] = [Math.floor(x / 8), Math.floor(y / 8)];
        // A block with a line in it rings in the JPEG; every other block is one colour.
        if (lines.has(sx) || lines.has(sy)) continue;
        for (let c = 0; c < 3; c += 1)
          worst = Math.max(worst, Math.abs(shown[(y * 224 + x) * 3 + c]! - data[(sy * size + sx) * 3 + c]!));
      }
    }
    expect(worst).toBeLessThanOrEqual(4);
  });

  it('writes its caption on a strip of the card colour below the image', async () => {
    const size = 224;
    const view = await renderPatchGrid(
      { data: Buffer.alloc(size * size * 3, 200), width: size, height: size },
      patchGrid({ width: size, height: size }, 16),
    );
    const { data: shown } = await sharp(view).raw().toBuffer({ resolveWithObject: true });
    const card = [0x2b, 0x2d, 0x31];
    const at = (x: number, y: number): number[] =>
      Array.from(shown.subarray((y * size + x) * 3, (y * size + x) * 3 + 3));
    expect(PALETTE.card).toBe('#2b2d31');
    // Right of the text, in JPEG blocks with no ink in them.
    for (const [x, y] of [
      [218, 226],
      [222, 246],
      [220, 236],
    ] as const)
      for (const [c, value] of at(x, y).entries()) expect(Math.abs(value - card[c]!)).toBeLessThanOrEqual(3);
    // Light text in the strip.
    let brightest = 0;
    for (let y = 224; y < 248; y += 1) for (let x = 6; x < 120; x += 1) brightest = Math.max(brightest, at(x, y)[0]!);
    expect(brightest).toBeGreaterThan(200);
  });
});
