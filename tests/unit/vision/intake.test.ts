import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { ImagePreprocess } from '../../../src/models/manifest.js';
import { inspectImage, type ImageLimits } from '../../../src/vision/intake.js';
import { prepareImage } from '../../../src/vision/preprocess.js';
import { bombPng } from '../../fixtures/images.js';
import { solidPng } from '../../helpers.js';

const limits: ImageLimits = { maxBytes: 25 * 1024 * 1024, maxPixels: 50_000_000, decodeTimeoutMs: 10_000 };
const spec: ImagePreprocess = {
  resize: 'squash',
  size: { width: 16, height: 16 },
  interpolation: 'bilinear',
  rescale: 1 / 255,
  mean: [0, 0, 0],
  std: [1, 1, 1],
  channelOrder: 'rgb',
  layout: 'nchw',
  dtype: 'float32',
};
const red = (): Promise<Buffer> =>
  sharp({ create: { width: 24, height: 16, channels: 3, background: { r: 255, g: 0, b: 0 } } })
    .jpeg()
    .toBuffer();

/** Mean of each channel of a prepared NCHW tensor, back in 0..255. */
async function channelMeans(bytes: Buffer): Promise<number[]> {
  const { tensor } = await prepareImage(bytes, spec, limits);
  const plane = 16 * 16;
  return [0, 1, 2].map(
    (c) => (Array.from(tensor.slice(c * plane, (c + 1) * plane)).reduce((a, b) => a + b, 0) / plane) * 255,
  );
}

describe('image intake', () => {
  it('detects the format from the bytes, whatever the file is called', async () => {
    const png = await solidPng([1, 2, 3]);
    expect((await inspectImage(png, limits)).format).toBe('png');
    expect((await inspectImage(await red(), limits)).format).toBe('jpeg');
  });

  it('rejects bytes that are not an image with a message that names the accepted formats', async () => {
    await expect(inspectImage(Buffer.from('%PDF-1.4 not a picture'), limits)).rejects.toThrow(
      /not an image.*JPEG, PNG, WebP/,
    );
    await expect(inspectImage(Buffer.alloc(0), limits)).rejects.toThrow(/empty/);
  });

  it.each([
    [
      'a plain drawing',
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
    ],
    [
      'one with an external entity',
      '<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<svg xmlns="http://www.w3.org/2000/svg"><text>&xxe;</text></svg>',
    ],
    [
      'one with nested entities',
      '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>',
    ],
    [
      'one behind a byte-order mark, comments and a prefixed root',
      '\uFEFF <!-- exported --><?xml-stylesheet href="a.css"?>\n<svg:svg xmlns:svg="http://www.w3.org/2000/svg"/>',
    ],
  ])('says an SVG is an SVG, whatever it contains: %s', async (_case, svg) => {
    const message =
      "That file is an SVG: a drawing described as shapes and text, not pixels, so I can't classify it. Export it as a PNG or JPEG and send that.";
    await expect(inspectImage(Buffer.from(svg), limits)).rejects.toThrow(message);
    await expect(prepareImage(Buffer.from(svg), spec, limits)).rejects.toThrow(message);
  });

  it('does not take HTML with an inline drawing, or text that mentions <svg>, for an SVG', async () => {
    for (const text of ['<!DOCTYPE html><html><body><svg></svg></body></html>', 'draw me an <svg> please'])
      await expect(inspectImage(Buffer.from(text), limits)).rejects.toThrow(/not an image I can read/);
  });

  it('rejects a file over the byte limit, stating the limit', async () => {
    await expect(inspectImage(Buffer.alloc(2048, 1), { ...limits, maxBytes: 1024 })).rejects.toThrow(
      'The image is 2 KiB; the limit is 1 KiB.',
    );
  });

  it('rejects a decompression-bomb PNG by its declared pixel count without decoding it', async () => {
    const bomb = bombPng(20_000);
    expect(bomb.length).toBeLessThan(200_000);
    await expect(inspectImage(bomb, limits)).rejects.toThrow(/more pixels than the 50 MP limit/);
    await expect(prepareImage(bomb, spec, limits)).rejects.toThrow(/50 MP limit/);
  });

  it('rejects a strip longer than 65,535 px on a side without decoding it, though under the pixel limit', async () => {
    const strip = bombPng(1, 10_000_000);
    expect(strip.length).toBeLessThan(100_000);
    await expect(inspectImage(strip, limits)).rejects.toThrow(
      'The image is 1×10000000 px; I take at most 65,535 px on a side',
    );
    await expect(prepareImage(strip, spec, limits)).rejects.toThrow(/at most 65,535 px on a side/);
    const longest = await prepareImage(bombPng(8, 65_535), spec, limits);
    expect(longest.source).toMatchObject({ width: 8, height: 65_535 });
  });

  it('rejects a truncated JPEG as corrupt', async () => {
    const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#336699' } })
      .jpeg()
      .toBuffer();
    await expect(prepareImage(jpeg.subarray(0, jpeg.length - 200), spec, limits)).rejects.toThrow(
      /corrupt or truncated/,
    );
  });

  it('applies EXIF orientation before anything else', async () => {
    const rotated = await sharp({ create: { width: 20, height: 10, channels: 3, background: '#ffffff' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const info = await inspectImage(rotated, limits);
    expect([info.width, info.height]).toEqual([10, 20]);
  });

  it('reads a 1×1 image, a greyscale image and a 16-bit PNG as 8-bit sRGB', async () => {
    const one = await sharp({ create: { width: 1, height: 1, channels: 3, background: { r: 0, g: 0, b: 255 } } })
      .png()
      .toBuffer();
    expect((await channelMeans(one)).map(Math.round)).toEqual([0, 0, 255]);
    const grey = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 128, g: 128, b: 128 } } })
      .toColourspace('b-w')
      .png()
      .toBuffer();
    expect((await inspectImage(grey, limits)).space).toBe('b-w');
    expect((await channelMeans(grey)).map(Math.round)).toEqual([128, 128, 128]);
    const deep = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 255, g: 128, b: 0 } } })
      .toColourspace('rgb16')
      .png()
      .toBuffer();
    expect((await inspectImage(deep, limits)).bitsPerSample).toBe(16);
    const means = await channelMeans(deep);
    expect(means[0]).toBeCloseTo(255, 0);
    expect(Math.abs(means[1]! - 128)).toBeLessThan(2);
    expect(means[2]).toBeCloseTo(0, 0);
  });

  it('flattens transparency onto white', async () => {
    const clear = await solidPng([0, 0, 0], 8, 8, 0);
    expect((await channelMeans(clear)).map(Math.round)).toEqual([255, 255, 255]);
  });

  it('converts a CMYK JPEG to sRGB', async () => {
    const cmyk = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 255, g: 0, b: 0 } } })
      .toColourspace('cmyk')
      .jpeg()
      .toBuffer();
    expect((await inspectImage(cmyk, limits)).space).toBe('cmyk');
    const [r, g, b] = await channelMeans(cmyk);
    expect(r).toBeGreaterThan(200);
    expect(g).toBeLessThan(80);
    expect(b).toBeLessThan(80);
  });

  it('applies a Display P3 profile, and recognises an sRGB profile whose conversion would be an identity', async () => {
    const orange = { r: 230, g: 120, b: 40 };
    const tagged = (profile: string): Promise<Buffer> =>
      sharp({ create: { width: 16, height: 16, channels: 3, background: orange } })
        .withIccProfile(profile)
        .png()
        .toBuffer();
    const p3 = await tagged('p3');
    const srgb = await tagged('srgb');
    expect((await inspectImage(p3, limits)).colourProfile).toBe('other');
    expect((await inspectImage(srgb, limits)).colourProfile).toBe('srgb');
    expect((await inspectImage(await red(), limits)).colourProfile).toBe('none');
    // The P3 file stores different numbers for the same colour; decoding must bring them back.
    const stored = await sharp(p3, { ignoreIcc: true }).raw().toBuffer();
    expect(Math.abs(stored[0]! - orange.r) + Math.abs(stored[2]! - orange.b)).toBeGreaterThan(10);
    for (const bytes of [p3, srgb]) {
      const [r, g, b] = await channelMeans(bytes);
      expect(Math.abs(r! - orange.r)).toBeLessThan(3);
      expect(Math.abs(g! - orange.g)).toBeLessThan(3);
      expect(Math.abs(b! - orange.b)).toBeLessThan(3);
    }
  });

  it('takes the first frame of an animated GIF', async () => {
    const frame = (rgb: string): Promise<Buffer> =>
      sharp({ create: { width: 8, height: 8, channels: 3, background: rgb } })
        .png()
        .toBuffer();
    const gif = await sharp([await frame('#00ff00'), await frame('#ff0000')], { join: { animated: true } })
      .gif()
      .toBuffer();
    expect((await inspectImage(gif, limits)).frames).toBe(2);
    const [r, g] = await channelMeans(gif);
    expect(g).toBeGreaterThan(200);
    expect(r).toBeLessThan(50);
  });
});
