import sharp from 'sharp';
import { escapeXml } from './svg.js';

/**
 * Text for the PNG cards, rasterised by librsvg (the same SVG → sharp path as the rest of
 * the rendering) but once per glyph rather than once per chart: laying out text in librsvg
 * cost 6–10 ms of every chart, glyph by glyph composition costs well under 1 ms.
 *
 * Each glyph is rendered alone at PHASES sub-pixel offsets, and its advance is measured by
 * rendering it followed by a full block (█), whose left edge lands exactly one advance later.
 * Scripts that need shaping (Arabic, Indic, combining marks, emoji sequences) are rendered
 * as whole runs instead, so they come out exactly as librsvg shapes them.
 */

export const FONT_FAMILY = 'DejaVu Sans, Verdana, sans-serif';
const PHASES = 3;
const MARKER = '\u2588';
/** Per style: rendered glyphs and shaped runs, oldest dropped first past CACHE_LIMIT. */
const CACHE_LIMIT = 2048;
const RASTER_ROWS = 200;

export interface TextStyle {
  size: number;
  bold?: boolean;
}

/** Coverage (0–255) of some ink, placed relative to a pen position on the baseline. */
export interface Mask {
  alpha: Uint8Array;
  width: number;
  height: number;
  left: number;
  top: number;
}

interface Rendered {
  advance: number;
  /** One mask per sub-pixel phase; shaped runs have a single phase. */
  phases: Mask[];
}

const caches = new Map<string, Map<string, Rendered>>();
function cacheFor(style: TextStyle): Map<string, Rendered> {
  const key = `${style.bold ? 'b' : 'n'}${style.size}`;
  let cache = caches.get(key);
  if (!cache) caches.set(key, (cache = new Map()));
  return cache;
}

// Code points that render the same alone as in context: Latin, Greek, Cyrillic, punctuation,
// symbols, CJK and Hangul. Everything else (and any combining mark) is shaped as a whole run.
const SIMPLE = /^[\u0020-\u02ff\u0370-\u0482\u048a-\u052f\u1e00-\u1fff\u2010-\u2bff\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff01-\uffef]*$/u;

/** Control characters (tabs, newlines) would only confuse the layout: they become spaces. */
const printable = (text: string): string => text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');

/** A glyph (rendered at every sub-pixel phase) or a shaped run (one phase), keyed by its text. */
interface Job {
  text: string;
  phases: number;
}

/** Renders texts (glyphs or runs) in one librsvg call and cuts out each one's masks and advance. */
async function rasterise(style: TextStyle, jobs: Job[]): Promise<Map<string, Rendered>> {
  const { size } = style;
  const rowHeight = Math.ceil(size * 2);
  const baseline = Math.ceil(size * 1.4);
  const pad = Math.ceil(size * 0.6);
  const cellWidth = (job: Job): number => Math.ceil(size * 1.4 * [...job.text].length) + 2 * pad;
  const rows = [{ text: '', phases: 0 }, ...jobs];
  const width = Math.max(...rows.map((job) => (job.phases + 1) * cellWidth(job) + Math.ceil(size * 1.4) * 2));
  const height = rows.length * rowHeight;
  const measureX = (job: Job): number => job.phases * cellWidth(job) + pad;
  const elements = rows.map((job, row) => {
    const y = row * rowHeight + baseline;
    const cells = Array.from({ length: job.phases }, (_, phase) => `<text x="${phase * cellWidth(job) + pad + phase / PHASES}" y="${y}">${escapeXml(job.text)}</text>`);
    return `${cells.join('')}<text x="${measureX(job)}" y="${y}">${escapeXml(job.text)}${MARKER}</text>`;
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="${FONT_FAMILY}" font-size="${size}"${style.bold ? ' font-weight="bold"' : ''} fill="#fff" xml:space="preserve">${elements.join('')}</svg>`;
  const { data, info } = await sharp(Buffer.from(svg)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const stride = info.width * info.channels;
  const alphaAt = (x: number, y: number): number => data[y * stride + x * info.channels + 3]!;

  /**
   * Where the marker's left edge sits in a row, to a fraction of a pixel (from its anti-aliased
   * edge). A glyph's ink touching the marker can only make the edge look further left, so the
   * rightmost edge over three scanlines (cap, x-height and descender zones) is the true one.
   */
  const markerEdge = (row: number, from: number): number => {
    const edgeAt = (y: number): number => {
      let x = info.width - 1;
      while (x > from && alphaAt(x, y) === 0) x -= 1;
      while (x > from && alphaAt(x, y) < 250) x -= 1;
      while (x > from && alphaAt(x, y) >= 250) x -= 1;
      return x + 1 - alphaAt(x, y) / 255;
    };
    const line = row * rowHeight + baseline;
    return Math.max(...[0.66, 0.1, -0.15].map((height) => edgeAt(line - Math.round(size * height))));
  };
  const origin = markerEdge(0, 0);

  const cut = (row: number, x0: number, x1: number, penX: number): Mask => {
    const top = row * rowHeight;
    let minX = x1;
    let maxX = x0 - 1;
    let minY = top + rowHeight;
    let maxY = top - 1;
    for (let y = top; y < top + rowHeight; y += 1) {
      for (let x = x0; x < x1; x += 1) {
        if (alphaAt(x, y) === 0) continue;
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
      }
    }
    if (maxX < minX) return { alpha: new Uint8Array(0), width: 0, height: 0, left: 0, top: 0 };
    const w = maxX - minX + 1;
    const h = maxY - minY + 1;
    const alpha = new Uint8Array(w * h);
    for (let y = 0; y < h; y += 1) for (let x = 0; x < w; x += 1) alpha[y * w + x] = alphaAt(minX + x, minY + y);
    return { alpha, width: w, height: h, left: minX - penX, top: minY - (top + baseline) };
  };

  const out = new Map<string, Rendered>();
  jobs.forEach((job, index) => {
    const row = index + 1;
    const cell = cellWidth(job);
    const phases = Array.from({ length: job.phases }, (_, phase) => cut(row, phase * cell, (phase + 1) * cell, phase * cell + pad));
    const advance = Math.max(0, markerEdge(row, measureX(job)) - measureX(job) - (origin - pad));
    out.set(job.text, { advance, phases });
  });
  return out;
}

export interface TextLayout {
  advance: number;
  /** Each mask with its pen position, and the pen position after it. */
  pieces: Array<{ x: number; mask: Mask; end: number; char: string }>;
}

/** Texts whose glyphs are rendered: they can be measured, shortened and laid out without waiting. */
export interface PreparedText {
  /** Where each glyph goes; a shaped run is a single piece. */
  layout(text: string): TextLayout;
  /** Shortens a text with an ellipsis until it fits `maxWidth` pixels (a shaped run is left whole). */
  fit(text: string, maxWidth: number): string;
}

const ELLIPSIS = '…';
const keysOf = (text: string): string[] => (SIMPLE.test(text) ? [...new Set(text)] : [text]);

/**
 * Renders every glyph or shaped run these texts (and an ellipsis) need, once per process, and
 * returns them held apart from the shared cache, so that other replies evicting entries from it
 * cannot pull a glyph out from under this one.
 */
export async function prepareText(style: TextStyle, texts: readonly string[]): Promise<PreparedText> {
  const cache = cacheFor(style);
  const keys = new Set([ELLIPSIS, ...texts.flatMap((text) => keysOf(printable(text)))]);
  const jobs = [...keys].filter((key) => !cache.has(key)).map((key) => ({ text: key, phases: SIMPLE.test(key) ? PHASES : 1 }));
  const held = new Map<string, Rendered>();
  for (const key of keys) {
    const found = cache.get(key);
    if (found) held.set(key, found);
  }
  // In slices: one SVG holding every row of a long list of new glyphs would pass cairo's 32,767-pixel limit.
  for (let start = 0; start < jobs.length; start += RASTER_ROWS) {
    for (const [key, value] of await rasterise(style, jobs.slice(start, start + RASTER_ROWS))) {
      held.set(key, value);
      cache.set(key, value);
      if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    }
  }
  return preparedFrom(held);
}

function preparedFrom(held: ReadonlyMap<string, Rendered>): PreparedText {
  const lookup = (key: string): Rendered => {
    const found = held.get(key);
    if (!found) throw new Error(`text not prepared: ${JSON.stringify(key)}`);
    return found;
  };
  const layout = (raw: string): TextLayout => {
    const text = printable(raw);
    if (!SIMPLE.test(text)) {
      const run = lookup(text);
      return { advance: run.advance, pieces: [{ x: 0, mask: run.phases[0]!, end: run.advance, char: text }] };
    }
    const pieces: TextLayout['pieces'] = [];
    let pen = 0;
    for (const char of text) {
      const glyph = lookup(char);
      const whole = Math.floor(pen);
      const phase = Math.round((pen - whole) * PHASES);
      const wraps = phase === PHASES;
      const x = wraps ? whole + 1 : whole;
      const mask = glyph.phases[wraps ? 0 : phase]!;
      pen += glyph.advance;
      pieces.push({ x, mask, end: pen, char });
    }
    return { advance: pen, pieces };
  };
  const fit = (text: string, maxWidth: number): string => {
    const full = layout(text);
    if (full.advance <= maxWidth || full.pieces.length < 2) return text;
    const room = maxWidth - layout(ELLIPSIS).advance;
    let kept = '';
    for (const piece of full.pieces) {
      if (piece.end > room) break;
      kept += piece.char;
    }
    return `${kept.trimEnd()}${ELLIPSIS}`;
  };
  return { layout, fit };
}
