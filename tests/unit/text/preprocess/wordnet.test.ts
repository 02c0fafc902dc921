import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadWordNet, WORDNET_POS, type WordNet } from '../../../../src/text/preprocess/wordnet.js';
import { ROOT } from '../../../helpers.js';

let wordnet: WordNet;
beforeAll(async () => {
  wordnet = await loadWordNet();
});

describe('WordNet lemmatization (NLTK Morphy)', () => {
  it('takes irregular forms from the exception lists', () => {
    expect(wordnet.lemmatize('better', 'a')).toBe('good');
    expect(wordnet.lemmatize('geese', 'n')).toBe('goose');
    expect(wordnet.lemmatize('ran', 'v')).toBe('run');
    expect(wordnet.lemmatize('better', 'r')).toBe('well');
    // NLTK keeps the first of equally short lemmas: "best" and "good" are both four letters.
    expect(wordnet.morphy('best', 'a')).toEqual(['best', 'good']);
    expect(wordnet.lemmatize('best', 'a')).toBe('best');
  });

  it('detaches suffixes by part of speech, checking each form against the index', () => {
    expect(wordnet.lemmatize('studies', 'n')).toBe('study');
    expect(wordnet.lemmatize('studies', 'v')).toBe('study');
    expect(wordnet.lemmatize('churches')).toBe('church');
    expect(wordnet.lemmatize('running', 'v')).toBe('run');
    expect(wordnet.lemmatize('better')).toBe('better');
    // Not in WordNet under any part of speech: the word comes back as it was.
    expect(wordnet.lemmatize("n't")).toBe("n't");
  });

  it('ships its exception lists in the Docker image beside the compiled bot', () => {
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).toMatch(/^COPY models\/wordnet \.\/models\/wordnet$/m);
  });

  it('gives NLTK’s lemma for every word of Porter’s vocabulary and every exception form, in every part of speech', () => {
    const lines = readFileSync(join(ROOT, 'tests/fixtures/nltk/lemmas.tsv'), 'utf8').split('\n').slice(0, -1);
    expect(lines.length).toBeGreaterThan(28000);
    const wrong = lines.flatMap((line) => {
      const [word, ...expected] = line.split('\t') as [string, ...string[]];
      return WORDNET_POS.flatMap((pos, index) => {
        const want = expected[index] === '=' ? word : expected[index];
        const got = wordnet.lemmatize(word, pos);
        return got === want ? [] : [`${word}/${pos}: ${got}, NLTK ${want}`];
      });
    });
    expect(wrong).toEqual([]);
  });
});
