import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nltkWordTokenize, treebankTokenize } from '../../../../src/text/preprocess/word-tokenizer.js';
import { ROOT } from '../../../helpers.js';

// NLTK's own output for each sentence, from tests/fixtures/nltk/generate.py.
const reference = JSON.parse(readFileSync(join(ROOT, 'tests/fixtures/nltk/tokens.json'), 'utf8')) as Array<{
  text: string;
  word_tokenize: string[];
  treebank: string[];
}>;

describe('Treebank word tokenization', () => {
  it.each(reference.map((entry) => [entry.text, entry] as const))(
    'tokenizes %j exactly as NLTK does',
    (_text, entry) => {
      expect(nltkWordTokenize(entry.text)).toEqual(entry.word_tokenize);
      expect(treebankTokenize(entry.text)).toEqual(entry.treebank);
    },
  );

  it('splits contractions the Treebank way', () => {
    expect(nltkWordTokenize("isn't")).toEqual(['is', "n't"]);
    expect(nltkWordTokenize("can't")).toEqual(['ca', "n't"]);
    expect(nltkWordTokenize("They'll go")).toEqual(['They', "'ll", 'go']);
    expect(nltkWordTokenize('I cannot, gonna')).toEqual(['I', 'can', 'not', ',', 'gon', 'na']);
  });

  it("turns double quotes into `` and '' and stands punctuation alone, but keeps numbers and inner periods", () => {
    expect(nltkWordTokenize('He said "no" and left.')).toEqual(['He', 'said', '``', 'no', "''", 'and', 'left', '.']);
    expect(nltkWordTokenize('It costs $3.88, in New York. Thanks!')).toEqual([
      'It',
      'costs',
      '$',
      '3.88',
      ',',
      'in',
      'New',
      'York.',
      'Thanks',
      '!',
    ]);
  });

  it('splits curly quotes only in word_tokenize, the improved tokenizer', () => {
    expect(nltkWordTokenize('“Hello,” she said')).toEqual(['“', 'Hello', ',', '”', 'she', 'said']);
    expect(treebankTokenize('“Hello,” she said')).toEqual(['“Hello', ',', '”', 'she', 'said']);
  });
});
