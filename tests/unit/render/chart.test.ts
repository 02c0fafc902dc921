import { createCanvas } from '@napi-rs/canvas';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { PALETTE, renderChart, type ChartPanel } from '../../../src/render/chart.js';
import { FONT_FAMILY, fitText, useStyle, type TextStyle } from '../../../src/render/text.js';

const WIDTH = 420;
const HEIGHT = 40;
const BASELINE = 28;

const parseColour = (hex: string): number[] => {
  const value = Number.parseInt(hex.replace('#', ''), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
};

/** The alpha channel of a text drawn by librsvg as one run, white on transparent. */
async function librsvgRun(text: string, style: TextStyle): Promise<Uint8Array> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family='${FONT_FAMILY}' font-size="${style.size}"${style.bold ? ' font-weight="bold"' : ''} fill="#fff" xml:space="preserve"><text x="10" y="${BASELINE}">${text}</text></svg>`;
  const { data } = await sharp(Buffer.from(svg))
    .ensureAlpha()
    .extractChannel(3)
    .raw()
    .toBuffer({ resolveWithObject: true });
  return new Uint8Array(data);
}

/** The same text drawn by Skia in the cards' font, white on transparent. */
function skiaRun(text: string, style: TextStyle): Uint8Array {
  const context = createCanvas(WIDTH, HEIGHT).getContext('2d');
  useStyle(context, style);
  context.fillStyle = '#fff';
  context.fillText(text, 10, BASELINE);
  const { data } = context.getImageData(0, 0, WIDTH, HEIGHT);
  return Uint8Array.from({ length: WIDTH * HEIGHT }, (_, i) => data[i * 4 + 3]!);
}

/** A context in a style, to measure texts as the cards do. */
function measuring(style: TextStyle): ReturnType<ReturnType<typeof createCanvas>['getContext']> {
  const context = createCanvas(1, 1).getContext('2d');
  useStyle(context, style);
  return context;
}

async function decoded(
  png: Buffer,
): Promise<{ at: (x: number, y: number) => number[]; width: number; height: number }> {
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    at: (x, y) => Array.from(data.subarray((y * info.width + x) * 4, (y * info.width + x) * 4 + 4)),
    width: info.width,
    height: info.height,
  };
}

const pixel = async (png: Buffer, x: number, y: number): Promise<number[]> => (await decoded(png)).at(x, y);
const distance = (a: readonly number[], b: readonly number[]): number =>
  Math.max(...b.map((value, i) => Math.abs(value - a[i]!)));
const panel = (overrides: Partial<ChartPanel> = {}): ChartPanel => ({
  heading: 'CNN · tiny',
  subtitle: 'fp32 · cpu · 1.0 ms',
  bars: [{ label: 'half', score: 0.5 }],
  color: PALETTE.cnn,
  ...overrides,
});

describe('chart text', () => {
  it('is laid out in the named font as librsvg lays out the same run', async () => {
    /** The rightmost inked column and the ink's horizontal centre of mass. */
    const extent = (alpha: Uint8Array): { right: number; centre: number } => {
      let right = 0;
      let mass = 0;
      let moment = 0;
      alpha.forEach((a, i) => {
        const x = i % WIDTH;
        if (a > 64) right = Math.max(right, x);
        mass += a;
        moment += a * x;
      });
      return { right, centre: moment / mass };
    };
    const cases: Array<[string, TextStyle]> = [
      ['cocker spaniel, English cocker spaniel', { size: 14 }],
      ['q8 · cpu · 412 ms — Weimaraner (café)', { size: 12 }],
      ['VIT · vit-base-patch16-224 · TEFLON_7', { size: 17, bold: true }],
    ];
    for (const [text, style] of cases) {
      const expected = extent(await librsvgRun(text, style));
      const actual = extent(skiaRun(text, style));
      // A fallback font or a wrong size would move the end of the run by many pixels.
      expect(Math.abs(actual.right - expected.right)).toBeLessThanOrEqual(1.5);
      expect(Math.abs(actual.centre - expected.centre)).toBeLessThan(0.75);
    }
  });

  it('is kerned', () => {
    const context = measuring({ size: 14 });
    expect(context.measureText('AV').width).toBeLessThan(
      context.measureText('A').width + context.measureText('V').width - 0.5,
    );
  });

  it('shapes scripts that join letters, as librsvg does', async () => {
    const arabic = 'قطة سوداء';
    const context = measuring({ size: 14 });
    // Joined letters take other (narrower) forms than the same letters alone.
    const word = 'قطة';
    expect(context.measureText(word).width).toBeLessThan(
      [...word].reduce((sum, letter) => sum + context.measureText(letter).width, 0) - 1,
    );
    const inked = (alpha: Uint8Array): number[] => {
      const columns = [
        ...new Set(
          Array.from(alpha.keys())
            .filter((i) => alpha[i]! > 64)
            .map((i) => i % WIDTH),
        ),
      ];
      return [Math.min(...columns), Math.max(...columns)];
    };
    const [expectedLeft, expectedRight] = inked(await librsvgRun(arabic, { size: 14 }));
    const [left, right] = inked(skiaRun(arabic, { size: 14 }));
    expect(Math.abs(left! - expectedLeft!)).toBeLessThanOrEqual(1);
    expect(Math.abs(right! - expectedRight!)).toBeLessThanOrEqual(1);
  });

  it('shortens a label with an ellipsis so that it fits the width it is given', () => {
    const context = measuring({ size: 14 });
    const label = 'cocker spaniel, English cocker spaniel, cocker, and more words than fit';
    const fitted = fitText(context, label, 200);
    expect(fitted.text.endsWith('…')).toBe(true);
    expect(label.startsWith(fitted.text.slice(0, -1))).toBe(true);
    expect(context.measureText(fitted.text).width).toBeLessThanOrEqual(200);
    expect(fitted.width).toBe(context.measureText(fitted.text).width);
    // As long as fits: one more letter before the ellipsis would not.
    const longer = `${label.slice(0, fitted.text.length - 1 + 1).trimEnd()}…`;
    expect(context.measureText(longer).width).toBeGreaterThan(200);
    expect(fitText(context, 'tabby', 200)).toEqual({ text: 'tabby', width: context.measureText('tabby').width });
    expect(fitText(context, 'kept', 1)).toEqual({ text: '', width: 0 });
  });

  it('cuts between graphemes, never inside an emoji sequence or a letter with its accent', () => {
    const context = measuring({ size: 14 });
    const segments = (text: string): string[] =>
      Array.from(new Intl.Segmenter('en', { granularity: 'grapheme' }).segment(text), (part) => part.segment);
    const family = '👩‍👩‍👧‍👦';
    const fittedFamilies = fitText(context, `${family} `.repeat(30), 100);
    expect(segments(fittedFamilies.text.slice(0, -1)).every((part) => part === family || part === ' ')).toBe(true);
    const accented = 'e\u0301'.repeat(80);
    const fittedAccents = fitText(context, accented, 100);
    expect(fittedAccents.text.endsWith('e\u0301…')).toBe(true);
    expect(fittedAccents.width).toBeLessThanOrEqual(100);
  });

  it('turns control characters into spaces and fits a flood of CJK into its width', () => {
    const context = measuring({ size: 16 });
    expect(fitText(context, 'tab\there\nnewline', 1000).text).toBe('tab here newline');
    const flood = Array.from({ length: 2100 }, (_, i) => String.fromCharCode(0x4e00 + i)).join('');
    const fitted = fitText(context, flood, 300);
    expect(flood.startsWith(fitted.text.slice(0, -1))).toBe(true);
    expect(context.measureText(fitted.text).width).toBeLessThanOrEqual(300);
  });
});

describe('chart rendering', () => {
  it('draws each bar filled in proportion to its score on an opaque card with rounded corners', async () => {
    const png = await renderChart({ panels: [panel()] });
    const meta = await sharp(png).metadata();
    expect(meta.format).toBe('png');
    // Panel at x = 20, bar 400 px wide from y = 64 + 18 to 64 + 30.
    expect((await pixel(png, 20 + 100, 64 + 24)).slice(0, 3)).toEqual(parseColour(PALETTE.cnn));
    expect((await pixel(png, 20 + 300, 64 + 24)).slice(0, 3)).toEqual(parseColour(PALETTE.track));
    expect(await pixel(png, 0, 0)).toEqual([0, 0, 0, 0]);
    expect((await pixel(png, 10, meta.height! - 12))[3]).toBe(255);
  });

  it('keeps the colour of the card in the anti-aliased pixels of its corners', async () => {
    const image = await decoded(await renderChart({ panels: [panel()] }));
    const card = parseColour(PALETTE.card);
    let partial = 0;
    for (let y = 0; y < 12; y += 1) {
      for (let x = 0; x < 12; x += 1) {
        const [r, g, b, a] = image.at(x, y) as [number, number, number, number];
        if (a === 0 || a === 255) continue;
        partial += 1;
        // Straight alpha: a fringe pixel is the card's colour, partly transparent (not darkened).
        if (a > 64) expect(distance([r, g, b], card)).toBeLessThanOrEqual(3);
      }
    }
    expect(partial).toBeGreaterThan(4);
  });

  it('keeps a very long heading, subtitle and label inside their panel', async () => {
    const long = 'an extremely long model name that goes on and on, far past the edge of its panel and the next';
    const png = await renderChart({
      panels: [
        panel({ heading: long, subtitle: long, bars: [{ label: long, score: 0.25 }] }),
        panel({ heading: 'ViT', subtitle: 'short', color: PALETTE.vit }),
      ],
    });
    const image = await decoded(png);
    const card = parseColour(PALETTE.card);
    // Texts and bars of the first panel end 400 px after it starts (x = 20); the second starts at x = 460.
    const inked: string[] = [];
    for (let y = 0; y < image.height; y += 1) {
      for (let x = 20 + 400 + 1; x < 460; x += 1)
        if (distance(image.at(x, y).slice(0, 3), card) > 0) inked.push(`${x},${y}`);
    }
    expect(inked).toEqual([]);
    // The label was shortened, and its score still drawn: ink right of the label's ellipsis.
    const inkInRow = (from: number, to: number, y0: number, y1: number): boolean => {
      for (let y = y0; y < y1; y += 1)
        for (let x = from; x < to; x += 1) if (distance(image.at(x, y).slice(0, 3), card) > 40) return true;
      return false;
    };
    expect(inkInRow(20 + 340, 20 + 400, 64, 64 + 16)).toBe(true);
  });

  it('fits a thumbnail into its box, centred, with its aspect ratio kept and its corners rounded', async () => {
    const red = [255, 0, 0];
    const blue = [0, 0, 255];
    const image = {
      data: Buffer.from([...red, ...red, ...blue, ...blue, ...red, ...red, ...blue, ...blue]),
      width: 4,
      height: 2,
    };
    const chart = await decoded(await renderChart({ panels: [panel()], thumbnail: image }));
    const card = parseColour(PALETTE.card);
    // The 168-px box at (20, 20); a 2:1 image fills its width and the middle half of its height.
    expect(chart.width).toBe(20 + 168 + 20 + 420 + 20);
    expect(chart.at(20 + 10, 20 + 30).slice(0, 3)).toEqual(card);
    expect(distance(chart.at(20 + 10, 62 + 2), red)).toBeLessThanOrEqual(2);
    expect(distance(chart.at(20 + 160, 62 + 80), blue)).toBeLessThanOrEqual(2);
    expect(chart.at(20 + 160, 62 + 84 + 2).slice(0, 3)).toEqual(card);
    expect(chart.at(20, 62).slice(0, 3)).toEqual(card);
    // The panel moves right of the thumbnail.
    expect(chart.at(20 + 168 + 20 + 100, 64 + 24).slice(0, 3)).toEqual(parseColour(PALETTE.cnn));
  });

  it('leaves the thumbnail out when asked, and the panel moves to the left edge', async () => {
    const chart = await decoded(await renderChart({ panels: [panel()], thumbnail: undefined }));
    expect(chart.width).toBe(20 + 420 + 20);
    expect(chart.at(20 + 100, 64 + 24).slice(0, 3)).toEqual(parseColour(PALETTE.cnn));
  });

  it('filters a shrunk thumbnail: a one-pixel checkerboard becomes grey, a ramp stays a ramp', async () => {
    const [sw, sh] = [370, 230];
    const thumbnail = async (level: (x: number, y: number) => number): Promise<Awaited<ReturnType<typeof decoded>>> => {
      const data = Buffer.alloc(sw * sh * 3);
      for (let y = 0; y < sh; y += 1)
        for (let x = 0; x < sw; x += 1) data.fill(level(x, y), (y * sw + x) * 3, (y * sw + x) * 3 + 3);
      return decoded(await renderChart({ panels: [panel()], thumbnail: { data, width: sw, height: sh } }));
    };
    // Scaled by 168 / 370 to 168 × 104, at (20, 52): sample its inside, away from the borders.
    /** The largest difference from `expected` over the inside of the thumbnail, away from its borders. */
    const worst = (image: Awaited<ReturnType<typeof decoded>>, expected: (dx: number) => number): number => {
      let largest = 0;
      for (let dy = 12; dy < 92; dy += 1)
        for (let dx = 12; dx < 156; dx += 1)
          largest = Math.max(largest, Math.abs(image.at(20 + dx, 52 + dy)[0]! - expected(dx)));
      return largest;
    };
    const checkerboard = await thumbnail((x, y) => ((x + y) % 2 === 0 ? 0 : 255));
    expect(worst(checkerboard, () => 127.5)).toBeLessThanOrEqual(2);
    const ramp = await thumbnail((x) => Math.round(x / 2));
    const scale = 168 / sw;
    expect(worst(ramp, (dx) => ((dx + 0.5) / scale - 0.5) / 2)).toBeLessThanOrEqual(1);
  });
});
