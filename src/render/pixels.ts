import { createCanvas, ImageData, type Canvas } from '@napi-rs/canvas';
import sharp, { type Sharp } from 'sharp';
import type { RgbImage } from '../util/image.js';
import { LruCache } from '../util/lru.js';

/**
 * Pixels into and out of Skia. Skia takes RGBA and the models' images are RGB; sharp, not Skia,
 * encodes the finished cards, because its PNG and JPEG encoders are much quicker than Skia's.
 */

// The byte order of a 32-bit word in memory, so that one RGBA pixel can be written as one word.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const [RED, GREEN, BLUE, ALPHA] = LITTLE_ENDIAN ? [0, 8, 16, 24] : [24, 16, 8, 0];
const OPAQUE = (255 << ALPHA) >>> 0;

/**
 * An image's pixels as RGBA for putImageData. Not drawing, only a change of layout (Skia has no
 * RGB input): copying here is quicker than a round trip through sharp's thread pool, and a word
 * a pixel is quicker than a byte at a time.
 */
export function imageDataOf(image: RgbImage): ImageData {
  const words = new Uint32Array(image.width * image.height);
  const rgb = image.data;
  for (let pixel = 0, from = 0; pixel < words.length; pixel += 1, from += 3) {
    words[pixel] = OPAQUE | (rgb[from]! << RED) | (rgb[from + 1]! << GREEN) | (rgb[from + 2]! << BLUE);
  }
  return new ImageData(new Uint8ClampedArray(words.buffer), image.width, image.height);
}

/** An image resized by sharp (Lanczos, on its own threads) to `width` × `height`, as RGBA. */
export async function resizedImageData(image: RgbImage, size: { width: number; height: number }): Promise<ImageData> {
  const rgba = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(size.width, size.height, { kernel: 'lanczos3', fit: 'fill' })
    .ensureAlpha()
    .raw()
    .toBuffer();
  return new ImageData(new Uint8ClampedArray(rgba.buffer, rgba.byteOffset, rgba.length), size.width, size.height);
}

/** A canvas holding an image's pixels, to draw it scaled or clipped (putImageData does neither). */
export function canvasOf(image: ImageData): Canvas {
  const canvas = createCanvas(image.width, image.height);
  canvas.getContext('2d').putImageData(image, 0, 0);
  return canvas;
}

// Cards come in a few sizes; a new surface costs more than drawing a card on a used one.
const surfaces = new LruCache<string, Canvas>(4);

/**
 * A transparent canvas of this size, with its context's state reset. Surfaces are reused from
 * card to card, so draw on it and read its pixels in one synchronous turn: the next card of the
 * same size takes it over.
 */
export function blankCanvas(width: number, height: number): Canvas {
  const key = `${width}×${height}`;
  const used = surfaces.get(key);
  if (used) {
    used.getContext('2d').reset();
    return used;
  }
  const canvas = createCanvas(width, height);
  surfaces.set(key, canvas);
  return canvas;
}

/** A canvas's pixels. Skia rasterises what was drawn when they are read: read them in the drawing's turn. */
export interface Pixels {
  /** RGBA, not premultiplied (sharp's path for premultiplied input is slower). */
  data: Buffer;
  width: number;
  height: number;
}

export function pixelsOf(canvas: Canvas): Pixels {
  const { data, width, height } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  return { data: Buffer.from(data.buffer, data.byteOffset, data.byteLength), width, height };
}

/** The pixels of a canvas drawn opaque all over, where Skia's premultiplied store is already straight RGBA: read without converting. */
export const opaquePixelsOf = (canvas: Canvas): Pixels => ({
  data: canvas.data(),
  width: canvas.width,
  height: canvas.height,
});

const raw = (pixels: Pixels): Sharp =>
  sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: 4 } });

/**
 * PNG with its alpha channel (the cards' rounded corners are transparent). zlib level 1 by
 * default: the cards are flat colour, which level 1 already compresses well, so higher levels
 * only cost encoding time on every reply.
 */
export const encodePng = (pixels: Pixels, compressionLevel = 1): Promise<Buffer> =>
  raw(pixels).png({ compressionLevel }).toBuffer();

/**
 * JPEG of opaque pixels, for photographs: a fraction of a PNG's bytes, and quicker to encode.
 * Full-resolution chroma (4:4:4) keeps one-pixel coloured lines from bleeding.
 */
export const encodeJpeg = (pixels: Pixels, quality = 90): Promise<Buffer> =>
  raw(pixels).removeAlpha().jpeg({ quality, chromaSubsampling: '4:4:4' }).toBuffer();
