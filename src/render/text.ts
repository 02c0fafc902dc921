import { createCanvas, type Canvas, type SKRSContext2D } from '@napi-rs/canvas';

/**
 * Text for the cards, shaped, kerned and rasterised by Skia. The family is named so that every
 * machine draws the same letters: DejaVu Sans is in the Docker image (fonts-dejavu-core); where
 * it is missing, Skia falls back to the system's sans-serif.
 */
export const FONT_FAMILY = '"DejaVu Sans", sans-serif';
const ELLIPSIS = '…';

export interface TextStyle {
  size: number;
  bold?: boolean;
}

/** The CSS font shorthand Skia parses for a style. */
const fontFor = (style: TextStyle): string => `${style.bold ? 'bold ' : ''}${style.size}px ${FONT_FAMILY}`;

/** Sets a context's font and kerning for a style; measuring and drawing then use it. */
export function useStyle(context: SKRSContext2D, style: TextStyle): void {
  context.font = fontFor(style);
  context.fontKerning = 'normal';
}

/** Control characters (tabs, newlines) would only confuse a one-line layout: they become spaces. */
export const printable = (text: string): string => text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/** A text as it will be drawn, and its width in pixels. */
export interface FittedText {
  text: string;
  width: number;
}

/**
 * The text, or the longest start of it that fits `maxWidth` pixels followed by an ellipsis, as
 * measured in the context's current font. Cuts fall between graphemes, so an emoji sequence or a
 * letter with its accents is kept or dropped whole. Empty when not even the ellipsis fits.
 */
export function fitText(context: SKRSContext2D, text: string, maxWidth: number): FittedText {
  const measured = (candidate: string): FittedText => ({
    text: candidate,
    width: context.measureText(candidate).width,
  });
  const whole = measured(printable(text));
  if (whole.width <= maxWidth) return whole;
  const ellipsis = measured(ELLIPSIS);
  if (ellipsis.width > maxWidth) return { text: '', width: 0 };
  // Where each grapheme ends: keeping `kept` of them is the text up to ends[kept - 1].
  const clean = whole.text;
  const ends = Array.from(graphemes.segment(clean), (part) => part.index + part.segment.length);
  const shortened = (kept: number): FittedText =>
    measured(`${clean.slice(0, ends[kept - 1] ?? 0).trimEnd()}${ELLIPSIS}`);
  // Widths grow with the number of graphemes kept (give or take kerning), so a binary search finds
  // the longest start in a handful of measurements; whatever it returns has been measured to fit.
  let best = ellipsis;
  let low = 1;
  let high = ends.length - 1;
  while (low <= high) {
    const middle = Math.floor((low + high) / 2);
    const candidate = shortened(middle);
    if (candidate.width <= maxWidth) {
      best = candidate;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return best;
}

/**
 * The text broken into at most `maxLines` lines of at most `maxWidth` pixels, at spaces; what is
 * left for the last line, and any single word wider than a line, is shortened with an ellipsis.
 */
export function wrapText(context: SKRSContext2D, text: string, maxWidth: number, maxLines: number): string[] {
  const words = printable(text)
    .split(' ')
    .filter((word) => word.length > 0);
  const lines: string[] = [];
  let line: string[] = [];
  for (const [index, word] of words.entries()) {
    if (line.length > 0 && context.measureText([...line, word].join(' ')).width > maxWidth) {
      if (lines.length >= maxLines - 1) {
        line.push(...words.slice(index));
        break;
      }
      lines.push(fitText(context, line.join(' '), maxWidth).text);
      line = [];
    }
    line.push(word);
  }
  if (line.length > 0) lines.push(fitText(context, line.join(' '), maxWidth).text);
  return lines;
}

/**
 * Loads the typefaces and renders the glyphs of these styles once, so that the first card of a
 * process does not pay for opening the font files; Skia's glyph cache is shared by every canvas.
 * Returns the small canvas it drew on.
 */
export function warmFonts(styles: readonly TextStyle[], sample: string): Canvas {
  const canvas = createCanvas(16, 16);
  const context = canvas.getContext('2d');
  for (const style of styles) {
    useStyle(context, style);
    context.measureText(sample);
    context.fillText(sample, 0, 12);
  }
  // Drawing is recorded and rasterised when the pixels are read.
  canvas.data();
  return canvas;
}
