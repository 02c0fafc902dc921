import sharp, { type Region, type Sharp } from 'sharp';
import { UserFacingError } from '../util/errors.js';
import type { RgbImage } from '../util/image.js';
import { seededRandom } from '../util/random.js';

/** One perturbed copy of the decoded image, as the stress test feeds it to every model. */
export interface StressVariant {
  name: string;
  /** How strong the perturbation is, in the unit its name gives (σ as a share of 255, degrees, quality…); 0 for the original. */
  strength: number;
  rgb: RgbImage;
}

/**
 * The longest side of the decoded image (at the size the models read) the stress test takes.
 * The decode keeps the shorter side near 224 px, but the longer one follows the aspect ratio, and
 * each variant is a full-size copy made on the event loop (noise) or by libvips, whose 15° turn
 * allocates the whole turned bounding box (about a quarter of the longer side squared): a
 * 224×200,000 strip asked for a 28.7 GB buffer. 4,096 px is an 18:1 panorama at 224 px.
 */
export const MAX_STRESS_SIDE = 4096;

/** Noise strengths: the standard deviation of the added noise as a share of the 0–255 range. */
export const NOISE_STRENGTHS = [0.05, 0.1, 0.2] as const;

/** Adds seeded Gaussian noise (Box–Muller) of standard deviation `sigma` × 255 to every channel, clamped. */
export function addGaussianNoise(image: RgbImage, sigma: number, seed: number): RgbImage {
  const random = seededRandom(seed);
  const data = Buffer.alloc(image.data.length);
  const scale = sigma * 255;
  for (let i = 0; i < data.length; i += 2) {
    const u = 1 - random();
    const v = random();
    const radius = Math.sqrt(-2 * Math.log(u));
    data[i] = Math.max(0, Math.min(255, Math.round(image.data[i]! + scale * radius * Math.cos(2 * Math.PI * v))));
    if (i + 1 < data.length)
      data[i + 1] = Math.max(
        0,
        Math.min(255, Math.round(image.data[i + 1]! + scale * radius * Math.sin(2 * Math.PI * v))),
      );
  }
  return { data, width: image.width, height: image.height };
}

const raw = (image: RgbImage): Sharp =>
  sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });

async function rgbOf(pipeline: Sharp): Promise<RgbImage> {
  const { data, info } = await pipeline.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels === 1) {
    // Grey: the same value in all three channels, as a colour model reads it.
    const rgb = Buffer.alloc(data.length * 3);
    for (let i = 0; i < data.length; i += 1) rgb.fill(data[i]!, i * 3, i * 3 + 3);
    return { data: rgb, width: info.width, height: info.height };
  }
  return { data, width: info.width, height: info.height };
}

/** The centre `share` of each side. */
const centre = (image: RgbImage, share: number): Region => {
  const width = Math.max(1, Math.round(image.width * share));
  const height = Math.max(1, Math.round(image.height * share));
  return {
    left: Math.floor((image.width - width) / 2),
    top: Math.floor((image.height - height) / 2),
    width,
    height,
  };
};

/**
 * The stress test's variants of one decoded image: the original, Gaussian noise at three
 * strengths (seeded), a blur, JPEG at quality 10, rotations by 15° (cropped back to the frame,
 * white corners) and 90°, grayscale, a grey square over the centre quarter of the area, and a
 * tight crop of the centre quarter. ImageNet-C (Hendrycks and Dietterich 2019) uses the same
 * kinds of corruption.
 */
export async function stressVariants(image: RgbImage, seed: number): Promise<StressVariant[]> {
  if (Math.max(image.width, image.height) > MAX_STRESS_SIDE)
    throw new UserFacingError(
      `At the size the models read, this image is ${image.width}×${image.height} px: too long and thin for the stress test, which makes ten full-size damaged copies of it (the longer side may be at most ${MAX_STRESS_SIDE} px). Crop it closer to the subject and send it again.`,
      { code: 'image_too_large' },
    );
  const blurSigma = Math.max(1, Math.round((Math.min(image.width, image.height) / 64) * 10) / 10);
  const rotated15 = await rgbOf(raw(image).rotate(15, { background: '#ffffff' }));
  // The turned image's bounding box is shorter than the frame along the long side of an image
  // more elongated than about 7.6:1 (a panorama): there, the frame is filled out with white.
  const turned = {
    left: Math.floor((rotated15.width - image.width) / 2),
    top: Math.floor((rotated15.height - image.height) / 2),
  };
  const kept = {
    left: Math.max(0, turned.left),
    top: Math.max(0, turned.top),
    width: Math.min(image.width, rotated15.width),
    height: Math.min(image.height, rotated15.height),
  };
  const margin = { left: Math.max(0, -turned.left), top: Math.max(0, -turned.top) };
  const occluded = centre(image, 0.5);
  const grey = {
    input: { create: { width: occluded.width, height: occluded.height, channels: 3 as const, background: '#808080' } },
    left: occluded.left,
    top: occluded.top,
  };
  const [blur, jpeg, rotate15, rotate90, grayscale, occlusion, crop] = await Promise.all([
    rgbOf(raw(image).blur(blurSigma)),
    raw(image)
      .jpeg({ quality: 10 })
      .toBuffer()
      .then((bytes) => rgbOf(sharp(bytes))),
    rgbOf(
      raw(rotated15)
        .extract(kept)
        .extend({
          ...margin,
          right: image.width - kept.width - margin.left,
          bottom: image.height - kept.height - margin.top,
          background: '#ffffff',
        }),
    ),
    rgbOf(raw(image).rotate(90)),
    rgbOf(raw(image).grayscale()),
    rgbOf(raw(image).composite([grey])),
    rgbOf(raw(image).extract(centre(image, 0.5))),
  ]);
  return [
    { name: 'original', strength: 0, rgb: image },
    ...NOISE_STRENGTHS.map((sigma, index) => ({
      name: `noise σ ${sigma}`,
      strength: sigma,
      rgb: addGaussianNoise(image, sigma, seed + index),
    })),
    { name: 'blur', strength: blurSigma, rgb: blur },
    { name: 'jpeg quality 10', strength: 10, rgb: jpeg },
    { name: 'rotate 15°', strength: 15, rgb: rotate15 },
    { name: 'rotate 90°', strength: 90, rgb: rotate90 },
    { name: 'grayscale', strength: 1, rgb: grayscale },
    { name: 'occlude centre 25%', strength: 0.25, rgb: occlusion },
    { name: 'crop centre 25%', strength: 0.25, rgb: crop },
  ];
}
