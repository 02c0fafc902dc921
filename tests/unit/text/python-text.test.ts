import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  codePointLength,
  isPythonUpper,
  pythonRound,
  splitPythonWhitespace,
  stripAsciiPunctuation,
  stripPythonWhitespace,
} from '../../../src/text/python-text.js';
import { ROOT } from '../../helpers.js';

/** Values rounded by Python 3 itself (scripts/vader/reference.py). */
const ROUNDING = (
  JSON.parse(readFileSync(join(ROOT, 'tests/fixtures/vader-reference.json'), 'utf8')) as {
    rounding: Array<{ value: number; digits: number; python: number }>;
  }
).rounding;

describe('Python string semantics', () => {
  it('splits on whitespace as str.split() does', () => {
    expect(splitPythonWhitespace('  a\tb\nc\u00a0d\u0085e\u001ff\u3000g  ')).toEqual([
      'a',
      'b',
      'c',
      'd',
      'e',
      'f',
      'g',
    ]);
    // U+FEFF and U+200B are whitespace to neither Python nor VADER (JavaScript's \s has U+FEFF).
    expect(splitPythonWhitespace('a\ufeffb\u200bc')).toEqual(['a\ufeffb\u200bc']);
    const starts: number[] = [];
    expect(splitPythonWhitespace(' ab  c', starts)).toEqual(['ab', 'c']);
    expect(starts).toEqual([1, 5]);
    expect(splitPythonWhitespace('')).toEqual([]);
    expect(stripPythonWhitespace('\u0085 x \u00a0')).toBe('x');
  });

  it('strips string.punctuation from both ends only', () => {
    expect(stripAsciiPunctuation('"(good)!"')).toBe('good');
    expect(stripAsciiPunctuation("isn't")).toBe("isn't");
    expect(stripAsciiPunctuation('¡hola!')).toBe('¡hola');
    expect(stripAsciiPunctuation('!?!')).toBe('');
  });

  it('counts code points as len() does', () => {
    expect(['ab', '😀', '😀x', '👍🏽'].map(codePointLength)).toEqual([2, 1, 2, 2]);
  });

  it('tells ALL CAPS as str.isupper() does', () => {
    expect(['SUX!', 'ÉTÉ', 'VERY', 'I', ':D'].map(isPythonUpper)).toEqual([true, true, true, true, true]);
    expect([':)', '123', 'Good', 'ǅ', 'straSSe', 'ÇA va', ''].map(isPythonUpper)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it.each(ROUNDING.map((entry): [number, number, number] => [entry.value, entry.digits, entry.python]))(
    'rounds %d to %d digits as Python gives %d',
    (value, digits, python) => {
      expect(pythonRound(value, digits)).toBe(python);
    },
  );
});
