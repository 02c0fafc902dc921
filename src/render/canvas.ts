import sharp from 'sharp';
import type { RgbImage } from '../util/image.js';
import type { Mask } from './glyphs.js';

type Rgb = readonly [number, number, number];

export const parseColour = (hex: string): Rgb => {
  const value = Number.parseInt(hex.replace('#', ''), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
};

/**
 * An RGBA pixel buffer for the cards: anti-aliased rounded rectangles, glyph masks and images,
 * encoded to PNG by sharp. Everything the cards draw is one of those three shapes, which is
 * why this is cheaper than laying out a whole SVG for every reply.
 */
export class Canvas {
  readonly data: Uint8ClampedArray;
  /** The same pixels, one 32-bit word each, for filling solid runs. */
  private readonly words: Uint32Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Uint8ClampedArray(width * height * 4);
    this.words = new Uint32Array(this.data.buffer);
  }

  private blend(index: number, colour: Rgb, coverage: number): void {
    const { data } = this;
    const keep = 1 - coverage;
    data[index] = data[index]! * keep + colour[0] * coverage;
    data[index + 1] = data[index + 1]! * keep + colour[1] * coverage;
    data[index + 2] = data[index + 2]! * keep + colour[2] * coverage;
    data[index + 3] = Math.max(data[index + 3]!, Math.round(coverage * 255));
  }

  /** A rectangle with rounded corners; coverage comes from the signed distance to its edge. */
  fillRoundedRect(x: number, y: number, width: number, height: number, radius: number, colour: Rgb, opacity = 1): void {
    if (width <= 0 || height <= 0) return;
    if (radius <= 0 && [x, y, width, height].every(Number.isInteger)) {
      this.fillPixelRect(x, y, width, height, colour, opacity);
      return;
    }
    const r = Math.min(radius, width / 2, height / 2);
    const cx = x + width / 2;
    const cy = y + height / 2;
    const hx = width / 2 - r;
    const hy = height / 2 - r;
    const solid = new Uint32Array(new Uint8ClampedArray([colour[0], colour[1], colour[2], 255]).buffer)[0]!;
    const x0 = Math.max(0, Math.floor(x));
    const x1 = Math.min(this.width, Math.ceil(x + width));
    // Coverage of pixel column px in a row whose vertical distance term is qy. Only the corners
    // need the Euclidean distance; elsewhere the nearer straight edge decides.
    const coverageAt = (px: number, qy: number): number => {
      const qx = Math.abs(px + 0.5 - cx) - hx;
      return 0.5 - (qx > 0 && qy > 0 ? Math.hypot(qx, qy) - r : Math.max(qx, qy) - r);
    };
    for (let py = Math.max(0, Math.floor(y)); py < Math.min(this.height, Math.ceil(y + height)); py += 1) {
      const qy = Math.abs(py + 0.5 - cy) - hy;
      // Anti-alias the ends of the row; the run between them is solid and filled in one call.
      let left = x0;
      for (; left < x1; left += 1) {
        const coverage = coverageAt(left, qy);
        if (coverage >= 1) break;
        if (coverage > 0) this.blend((py * this.width + left) * 4, colour, coverage * opacity);
      }
      let right = x1 - 1;
      for (; right >= left; right -= 1) {
        const coverage = coverageAt(right, qy);
        if (coverage >= 1) break;
        if (coverage > 0) this.blend((py * this.width + right) * 4, colour, coverage * opacity);
      }
      if (opacity >= 1) {
        if (right >= left) this.words.fill(solid, py * this.width + left, py * this.width + right + 1);
      } else {
        for (let px = left; px <= right; px += 1) this.blend((py * this.width + px) * 4, colour, opacity);
      }
    }
  }

  /** A rectangle on whole pixels: every pixel fully covered, so no distances to compute. */
  private fillPixelRect(x: number, y: number, width: number, height: number, colour: Rgb, opacity: number): void {
    const solid = new Uint32Array(new Uint8ClampedArray([colour[0], colour[1], colour[2], 255]).buffer)[0]!;
    const x0 = Math.max(0, x);
    const x1 = Math.min(this.width, x + width);
    for (let py = Math.max(0, y); py < Math.min(this.height, y + height); py += 1) {
      if (opacity >= 1) this.words.fill(solid, py * this.width + x0, py * this.width + x1);
      else for (let px = x0; px < x1; px += 1) this.blend((py * this.width + px) * 4, colour, opacity);
    }
  }

  /** Ink from a glyph mask, its origin at (x, baseline). */
  drawMask(mask: Mask, x: number, baseline: number, colour: Rgb): void {
    const left = x + mask.left;
    const top = baseline + mask.top;
    for (let my = 0; my < mask.height; my += 1) {
      const py = top + my;
      if (py < 0 || py >= this.height) continue;
      for (let mx = 0; mx < mask.width; mx += 1) {
        const px = left + mx;
        const alpha = mask.alpha[my * mask.width + mx]!;
        if (alpha === 0 || px < 0 || px >= this.width) continue;
        this.blend((py * this.width + px) * 4, colour, alpha / 255);
      }
    }
  }

  /** Opaque RGB pixels copied in place, each enlarged to a `scale` × `scale` block (nearest neighbour). */
  drawImage(image: RgbImage, x: number, y: number, scale = 1): void {
    const width = Math.min(image.width * scale, this.width - x);
    for (let sy = 0; sy < image.height; sy += 1) {
      const first = y + sy * scale;
      if (first < 0 || first >= this.height || x < 0 || width <= 0) continue;
      const rowStart = (first * this.width + x) * 4;
      for (let dx = 0; dx < width; dx += 1) {
        const from = (sy * image.width + Math.floor(dx / scale)) * 3;
        const to = rowStart + dx * 4;
        this.data[to] = image.data[from]!;
        this.data[to + 1] = image.data[from + 1]!;
        this.data[to + 2] = image.data[from + 2]!;
        this.data[to + 3] = 255;
      }
      // The other rows of an enlarged pixel are copies of the first.
      for (let repeat = 1; repeat < scale && first + repeat < this.height; repeat += 1) {
        this.data.copyWithin(rowStart + repeat * this.width * 4, rowStart, rowStart + width * 4);
      }
    }
  }

  /** An image scaled to fit a box (aspect kept, centred), sampled bilinearly. */
  drawImageFit(image: RgbImage, x: number, y: number, box: number): void {
    const scale = Math.min(box / image.width, box / image.height);
    const width = Math.max(1, Math.round(image.width * scale));
    const height = Math.max(1, Math.round(image.height * scale));
    const left = x + Math.floor((box - width) / 2);
    const top = y + Math.floor((box - height) / 2);
    const { data, width: sw, height: sh } = image;
    // Weights in 8-bit fixed point, worked out once per column: integer arithmetic keeps this
    // loop, which runs for every reply's thumbnail, several times faster than floating point.
    const x0s = new Int32Array(width);
    const x1s = new Int32Array(width);
    const fxs = new Int32Array(width);
    for (let dx = 0; dx < width; dx += 1) {
      const sx = Math.min(sw - 1, Math.max(0, (dx + 0.5) / scale - 0.5));
      x0s[dx] = Math.floor(sx) * 3;
      x1s[dx] = Math.min(sw - 1, Math.floor(sx) + 1) * 3;
      fxs[dx] = Math.round((sx - Math.floor(sx)) * 256);
    }
    const out = this.data;
    for (let dy = 0; dy < height; dy += 1) {
      const sy = Math.min(sh - 1, Math.max(0, (dy + 0.5) / scale - 0.5));
      const upper = Math.floor(sy) * sw * 3;
      const lower = Math.min(sh - 1, Math.floor(sy) + 1) * sw * 3;
      const fy = Math.round((sy - Math.floor(sy)) * 256);
      let to = ((top + dy) * this.width + left) * 4;
      for (let dx = 0; dx < width; dx += 1, to += 4) {
        const a = x0s[dx]!;
        const b = x1s[dx]!;
        const fx = fxs[dx]!;
        for (let c = 0; c < 3; c += 1) {
          const ua = data[upper + a + c]!;
          const la = data[lower + a + c]!;
          const high = (ua << 8) + (data[upper + b + c]! - ua) * fx;
          const low = (la << 8) + (data[lower + b + c]! - la) * fx;
          out[to + c] = ((high << 8) + (low - high) * fy + 32768) >> 16;
        }
        out[to + 3] = 255;
      }
    }
  }

  /**
   * PNG; an opaque canvas drops its alpha channel. zlib level 1: the cards are flat colour, which
   * level 1 already compresses well, so higher levels only cost encoding time on every reply.
   */
  png(options: { opaque?: boolean } = {}): Promise<Buffer> {
    const image = sharp(this.data, { raw: { width: this.width, height: this.height, channels: 4 } });
    return (options.opaque ? image.removeAlpha() : image).png({ compressionLevel: 1 }).toBuffer();
  }

  /**
   * JPEG of the opaque pixels, for photographs: a seventh of a PNG's bytes and quicker to
   * encode. Full-resolution chroma (4:4:4) keeps one-pixel coloured lines from bleeding.
   */
  jpeg(quality = 90): Promise<Buffer> {
    return sharp(this.data, { raw: { width: this.width, height: this.height, channels: 4 } })
      .removeAlpha()
      .jpeg({ quality, chromaSubsampling: '4:4:4' })
      .toBuffer();
  }
}
