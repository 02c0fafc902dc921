/**
 * Python 3's string and rounding semantics, where they differ from JavaScript's, for code ported
 * from Python that must give the same numbers (VADER). Each helper names the Python it mirrors.
 */

/** The code points Python's `str.isspace()` accepts (what `str.split()` and `str.strip()` remove); all are in the BMP. */
export function isPythonWhitespace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d) || (code >= 0x1c && code <= 0x1f);
  if (code < 0x85) return false;
  return (
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}

/**
 * `text.split()`: the runs of non-whitespace, by Python's whitespace (which, unlike JavaScript's
 * `\s`, includes U+001C–U+001F and U+0085 but not U+FEFF). When `starts` is given, the offset of
 * each word in `text` is pushed onto it.
 */
export function splitPythonWhitespace(text: string, starts?: number[]): string[] {
  const words: string[] = [];
  let start = -1;
  for (let index = 0; index < text.length; index += 1) {
    if (isPythonWhitespace(text.charCodeAt(index))) {
      if (start >= 0) {
        words.push(text.slice(start, index));
        starts?.push(start);
        start = -1;
      }
    } else if (start < 0) {
      start = index;
    }
  }
  if (start >= 0) {
    words.push(text.slice(start));
    starts?.push(start);
  }
  return words;
}

/** `text.strip()`: without whitespace at either end, by Python's whitespace. */
export function stripPythonWhitespace(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isPythonWhitespace(text.charCodeAt(start))) start += 1;
  while (end > start && isPythonWhitespace(text.charCodeAt(end - 1))) end -= 1;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/** Python's `string.punctuation`: the 32 ASCII punctuation characters. */
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'.split('').map((mark) => mark.charCodeAt(0)));

/** `text.strip(string.punctuation)`. */
export function stripAsciiPunctuation(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && PUNCTUATION.has(text.charCodeAt(start))) start += 1;
  while (end > start && PUNCTUATION.has(text.charCodeAt(end - 1))) end -= 1;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/** `len(text)`: Python counts code points, JavaScript's `length` UTF-16 units (an emoji is 1 in Python, 2 here). */
export function codePointLength(text: string): number {
  let surrogatePairs = 0;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        surrogatePairs += 1;
        index += 1;
      }
    }
  }
  return text.length - surrogatePairs;
}

const LOWERCASE_OR_TITLECASE = /[\p{Lowercase}\p{Lt}]/u;
const UPPERCASE = /\p{Uppercase}/u;

/**
 * `text.isupper()`: at least one uppercase character and no lowercase or titlecase one, by the
 * Unicode properties CPython uses ("Uppercase", "Lowercase", category Lt). So "SUX!" and "ÉTÉ"
 * are upper, ":)" and "123" are not.
 */
export function isPythonUpper(text: string): boolean {
  let cased = false;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code >= 0x80) return !LOWERCASE_OR_TITLECASE.test(text) && UPPERCASE.test(text);
    if (code >= 0x61 && code <= 0x7a) return false;
    if (code >= 0x41 && code <= 0x5a) cased = true;
  }
  return cased;
}

/**
 * Python 3's `round(value, digits)`: the float nearest to `value` rounded to `digits` decimals,
 * where `value` is taken exactly (0.0625 is exactly 1/16, 2.675 is really 2.67499999…) and an
 * exact tie goes to the even digit, as CPython's correctly rounded dtoa does. `toFixed` rounds the
 * exact value too, but sends ties away from zero (0.0625 → "0.063" where Python gives 0.062).
 */
export function pythonRound(value: number, digits: number): number {
  if (!Number.isFinite(value)) return value;
  const scale = 10 ** digits;
  const scaled = value * scale;
  // Away from a tie, the float product's error (under 1e-7 at this size) cannot change the
  // nearest integer n, and n / scale is the float nearest n·10^-digits, as Python's strtod gives.
  if (Math.abs(scaled) < 1e9 && Math.abs(Math.abs(scaled - Math.trunc(scaled)) - 0.5) > 1e-6)
    return Math.round(scaled) / scale;
  // An exact tie at `digits` decimals is an odd multiple of 2^-(digits+1); scaling by a power of two is exact.
  const halves = value * 2 ** (digits + 1);
  if (Number.isInteger(halves) && halves % 2 !== 0 && Math.abs(halves) * 5 ** digits < 2 ** 53) {
    const below = Math.floor(scaled); // scaled = halves * 5^digits / 2: a half-integer, exact at this size
    const even = below % 2 === 0 ? below : below + 1;
    return even / scale;
  }
  // Near a tie but not on one: toFixed rounds the exact binary value, as Python does.
  return Number(value.toFixed(digits));
}
