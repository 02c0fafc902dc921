import sharp, { type Metadata, type Sharp } from 'sharp';
import { UserFacingError } from '../util/errors.js';
import { formatBytes } from '../util/units.js';
import { isSrgbProfile } from './icc.js';

export interface ImageLimits {
  maxBytes: number;
  maxPixels: number;
  decodeTimeoutMs: number;
}

// Every image is a new upload: libvips' operation cache would only hold memory.
sharp.cache(false);
// SVG is never classified (see looksLikeSvg), so untrusted XML never reaches librsvg, whose
// parser resolves entities; nothing in sightread draws with sharp from SVG.
sharp.block({ operation: ['VipsForeignLoadSvg'] });

const SVG_REFUSAL =
  "That file is an SVG: a drawing described as shapes and text, not pixels, so I can't classify it. " +
  'Export it as a PNG or JPEG and send that.';

/**
 * SVG is XML text whose root element is <svg>, after an optional byte-order mark, XML
 * declaration, comments, processing instructions and doctype (whose internal subset may
 * declare entities). Sniffed before libvips sees the bytes, so a plain drawing and one with
 * external entities get the same message; a doctype that names svg counts even when its
 * entity declarations run past the part read here.
 */
export function looksLikeSvg(bytes: Buffer): boolean {
  const head = bytes
    .subarray(0, 64 * 1024)
    .toString('utf8')
    .replace(/^\uFEFF/, '');
  // Each part can end only at its own first terminator, so a hostile prolog cannot make the
  // pattern backtrack through the ways of splitting it.
  const prolog = String.raw`(?:\s|<\?(?:[^?]|\?(?!>))*\?>|<!--(?:[^-]|-(?!->))*-->|<!DOCTYPE(?:[^[>]|\[[^\]]*\])*>)*`;
  return (
    new RegExp(String.raw`^${prolog}<(?:[\w.-]+:)?svg[\s/>]`, 'i').test(head) ||
    new RegExp(String.raw`^${prolog}<!DOCTYPE\s+(?:[\w.-]+:)?svg\b`, 'i').test(head)
  );
}

export const ACCEPTED_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'heif', 'tiff'] as const;
export type AcceptedFormat = (typeof ACCEPTED_FORMATS)[number];

export interface InspectedImage {
  format: AcceptedFormat;
  /** Size after EXIF orientation, as a person sees it. */
  width: number;
  height: number;
  frames: number;
  hasAlpha: boolean;
  space: string;
  bitsPerSample: number;
  /** The embedded colour profile: none, sRGB (safe to skip converting), or another that must be applied. */
  colourProfile: 'none' | 'srgb' | 'other';
}

/** Options for every sharp pipeline over untrusted bytes: the pixel limit guards against decompression bombs. */
export function sharpInput(bytes: Buffer, limits: ImageLimits, options: { ignoreIcc?: boolean } = {}): Sharp {
  return sharp(bytes, {
    limitInputPixels: limits.maxPixels,
    failOn: 'warning',
    pages: 1,
    page: 0,
    ignoreIcc: options.ignoreIcc ?? false,
  }).timeout({
    seconds: Math.max(1, Math.ceil(limits.decodeTimeoutMs / 1000)),
  });
}

/** Turns a sharp/libvips failure into a message a person can act on. */
export function explainDecodeFailure(error: unknown, limits: ImageLimits): UserFacingError {
  const message = error instanceof Error ? error.message : String(error);
  if (/pixel limit/i.test(message)) {
    return new UserFacingError(
      `The image has more pixels than the ${(limits.maxPixels / 1e6).toFixed(0)} MP limit; please send a smaller version.`,
      { code: 'image_too_large', cause: error },
    );
  }
  if (/timeout/i.test(message)) {
    return new UserFacingError(
      `Decoding the image took longer than ${limits.decodeTimeoutMs} ms; please send a simpler or smaller image.`,
      {
        code: 'image_timeout',
        cause: error,
      },
    );
  }
  if (/unsupported image format|bad seek|not a known file format|Input buffer contains unsupported/i.test(message)) {
    return new UserFacingError(
      `That file is not an image I can read. Send a JPEG, PNG, WebP, GIF, AVIF/HEIF or TIFF image.`,
      { code: 'not_an_image', cause: error },
    );
  }
  return new UserFacingError(
    'The image data is corrupt or truncated, so it could not be decoded. Please re-save or re-upload it.',
    {
      code: 'image_corrupt',
      cause: error,
    },
  );
}

/**
 * The longest side taken, whatever the pixel count: JPEG's own limit (65,535), also far beyond any
 * camera, panorama or long screenshot. PNG, GIF and TIFF allow billions, and libvips decodes row by
 * row: a 39 KB PNG of 1×10,000,000 pixels (10 MP, under the pixel limit) took about 8.5 s of
 * decoding, 1×1,000,000 about 0.7 s, while a 1,000×50,000 strip took 0.18 s (this build machine).
 */
export const MAX_IMAGE_SIDE = 65_535;

/**
 * Validates untrusted bytes as an image: size limit first, then the format sniffed from the
 * content itself (never the file name or claimed type), then the pixel limit and the side limit.
 */
export async function inspectImage(bytes: Buffer, limits: ImageLimits): Promise<InspectedImage> {
  if (bytes.length === 0) throw new UserFacingError('The file is empty.', { code: 'not_an_image' });
  if (bytes.length > limits.maxBytes) {
    throw new UserFacingError(
      `The image is ${formatBytes(bytes.length)}; the limit is ${formatBytes(limits.maxBytes)}.`,
      { code: 'image_too_large' },
    );
  }
  if (looksLikeSvg(bytes)) throw new UserFacingError(SVG_REFUSAL, { code: 'not_an_image' });
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: limits.maxPixels }).metadata();
  } catch (error) {
    throw explainDecodeFailure(error, limits);
  }
  const format = metadata.format as string | undefined;
  if (!format || !(ACCEPTED_FORMATS as readonly string[]).includes(format)) {
    throw new UserFacingError(
      `That file is ${format ? `a ${format.toUpperCase()} file` : 'not an image'}, which I can't classify. Send a JPEG, PNG, WebP, GIF, AVIF/HEIF or TIFF image.`,
      { code: 'not_an_image' },
    );
  }
  const rawWidth = metadata.width ?? 0;
  const rawHeight = metadata.height ?? 0;
  if (rawWidth * rawHeight > limits.maxPixels) {
    throw explainDecodeFailure(new Error('Input image exceeds pixel limit'), limits);
  }
  if (Math.max(rawWidth, rawHeight) > MAX_IMAGE_SIDE) {
    throw new UserFacingError(
      `The image is ${rawWidth}×${rawHeight} px; I take at most ${MAX_IMAGE_SIDE.toLocaleString('en')} px on a side (the JPEG format's own limit). Crop or scale it down and send it again.`,
      { code: 'image_too_large' },
    );
  }
  const swapped = (metadata.orientation ?? 1) >= 5;
  return {
    format: format as AcceptedFormat,
    width: swapped ? rawHeight : rawWidth,
    height: swapped ? rawWidth : rawHeight,
    frames: metadata.pages ?? 1,
    hasAlpha: metadata.hasAlpha ?? false,
    space: metadata.space ?? 'unknown',
    bitsPerSample: metadata.depth === 'ushort' ? 16 : 8,
    colourProfile: !metadata.icc ? 'none' : isSrgbProfile(metadata.icc) ? 'srgb' : 'other',
  };
}
