import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { patchGrid } from '../../../src/vision/patches.js';
import { renderPatchGrid } from '../../../src/render/patch-view.js';

describe('the patch view', () => {
  it('shows the pixels the ViT saw, with white lines on the patch borders and a caption below', async () => {
    const size = 224;
    const data = Buffer.alloc(size * size * 3);
    for (let y = 0; y < size; y += 1) {
      for (let x = 0; x < size; x += 1)
        data.set([x, y, Math.round(128 + 100 * Math.sin((x + y) / 20))], (y * size + x) * 3);
    }
    const grid = patchGrid({ width: size, height: size }, 16);
    const view = await renderPatchGrid({ data, width: size, height: size }, grid);
    const { data: shown, info } = await sharp(view).raw().toBuffer({ resolveWithObject: true });
    expect((await sharp(view).metadata()).format).toBe('jpeg');
    expect([info.width, info.height, info.channels]).toEqual([size, size + 24, 3]);

    let error = 0;
    let samples = 0;
    for (let y = 0; y < size; y += 1) {
      for (let x = 0; x < size; x += 1) {
        // Away from the lines (and a pixel either side of them, where JPEG rings), the image is unchanged.
        if (x % 16 <= 1 || x % 16 === 15 || y % 16 <= 1 || y % 16 === 15) continue;
        for (let c = 0; c < 3; c += 1)
          error += Math.abs(shown[(y * size + x) * 3 + c]! - data[(y * size + x) * 3 + c]!);
        samples += 3;
      }
    }
    expect(error / samples).toBeLessThan(3);
    // A line pixel is three quarters white over the image.
    const line = (5 * size + 32) * 3;
    for (let c = 0; c < 3; c += 1)
      expect(Math.abs(shown[line + c]! - (0.25 * data[line + c]! + 0.75 * 255))).toBeLessThan(12);
    expect(view.length).toBeLessThan(60_000);
  });
});
