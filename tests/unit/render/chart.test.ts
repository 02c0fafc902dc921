import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { Canvas, parseColour } from '../../../src/render/canvas.js';
import { PALETTE, renderChart } from '../../../src/render/chart.js';
import { FONT_FAMILY, prepareText, type TextStyle } from '../../../src/render/glyphs.js';
import { escapeXml } from '../../../src/render/svg.js';

const WIDTH = 420;
const HEIGHT = 40;
const BASELINE = 28;

/** The alpha channel of a text drawn by librsvg as one run, white on transparent. */
async function librsvgRun(text: string, style: TextStyle): Promise<Uint8Array> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="${FONT_FAMILY}" font-size="${style.size}"${style.bold ? ' font-weight="bold"' : ''} fill="#fff" xml:space="preserve"><text x="10" y="${BASELINE}">${escapeXml(text)}</text></svg>`;
  const { data } = await sharp(Buffer.from(svg)).ensureAlpha().extractChannel(3).raw().toBuffer({ resolveWithObject: true });
  return new Uint8Array(data);
}

/** The same text composed glyph by glyph onto a canvas. */
async function composedRun(text: string, style: TextStyle): Promise<Uint8Array> {
  const prepared = await prepareText(style, [text]);
  const canvas = new Canvas(WIDTH, HEIGHT);
  for (const piece of prepared.layout(text).pieces) canvas.drawMask(piece.mask, 10 + piece.x, BASELINE, [255, 255, 255]);
  return Uint8Array.from({ length: WIDTH * HEIGHT }, (_, i) => canvas.data[i * 4 + 3]!);
}

const pixel = async (png: Buffer, x: number, y: number): Promise<number[]> => {
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * 4;
  return [data[at]!, data[at + 1]!, data[at + 2]!, data[at + 3]!];
};

describe('chart rendering', () => {
  it('composes text glyph by glyph where librsvg lays out the whole run', async () => {
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
      const actual = extent(await composedRun(text, style));
      // Per-glyph advances drop kerning (under a pixel over a label); one wrong advance shifts everything after it.
      expect(Math.abs(actual.right - expected.right)).toBeLessThanOrEqual(1.5);
      expect(Math.abs(actual.centre - expected.centre)).toBeLessThan(0.75);
    }
  });

  it('shortens a label with an ellipsis so that it fits the width it is given', async () => {
    const style = { size: 14 };
    const label = 'cocker spaniel, English cocker spaniel, cocker, and more words than fit';
    const prepared = await prepareText(style, [label, 'tabby']);
    const fitted = prepared.fit(label, 200);
    expect(fitted.endsWith('…')).toBe(true);
    expect(label.startsWith(fitted.slice(0, -1))).toBe(true);
    expect(prepared.layout(fitted).advance).toBeLessThanOrEqual(200);
    expect(prepared.fit('tabby', 200)).toBe('tabby');
  });

  it('renders a flood of new glyphs in slices, and keeps an earlier prepared text drawable after they evict it', async () => {
    // At 16 px, 2,100 glyph rows in one SVG would be 67,000 pixels tall, past cairo's limit.
    const style = { size: 16 };
    const prepared = await prepareText(style, ['kept']);
    const flood = Array.from({ length: 2100 }, (_, i) => String.fromCharCode(0x4e00 + i)).join('');
    const flooded = await prepareText(style, [flood]);
    expect(flooded.layout(flood).pieces).toHaveLength(2100);
    expect(prepared.layout('kept').pieces).toHaveLength(4);
    expect(prepared.fit('kept', 1)).toBe('…');
  }, 30_000);

  it('shapes scripts that join letters as whole runs instead of glyph by glyph', async () => {
    const arabic = 'قطة سوداء';
    const layout = (await prepareText({ size: 14 }, [arabic])).layout(arabic);
    expect(layout.pieces).toHaveLength(1);
    const expected = await librsvgRun(arabic, { size: 14 });
    const actual = await composedRun(arabic, { size: 14 });
    expect(actual.filter((alpha, i) => Math.abs(alpha - expected[i]!) > 8)).toHaveLength(0);
  });

  it('draws each bar filled in proportion to its score on an opaque card with rounded corners', async () => {
    const png = await renderChart({ panels: [{ heading: 'CNN · tiny', subtitle: 'fp32 · cpu · 1.0 ms', bars: [{ label: 'half', score: 0.5 }], color: PALETTE.cnn }] });
    const meta = await sharp(png).metadata();
    expect(meta.format).toBe('png');
    // Panel at x = 20, bar 400 px wide from y = 64 + 18 to 64 + 30.
    expect((await pixel(png, 20 + 100, 64 + 24)).slice(0, 3)).toEqual([...parseColour(PALETTE.cnn)]);
    expect((await pixel(png, 20 + 300, 64 + 24)).slice(0, 3)).toEqual([...parseColour(PALETTE.track)]);
    expect(await pixel(png, 0, 0)).toEqual([0, 0, 0, 0]);
    expect((await pixel(png, 10, meta.height! - 12))[3]).toBe(255);
  });

  it('enlarges an image by whole pixels for the patch view, each source pixel a solid block', () => {
    const image = { data: Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9]), width: 2, height: 2 };
    const canvas = new Canvas(6, 6);
    canvas.drawImage(image, 0, 0, 3);
    const at = (x: number, y: number): number[] => Array.from(canvas.data.slice((y * 6 + x) * 4, (y * 6 + x) * 4 + 4));
    for (const [x, y, expected] of [[0, 0, [255, 0, 0, 255]], [2, 2, [255, 0, 0, 255]], [3, 2, [0, 255, 0, 255]], [2, 3, [0, 0, 255, 255]], [5, 5, [9, 9, 9, 255]]] as const) {
      expect(at(x, y)).toEqual(expected);
    }
  });

  it('fits a thumbnail into its box, centred and with its aspect ratio kept', () => {
    const red = [255, 0, 0];
    const blue = [0, 0, 255];
    const image = { data: Buffer.from([...red, ...red, ...blue, ...blue, ...red, ...red, ...blue, ...blue]), width: 4, height: 2 };
    const canvas = new Canvas(8, 8);
    canvas.drawImageFit(image, 0, 0, 8);
    const at = (x: number, y: number): number[] => Array.from(canvas.data.slice((y * 8 + x) * 4, (y * 8 + x) * 4 + 4));
    expect(at(0, 0)).toEqual([0, 0, 0, 0]);
    expect(at(0, 2)).toEqual([...red, 255]);
    expect(at(7, 5)).toEqual([...blue, 255]);
    expect(at(7, 6)).toEqual([0, 0, 0, 0]);
  });

  it('samples a shrunk thumbnail bilinearly, within one level of the exact interpolation', () => {
    const [sw, sh, box] = [37, 23, 16];
    const image = { data: Buffer.from(Array.from({ length: sw * sh * 3 }, (_, i) => (i * 97 + (i % 7) * 31) % 256)), width: sw, height: sh };
    const canvas = new Canvas(box, box);
    canvas.drawImageFit(image, 0, 0, box);
    const scale = box / sw;
    const top = Math.floor((box - Math.round(sh * scale)) / 2);
    const source = (x: number, y: number, c: number): number => image.data[(Math.min(sh - 1, y) * sw + Math.min(sw - 1, x)) * 3 + c]!;
    for (let dy = 0; dy < Math.round(sh * scale); dy += 1) {
      for (let dx = 0; dx < box; dx += 1) {
        const sx = Math.min(sw - 1, Math.max(0, (dx + 0.5) / scale - 0.5));
        const sy = Math.min(sh - 1, Math.max(0, (dy + 0.5) / scale - 0.5));
        const [x0, y0, fx, fy] = [Math.floor(sx), Math.floor(sy), sx - Math.floor(sx), sy - Math.floor(sy)];
        for (let c = 0; c < 3; c += 1) {
          const high = source(x0, y0, c) * (1 - fx) + source(x0 + 1, y0, c) * fx;
          const low = source(x0, y0 + 1, c) * (1 - fx) + source(x0 + 1, y0 + 1, c) * fx;
          expect(Math.abs(canvas.data[((top + dy) * box + dx) * 4 + c]! - (high * (1 - fy) + low * fy))).toBeLessThanOrEqual(1);
        }
      }
    }
  });
});
