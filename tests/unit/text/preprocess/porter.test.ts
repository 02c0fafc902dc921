import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PorterStemmer, porterStem, type PorterMode } from '../../../../src/text/preprocess/porter.js';
import { ROOT } from '../../../helpers.js';

// Martin Porter's published test vocabulary and NLTK's expected stems for it (tests/fixtures/porter/README.md).
const FIXTURES = join(ROOT, 'tests/fixtures/porter');
const lines = (file: string): string[] => readFileSync(join(FIXTURES, file), 'utf8').split('\n').slice(0, -1);
const vocabulary = lines('porter_vocabulary.txt');

const EXPECTED: Record<PorterMode, string> = {
  // tartarus.org/martin/PorterStemmer/output.txt: the output of Porter's own implementation.
  martin: 'porter_martin_output.txt',
  // NLTK's default mode, what `PorterStemmer().stem(word)` gives in a tutorial.
  nltk: 'porter_nltk_output.txt',
  // The algorithm exactly as the 1980 paper gives it.
  original: 'porter_original_output.txt',
};

describe('the Porter stemmer against the published vocabulary', () => {
  it('has all 23,531 words of the vocabulary and an expected stem for each, in every mode', () => {
    expect(vocabulary).toHaveLength(23531);
    for (const file of Object.values(EXPECTED)) expect(lines(file)).toHaveLength(23531);
  });

  it.each(Object.entries(EXPECTED))('stems every word as expected in %s mode', (mode, file) => {
    const stemmer = new PorterStemmer(mode as PorterMode);
    const expected = lines(file);
    const wrong = vocabulary.flatMap((word, index) => {
      const stem = stemmer.stem(word);
      return stem === expected[index] ? [] : [`${word} → ${stem}, expected ${expected[index]}`];
    });
    expect(wrong).toEqual([]);
  });

  it('differs between modes where NLTK documents it', () => {
    const [original, martin, nltk] = (['original', 'martin', 'nltk'] as const).map((mode) => new PorterStemmer(mode));
    // "abli" → "able" in the paper, "bli" → "ble" in Porter's implementation.
    expect([original!.stem('possibly'), martin!.stem('possibly')]).toEqual(['possibli', 'possibl']);
    // NLTK's irregular forms and its y → i only after a consonant.
    expect([martin!.stem('dying'), nltk!.stem('dying')]).toEqual(['dy', 'die']);
    expect([martin!.stem('enjoy'), nltk!.stem('enjoy')]).toEqual(['enjoi', 'enjoy']);
    expect(nltk!.stem('studies')).toBe('studi');
  });

  it('gives retrieval the published algorithm, leaving words of one or two letters alone', () => {
    expect(porterStem('classifiers')).toBe('classifi');
    expect(porterStem('as')).toBe('as');
    expect(new PorterStemmer('original').stem('as')).toBe('a');
  });
});
