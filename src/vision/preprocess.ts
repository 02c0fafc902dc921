import sharp from 'sharp';
import type { ImagePreprocess } from '../models/manifest.js';
import { inTurn } from '../util/turns.js';
import { explainDecodeFailure, inspectImage, sharpInput, type ImageLimits, type InspectedImage } from './intake.js';
import type { RgbImage } from '../util/image.js';

export type { RgbImage };

/** One image ready for a model: its tensor without the batch axis, and the pixels it came from. */
export interface ModelInput {
  tensor: Float32Array | Uint8Array;
  rgb: RgbImage;
}

export interface PreparedImage {
  /** The model input for one image, without the batch axis. */
  tensor: Float32Array | Uint8Array;
  dims: readonly [number, number, number];
  /** Exactly the pixels the model sees, before normalisation (for the patch view and thumbnails). */
  rgb: RgbImage;
  source: InspectedImage;
  ms: number;
}

const kernels = { bilinear: 'linear', bicubic: 'cubic', nearest: 'nearest' } as const;

/** Where the resize lands before the centre crop: shorter side to `shorterSide`, aspect kept. */
export function resizeTarget(width: number, height: number, spec: ImagePreprocess): { width: number; height: number } {
  if (spec.resize === 'squash') return { ...spec.size };
  const shorter = spec.shorterSide ?? Math.min(spec.size.width, spec.size.height);
  const scale = shorter / Math.min(width, height);
  return {
    width: Math.max(spec.size.width, Math.round(width * scale)),
    height: Math.max(spec.size.height, Math.round(height * scale)),
  };
}

/** Interleaved 8-bit RGB to the model's layout, channel order and normalisation. */
export function normalise(
  rgb: RgbImage,
  spec: ImagePreprocess,
): { tensor: Float32Array | Uint8Array; dims: [number, number, number] } {
  const { width, height, data } = rgb;
  const plane = width * height;
  const nchw = spec.layout === 'nchw';
  const dims: [number, number, number] = nchw ? [3, height, width] : [height, width, 3];
  const uint8 = spec.dtype === 'uint8';
  const tensor = uint8 ? new Uint8Array(plane * 3) : new Float32Array(plane * 3);
  // Where each output channel comes from in the interleaved input, and its affine normalisation.
  const [c0, c1, c2] = spec.channelOrder === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  const [a0, a1, a2] = [c0, c1, c2].map((c) => (uint8 ? 1 : spec.rescale / spec.std[c]!)) as [number, number, number];
  const [b0, b1, b2] = [c0, c1, c2].map((c) => (uint8 ? 0 : spec.mean[c]! / spec.std[c]!)) as [number, number, number];
  // One pass over the pixels, all three channels at once: this runs on the event loop for every image.
  const step = nchw ? 1 : 3;
  const [o1, o2] = nchw ? [plane, 2 * plane] : [1, 2];
  for (let i = 0, out = 0; i < plane * 3; i += 3, out += step) {
    tensor[out] = data[i + c0]! * a0 - b0;
    tensor[out + o1] = data[i + c1]! * a1 - b1;
    tensor[out + o2] = data[i + c2]! * a2 - b2;
  }
  return { tensor, dims };
}

export interface DecodedImage {
  /** Oriented, sRGB, flattened onto white, and shrunk when far larger than any model needs. */
  rgb: RgbImage;
  source: InspectedImage;
  ms: number;
}

/** The shorter side an image must keep so that resizing it for `spec` never upsamples. */
export function neededShorterSide(spec: ImagePreprocess): number {
  return spec.resize === 'squash'
    ? Math.max(spec.size.width, spec.size.height)
    : (spec.shorterSide ?? Math.min(spec.size.width, spec.size.height));
}

/**
 * Decodes untrusted bytes once: orientation, colour space, alpha and, for large photos, a
 * shrink (JPEG and WebP shrink while decoding) to the smallest size every model can still be
 * prepared from without upsampling. Each model then resizes this small RGB buffer.
 */
export async function decodeImage(bytes: Buffer, limits: ImageLimits, shorterSide: number): Promise<DecodedImage> {
  const started = performance.now();
  const source = await inspectImage(bytes, limits);
  const scale = shorterSide / Math.min(source.width, source.height);
  // An sRGB profile converted to sRGB is an identity transform that would double the decode time.
  let pipeline = sharpInput(bytes, limits, { ignoreIcc: source.colourProfile === 'srgb' }).rotate();
  if (scale < 1)
    pipeline = pipeline.resize({
      width: Math.max(1, Math.round(source.width * scale)),
      height: Math.max(1, Math.round(source.height * scale)),
      fit: 'fill',
    });
  let raw: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    raw = await pipeline
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw explainDecodeFailure(error, limits);
  }
  if (raw.info.channels !== 3)
    throw explainDecodeFailure(new Error(`expected 3 channels, got ${raw.info.channels}`), limits);
  return {
    rgb: { data: raw.data, width: raw.info.width, height: raw.info.height },
    source,
    ms: performance.now() - started,
  };
}

/** Resizes and crops a decoded image for one model, then normalises it into the model's tensor layout. */
export async function prepareDecoded(decoded: DecodedImage, spec: ImagePreprocess): Promise<PreparedImage> {
  const started = performance.now();
  const { rgb } = decoded;
  const target = resizeTarget(rgb.width, rgb.height, spec);
  let pipeline = sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } });
  if (target.width !== rgb.width || target.height !== rgb.height) {
    pipeline = pipeline.resize({
      width: target.width,
      height: target.height,
      fit: 'fill',
      kernel: kernels[spec.interpolation],
    });
  }
  if (target.width !== spec.size.width || target.height !== spec.size.height) {
    pipeline = pipeline.extract({
      left: Math.round((target.width - spec.size.width) / 2),
      top: Math.round((target.height - spec.size.height) / 2),
      width: spec.size.width,
      height: spec.size.height,
    });
  }
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  const cropped = { data, width: info.width, height: info.height };
  const { tensor, dims } = await inTurn(() => normalise(cropped, spec));
  return { tensor, dims, rgb: cropped, source: decoded.source, ms: decoded.ms + (performance.now() - started) };
}

/** Decode, orient, resize, crop and normalise one image for one model. */
export async function prepareImage(bytes: Buffer, spec: ImagePreprocess, limits: ImageLimits): Promise<PreparedImage> {
  return prepareDecoded(await decodeImage(bytes, limits, neededShorterSide(spec)), spec);
}
