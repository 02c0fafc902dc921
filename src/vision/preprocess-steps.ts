import sharp, { type Sharp } from 'sharp';
import type { ImagePreprocess } from '../models/manifest.js';
import type { RgbImage } from '../util/image.js';
import { inTurn } from '../util/turns.js';
import { explainDecodeFailure, inspectImage, sharpInput, type ImageLimits } from './intake.js';
import { decodeImage, neededShorterSide, prepareDecoded, resizeTarget } from './preprocess.js';

/**
 * What /classify does to an image before a model sees it, one step at a time, with the numbers
 * after each step: decode, EXIF rotation, colour conversion, resize, centre crop, scale to [0, 1]
 * and normalise. The crop, scale and normalise steps are /classify's own code (prepareDecoded),
 * so the tensor at the end is exactly the one the model would get; the earlier steps are redone
 * one at a time only to show them.
 */

export const IMAGE_STEP_NAMES = [
  'decode',
  'EXIF rotation',
  'colour conversion',
  'resize',
  'centre crop',
  'scale to [0,1]',
  'normalise',
] as const;
export type ImageStepName = (typeof IMAGE_STEP_NAMES)[number];

export interface TensorStats {
  min: number;
  max: number;
  mean: number;
  std: number;
}

export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface ImageStep {
  name: ImageStepName;
  width: number;
  height: number;
  /** The array's shape: [height, width, channels] for pixels, the model's layout with the batch axis at the end. */
  shape: number[];
  /** Over every value of every channel. */
  stats: TensorStats;
  /** What happened in this step, in words. */
  detail: string;
  /** A small picture of the step (for normalised values: stretched from their min to their max). */
  thumbnail: RgbImage;
  /** On the resize step: the part the centre crop keeps, in this step's pixels. */
  crop?: Rect;
}

export interface ImageSteps {
  steps: ImageStep[];
  /** The model's input tensor (without the batch axis), exactly as /classify would prepare it. */
  tensor: Float32Array | Uint8Array;
}

const THUMBNAIL = 160;

/** Statistics of 8-bit pixels, computed by libvips on its own threads. */
async function pixelStats(raw: {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
}): Promise<TensorStats> {
  const { channels } = await sharp(raw.data, {
    raw: { width: raw.width, height: raw.height, channels: raw.channels as 1 | 2 | 3 | 4 },
  }).stats();
  const count = raw.width * raw.height * channels.length;
  const sum = channels.reduce((total, channel) => total + channel.sum, 0);
  const squares = channels.reduce((total, channel) => total + channel.squaresSum, 0);
  const mean = sum / count;
  return {
    min: Math.min(...channels.map((channel) => channel.min)),
    max: Math.max(...channels.map((channel) => channel.max)),
    mean,
    std: Math.sqrt(Math.max(0, squares / count - mean * mean)),
  };
}

/** Statistics of a tensor's values (a 224 × 224 × 3 tensor is 150,528 numbers: quick, and on the event loop). */
export function tensorStats(values: ArrayLike<number>): TensorStats {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i]!;
    if (value < min) min = value;
    if (value > max) max = value;
    sum += value;
  }
  const mean = sum / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i += 1) squares += (values[i]! - mean) ** 2;
  return { min, max, mean, std: Math.sqrt(squares / values.length) };
}

/** A thumbnail of 8-bit pixels from a sharp pipeline (flattened onto white and converted to sRGB to be shown). */
async function thumbnailOf(pipeline: Sharp): Promise<RgbImage> {
  const { data, info } = await pipeline
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .removeAlpha()
    .resize({ width: THUMBNAIL, height: THUMBNAIL, fit: 'inside' })
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

const rgbPipeline = (rgb: RgbImage): Sharp =>
  sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } });

/** The tensor's values stretched from their min (black) to their max (white), in the image's own layout. */
function stretched(tensor: Float32Array | Uint8Array, spec: ImagePreprocess, stats: TensorStats): RgbImage {
  const { width, height } = spec.size;
  const plane = width * height;
  const data = Buffer.alloc(plane * 3);
  const range = stats.max - stats.min || 1;
  for (let pixel = 0; pixel < plane; pixel += 1) {
    for (let channel = 0; channel < 3; channel += 1) {
      // Back to RGB order for the eye, whatever order the model reads.
      const from = spec.channelOrder === 'bgr' ? 2 - channel : channel;
      const value = spec.layout === 'nchw' ? tensor[from * plane + pixel]! : tensor[pixel * 3 + from]!;
      data[pixel * 3 + channel] = Math.round(((value - stats.min) / range) * 255);
    }
  }
  return { data, width, height };
}

const size = (width: number, height: number): string => `${width}×${height}`;

/** The steps /classify applies to one image for one model, with each step's numbers and a thumbnail. */
export async function imageSteps(bytes: Buffer, spec: ImagePreprocess, limits: ImageLimits): Promise<ImageSteps> {
  const source = await inspectImage(bytes, limits);
  const ignoreIcc = source.colourProfile === 'srgb';
  const input = (): Sharp => sharpInput(bytes, limits, { ignoreIcc });
  const rawOf = async (pipeline: Sharp) => {
    try {
      const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      return { data, width: info.width, height: info.height, channels: info.channels };
    } catch (error) {
      throw explainDecodeFailure(error, limits);
    }
  };
  const steps: ImageStep[] = [];

  // 1. The pixels as the file stores them: its own orientation and channels (grey, alpha, CMYK…).
  const stored = await rawOf(input());
  steps.push({
    name: 'decode',
    width: stored.width,
    height: stored.height,
    shape: [stored.height, stored.width, stored.channels],
    stats: await pixelStats(stored),
    detail: `${source.format.toUpperCase()} → ${stored.channels} channel${stored.channels === 1 ? '' : 's'} of 0–255 (${source.space}${source.hasAlpha ? ', with transparency' : ''})`,
    thumbnail: await thumbnailOf(input()),
  });

  // 2. EXIF rotation: the file's orientation tag applied, as a person sees the photo.
  const rotated = await rawOf(input().rotate());
  const turned = rotated.width !== stored.width;
  steps.push({
    name: 'EXIF rotation',
    width: rotated.width,
    height: rotated.height,
    shape: [rotated.height, rotated.width, rotated.channels],
    stats: await pixelStats(rotated),
    detail: turned
      ? 'turned upright as the EXIF orientation tag says'
      : 'no rotation needed (no EXIF orientation, or upright)',
    thumbnail: await thumbnailOf(input().rotate()),
  });

  // 3. sRGB, transparency flattened onto white, three channels: /classify's own decode, which also
  // shrinks a large photo to the smallest size this model can still be prepared from.
  const side = Math.max(224, neededShorterSide(spec));
  const decoded = await decodeImage(bytes, limits, side);
  const shrunk = decoded.rgb.width !== rotated.width;
  steps.push({
    name: 'colour conversion',
    width: decoded.rgb.width,
    height: decoded.rgb.height,
    shape: [decoded.rgb.height, decoded.rgb.width, 3],
    stats: await pixelStats({ ...decoded.rgb, channels: 3 }),
    detail:
      `sRGB, transparency flattened onto white, 3 channels` +
      (shrunk ? `; shrunk while decoding to a shorter side of ${side} px, as /classify does for large photos` : ''),
    thumbnail: await thumbnailOf(rgbPipeline(decoded.rgb)),
  });

  // 4. Resize as the manifest says; the crop that follows is outlined on it.
  const target = resizeTarget(decoded.rgb.width, decoded.rgb.height, spec);
  const resized = await rawOf(
    rgbPipeline(decoded.rgb).resize({
      width: target.width,
      height: target.height,
      fit: 'fill',
      kernel: ({ bilinear: 'linear', bicubic: 'cubic', nearest: 'nearest' } as const)[spec.interpolation],
    }),
  );
  const crop: Rect = {
    left: Math.round((target.width - spec.size.width) / 2),
    top: Math.round((target.height - spec.size.height) / 2),
    width: spec.size.width,
    height: spec.size.height,
  };
  steps.push({
    name: 'resize',
    width: resized.width,
    height: resized.height,
    shape: [resized.height, resized.width, 3],
    stats: await pixelStats(resized),
    detail:
      (spec.resize === 'squash'
        ? `squashed to ${size(spec.size.width, spec.size.height)} whatever the aspect ratio (${spec.interpolation})`
        : `shorter side to ${spec.shorterSide ?? Math.min(spec.size.width, spec.size.height)} px, aspect kept (${spec.interpolation})`) +
      (target.width === decoded.rgb.width && target.height === decoded.rgb.height
        ? '; already this size after the decode-time shrink'
        : ''),
    thumbnail: await thumbnailOf(rgbPipeline({ data: resized.data, width: resized.width, height: resized.height })),
    ...(crop.width < resized.width || crop.height < resized.height ? { crop } : {}),
  });

  // 5–7. /classify's own crop and normalisation.
  const prepared = await prepareDecoded(decoded, spec);
  const kept = (crop.width * crop.height) / (resized.width * resized.height);
  steps.push({
    name: 'centre crop',
    width: prepared.rgb.width,
    height: prepared.rgb.height,
    shape: [prepared.rgb.height, prepared.rgb.width, 3],
    stats: await pixelStats({ ...prepared.rgb, channels: 3 }),
    detail:
      kept < 1
        ? `the central ${size(crop.width, crop.height)}: ${Math.round((1 - kept) * 100)}% of the resized pixels are cut away`
        : 'nothing to crop: the resize already gave the input size',
    thumbnail: await thumbnailOf(rgbPipeline(prepared.rgb)),
  });
  const { width: inputWidth, height: inputHeight } = spec.size;
  const modelShape = [1, ...(spec.layout === 'nchw' ? [3, inputHeight, inputWidth] : [inputHeight, inputWidth, 3])];
  if (spec.dtype === 'uint8') {
    const stats = tensorStats(prepared.tensor);
    for (const name of ['scale to [0,1]', 'normalise'] as const) {
      steps.push({
        name,
        width: prepared.rgb.width,
        height: prepared.rgb.height,
        shape: modelShape,
        stats,
        detail: 'skipped: this model takes the 0–255 bytes as they are',
        thumbnail: steps.at(-1)!.thumbnail,
      });
    }
    return { steps, tensor: prepared.tensor };
  }
  const scaledStats = await inTurn(() =>
    tensorStats(Float32Array.from(prepared.rgb.data, (value) => value * spec.rescale)),
  );
  steps.push({
    name: 'scale to [0,1]',
    width: prepared.rgb.width,
    height: prepared.rgb.height,
    shape: [prepared.rgb.height, prepared.rgb.width, 3],
    stats: scaledStats,
    detail: `each value × ${spec.rescale === 1 / 255 ? '1/255' : spec.rescale}`,
    thumbnail: steps.at(-1)!.thumbnail,
  });
  const stats = await inTurn(() => tensorStats(prepared.tensor));
  const fmt = (values: readonly number[]): string => values.map((value) => Number(value.toFixed(3))).join(', ');
  steps.push({
    name: 'normalise',
    width: prepared.rgb.width,
    height: prepared.rgb.height,
    shape: modelShape,
    stats,
    detail: `(value − mean) / std per channel, mean ${fmt(spec.mean)}, std ${fmt(spec.std)}; ${spec.layout === 'nchw' ? 'channels first' : 'channels last'}${spec.channelOrder === 'bgr' ? ', BGR order' : ''}, a batch of one`,
    thumbnail: await thumbnailOf(rgbPipeline(stretched(prepared.tensor, spec, stats))),
  });
  return { steps, tensor: prepared.tensor };
}
