import { describe, expect, it } from 'vitest';
import type { ImagePreprocess } from '../../../src/models/manifest.js';
import { prepareImage, resizeTarget } from '../../../src/vision/preprocess.js';
import { noiseRgb, rawToPng } from '../../fixtures/images.js';

const limits = { maxBytes: 1 << 24, maxPixels: 1e7, decodeTimeoutMs: 5000 };
const imagenet: Pick<ImagePreprocess, 'mean' | 'std'> = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

describe('preprocessing', () => {
  it('centre-crops and normalises exactly as the ImageNet reference does (NCHW, RGB)', async () => {
    const width = 40;
    const height = 30;
    const raw = noiseRgb(width, height);
    // Shorter side already equals the target, so the resize is the identity and only the crop moves pixels.
    const spec: ImagePreprocess = {
      resize: 'shorter-side-then-crop',
      shorterSide: 30,
      size: { width: 20, height: 20 },
      interpolation: 'bilinear',
      rescale: 1 / 255,
      ...imagenet,
      channelOrder: 'rgb',
      layout: 'nchw',
      dtype: 'float32',
    };
    const { tensor, dims } = await prepareImage(await rawToPng(raw, width, height), spec, limits);
    expect(dims).toEqual([3, 20, 20]);
    const left = 10;
    const top = 5;
    let worst = 0;
    for (let c = 0; c < 3; c += 1) {
      for (let y = 0; y < 20; y += 1) {
        for (let x = 0; x < 20; x += 1) {
          const pixel = raw[((top + y) * width + left + x) * 3 + c]!;
          const expected = (pixel / 255 - imagenet.mean[c]!) / imagenet.std[c]!;
          worst = Math.max(worst, Math.abs(tensor[c * 400 + y * 20 + x]! - expected));
        }
      }
    }
    expect(worst).toBeLessThan(1e-3);
  });

  it('writes BGR, NHWC and uint8 layouts when a model asks for them', async () => {
    const raw = noiseRgb(8, 8, 3);
    const png = await rawToPng(raw, 8, 8);
    const spec: ImagePreprocess = {
      resize: 'squash',
      size: { width: 8, height: 8 },
      interpolation: 'nearest',
      rescale: 1 / 255,
      mean: [0, 0, 0],
      std: [1, 1, 1],
      channelOrder: 'bgr',
      layout: 'nhwc',
      dtype: 'uint8',
    };
    const { tensor, dims } = await prepareImage(png, spec, limits);
    expect(dims).toEqual([8, 8, 3]);
    expect(tensor).toBeInstanceOf(Uint8Array);
    for (let i = 0; i < 64; i += 1) {
      expect([tensor[i * 3], tensor[i * 3 + 1], tensor[i * 3 + 2]]).toEqual([
        raw[i * 3 + 2],
        raw[i * 3 + 1],
        raw[i * 3],
      ]);
    }
  });

  it('resizes the shorter side to the target and keeps the aspect ratio before cropping', () => {
    const spec = {
      resize: 'shorter-side-then-crop',
      shorterSide: 256,
      size: { width: 224, height: 224 },
    } as ImagePreprocess;
    expect(resizeTarget(1024, 768, spec)).toEqual({ width: 341, height: 256 });
    expect(resizeTarget(300, 600, spec)).toEqual({ width: 256, height: 512 });
    expect(resizeTarget(1024, 768, { ...spec, resize: 'squash' })).toEqual({ width: 224, height: 224 });
  });
});
