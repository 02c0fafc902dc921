import type { ImagePreprocess } from '../models/manifest.js';
import { explainDecodeFailure, inspectImage, sharpInput, type ImageLimits, type InspectedImage } from './intake.js';

export interface RgbImage {
  /** Interleaved RGB, 8 bits per channel. */
  data: Buffer;
  width: number;
  height: number;
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
export function normalise(rgb: RgbImage, spec: ImagePreprocess): { tensor: Float32Array | Uint8Array; dims: [number, number, number] } {
  const { width, height, data } = rgb;
  const plane = width * height;
  const order = spec.channelOrder === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  const nchw = spec.layout === 'nchw';
  const dims: [number, number, number] = nchw ? [3, height, width] : [height, width, 3];
  const tensor = spec.dtype === 'uint8' ? new Uint8Array(plane * 3) : new Float32Array(plane * 3);
  const scale = spec.dtype === 'uint8' ? [1, 1, 1] : order.map((c) => spec.rescale / spec.std[c]!);
  const shift = spec.dtype === 'uint8' ? [0, 0, 0] : order.map((c) => spec.mean[c]! / spec.std[c]!);
  for (let out = 0; out < 3; out += 1) {
    const source = order[out]!;
    const a = scale[out]!;
    const b = shift[out]!;
    for (let i = 0; i < plane; i += 1) {
      const value = data[i * 3 + source]! * a - b;
      tensor[nchw ? out * plane + i : i * 3 + out] = value;
    }
  }
  return { tensor, dims };
}

/**
 * Decode, orient, resize and crop in one sharp pipeline (libvips shrinks JPEG and WebP on
 * load when it can), then normalise into the model's tensor layout.
 */
export async function prepareImage(bytes: Buffer, spec: ImagePreprocess, limits: ImageLimits): Promise<PreparedImage> {
  const started = performance.now();
  const source = await inspectImage(bytes, limits);
  const target = resizeTarget(source.width, source.height, spec);
  let pipeline = sharpInput(bytes, limits)
    .rotate()
    .resize({ width: target.width, height: target.height, fit: 'fill', kernel: kernels[spec.interpolation] });
  if (target.width !== spec.size.width || target.height !== spec.size.height) {
    pipeline = pipeline.extract({
      left: Math.round((target.width - spec.size.width) / 2),
      top: Math.round((target.height - spec.size.height) / 2),
      width: spec.size.width,
      height: spec.size.height,
    });
  }
  let raw: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    raw = await pipeline.flatten({ background: '#ffffff' }).toColourspace('srgb').removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw explainDecodeFailure(error, limits);
  }
  if (raw.info.channels !== 3) throw explainDecodeFailure(new Error(`expected 3 channels, got ${raw.info.channels}`), limits);
  const rgb = { data: raw.data, width: raw.info.width, height: raw.info.height };
  const { tensor, dims } = normalise(rgb, spec);
  return { tensor, dims, rgb, source, ms: performance.now() - started };
}
