import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { getModel, loadManifest } from '../../../src/models/manifest.js';
import { isUserFacing } from '../../../src/util/errors.js';
import { imageSteps, tensorStats } from '../../../src/vision/preprocess-steps.js';
import { prepareImage } from '../../../src/vision/preprocess.js';
import { noiseRgb, rawToPng } from '../../fixtures/images.js';
import { rejectionOf, ROOT, solidPng } from '../../helpers.js';
import { UserFacingError } from '../../../src/util/errors.js';

const limits = { maxBytes: 1 << 24, maxPixels: 1e7, decodeTimeoutMs: 5000 };
// The real manifest's entries: what /classify does for each model.
const manifest = loadManifest(join(ROOT, 'models/manifest.json'));
const mobilenet = getModel(manifest, 'mobilenetv2-int8').preprocess!;
const vit = getModel(manifest, 'vit-base-patch16-224').preprocess!;

/** Mean and standard deviation over the values of all three channels, each channel one constant. */
function constantChannels(values: readonly number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { mean, std: Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length) };
}

describe('the image preprocessing steps', () => {
  it('gives every step its size, shape and statistics on an image with known values', async () => {
    const rgb = [51, 102, 153] as const;
    const { steps } = await imageSteps(await solidPng([...rgb], 300, 200), mobilenet, limits);
    expect(steps.map((step) => step.name)).toEqual([
      'decode',
      'EXIF rotation',
      'colour conversion',
      'resize',
      'centre crop',
      'scale to [0,1]',
      'normalise',
    ]);
    const byName = Object.fromEntries(steps.map((step) => [step.name, step]));
    const pixels = constantChannels(rgb);
    for (const name of ['decode', 'EXIF rotation', 'colour conversion'])
      expect(byName[name]).toMatchObject({ width: 300, height: 200, shape: [200, 300, 3] });
    // Shorter side 200 → 256: 384 × 256, then the central 224 × 224, 80 px in from the left and 16 from the top.
    expect(byName['resize']).toMatchObject({
      width: 384,
      height: 256,
      crop: { left: 80, top: 16, width: 224, height: 224 },
    });
    expect(byName['centre crop']).toMatchObject({ width: 224, height: 224, shape: [224, 224, 3] });
    for (const name of ['decode', 'EXIF rotation', 'colour conversion', 'resize', 'centre crop']) {
      const { stats } = byName[name]!;
      expect(stats.min, name).toBe(51);
      expect(stats.max, name).toBe(153);
      expect(stats.mean, name).toBeCloseTo(pixels.mean, 6);
      expect(stats.std, name).toBeCloseTo(pixels.std, 6);
    }
    const scaled = constantChannels(rgb.map((value) => value / 255));
    expect(byName['scale to [0,1]']!.stats).toMatchObject({ min: expect.closeTo(0.2, 6), max: expect.closeTo(0.6, 6) });
    expect(byName['scale to [0,1]']!.stats.mean).toBeCloseTo(scaled.mean, 6);
    expect(byName['scale to [0,1]']!.stats.std).toBeCloseTo(scaled.std, 6);
    // (value / 255 − mean) / std per channel: R −1.2445, G −0.25, B 0.8622.
    const normalised = rgb.map((value, c) => (value / 255 - mobilenet.mean[c]!) / mobilenet.std[c]!);
    const expected = constantChannels(normalised);
    const { stats, shape } = byName['normalise']!;
    expect(shape).toEqual([1, 3, 224, 224]);
    expect(stats.min).toBeCloseTo(Math.min(...normalised), 5);
    expect(stats.max).toBeCloseTo(Math.max(...normalised), 5);
    expect(stats.mean).toBeCloseTo(expected.mean, 5);
    expect(stats.std).toBeCloseTo(expected.std, 5);
  });

  it('ends with exactly the tensor /classify prepares, for a squash and for a crop', async () => {
    const png = await rawToPng(noiseRgb(640, 480), 640, 480);
    for (const spec of [mobilenet, vit]) {
      const { tensor, steps } = await imageSteps(png, spec, limits);
      expect(tensor).toEqual((await prepareImage(png, spec, limits)).tensor);
      expect(steps.at(-1)!.stats).toEqual(tensorStats(tensor));
    }
    // The ViT squashes: no crop, so nothing is outlined.
    const { steps } = await imageSteps(png, vit, limits);
    expect(steps.find((step) => step.name === 'resize')).toMatchObject({ width: 224, height: 224 });
    expect(steps.find((step) => step.name === 'resize')!.crop).toBeUndefined();
  });

  it('turns a photo upright in the EXIF step', async () => {
    const jpeg = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#808080' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const { steps } = await imageSteps(jpeg, mobilenet, limits);
    expect(steps[0]).toMatchObject({ width: 40, height: 20 });
    expect(steps[1]).toMatchObject({ width: 20, height: 40, detail: expect.stringContaining('turned upright') });
  });

  it('shows the alpha channel at decode, and flattens it in the colour step', async () => {
    const { steps } = await imageSteps(await solidPng([0, 0, 0], 32, 32, 0), mobilenet, limits);
    expect(steps[0]!.shape).toEqual([32, 32, 4]);
    expect(steps[2]!.shape).toEqual([32, 32, 3]);
    // Fully transparent black flattened onto white.
    expect(steps[2]!.stats).toMatchObject({ min: 255, max: 255 });
  });

  it('refuses what /classify refuses, with the same messages', async () => {
    const notImage = await rejectionOf(imageSteps(Buffer.from('hello'), mobilenet, limits), UserFacingError);
    expect(notImage.code).toBe('not_an_image');
    const empty = await rejectionOf(imageSteps(Buffer.alloc(0), mobilenet, limits), UserFacingError);
    expect(empty.message).toBe('The file is empty.');
    const tooLarge = await rejectionOf(
      imageSteps(await solidPng([1, 2, 3], 64, 64), mobilenet, { ...limits, maxPixels: 100 }),
      UserFacingError,
    );
    expect(isUserFacing(tooLarge) && tooLarge.code).toBe('image_too_large');
  });
});
