import { beforeAll, describe, expect, it } from 'vitest';
import { classicPipeline } from '../../../../src/text/preprocess/pipeline.js';
import { NLTK_ENGLISH_STOP_WORDS, isStopWord } from '../../../../src/text/preprocess/stop-words.js';
import { splitSentences } from '../../../../src/text/preprocess/sentences.js';
import { loadWordNet, type WordNet } from '../../../../src/text/preprocess/wordnet.js';

let wordnet: WordNet;
beforeAll(async () => {
  wordnet = await loadWordNet();
});

const tokensOf = (text: string): Record<string, string[]> =>
  Object.fromEntries(classicPipeline(text, wordnet).steps.map((step) => [step.name, step.tokens]));

describe('the classic preprocessing pipeline', () => {
  it('shows the text after each step, from sentences to lemmas', () => {
    const steps = tokensOf("The studies weren't better than the geese that ran. It isn't good!");
    expect(steps['sentence split']).toEqual(["The studies weren't better than the geese that ran.", "It isn't good!"]);
    expect(steps['word tokenize']).toEqual(
      "The studies were n't better than the geese that ran . It is n't good !".split(' '),
    );
    expect(steps['lowercase']![0]).toBe('the');
    expect(steps['remove punctuation']).not.toContain('.');
    expect(steps['remove stop words']).toEqual(['studies', "n't", 'better', 'geese', 'ran', "n't", 'good']);
    expect(steps['Porter stem']).toEqual(['studi', "n't", 'better', 'gees', 'ran', "n't", 'good']);
    expect(steps['WordNet lemmatize']).toEqual(['study', "n't", 'good', 'goose', 'run', "n't", 'good']);
  });

  it('lemmatizes by a guessed part of speech, and says why', () => {
    const { lemmas, stems } = classicPipeline('She ran to better the studies; the film was better', wordnet);
    const find = (word: string, pos: string) => lemmas.find((lemma) => lemma.word === word && lemma.pos === pos);
    expect(find('ran', 'v')).toMatchObject({ lemma: 'run' });
    expect(find('better', 'v')).toMatchObject({ lemma: 'better', posReason: 'after “to”' });
    expect(find('better', 'a')).toMatchObject({ lemma: 'good', posReason: 'after “was”' });
    expect(find('studies', 'n')).toMatchObject({ lemma: 'study' });
    expect(stems.find((stem) => stem.word === 'studies')).toEqual({ word: 'studies', stem: 'studi' });
  });

  it('says when the stop-word list removes a negation, and scores the lemmas as the preprocessed text', () => {
    const result = classicPipeline('This is not a good movie', wordnet);
    expect(result.removedNegations).toEqual(['not']);
    expect(result.preprocessed).toBe('good movie');
    expect(result.notes.join(' ')).toMatch(/removed "not"/);
  });

  it('leaves nothing when every word is a stop word, and says so', () => {
    const result = classicPipeline('It is what it is, and so are they.', wordnet);
    expect(result.steps.at(-1)!.tokens).toEqual([]);
    expect(result.preprocessed).toBe('');
    expect(result.notes.join(' ')).toMatch(/Every word is on the stop-word list/);
  });

  it('leaves nothing when the text is only punctuation, and says so', () => {
    const result = classicPipeline('?!... --- ;;', wordnet);
    expect(result.steps.find((step) => step.name === 'remove punctuation')!.tokens).toEqual([]);
    expect(result.notes.join(' ')).toMatch(/no words here, only punctuation/);
  });

  it('drops emoji with the punctuation, and says the subword tokenizers keep them', () => {
    const result = classicPipeline('I love it 😀 🎉', wordnet);
    expect(result.steps.find((step) => step.name === 'remove punctuation')!.tokens).toEqual(['i', 'love', 'it']);
    expect(result.notes.join(' ')).toMatch(/Emoji \(😀 🎉\)/);
  });

  it('does not apply the English-only steps to a non-English text', () => {
    const result = classicPipeline('Привет, как дела? Это очень хороший фильм.', wordnet);
    expect(result.steps.map((step) => step.name)).toEqual([
      'sentence split',
      'word tokenize',
      'lowercase',
      'remove punctuation',
    ]);
    expect(result.lemmas).toEqual([]);
    expect(result.notes.join(' ')).toMatch(/mostly non-English .* do not apply/);
  });
});

describe('the pieces of the pipeline', () => {
  it("uses NLTK's English stop-word list of 179 words, with the negations on it", () => {
    expect(NLTK_ENGLISH_STOP_WORDS).toHaveLength(179);
    expect(new Set(NLTK_ENGLISH_STOP_WORDS).size).toBe(179);
    for (const word of ['not', 'no', 'nor', "isn't", 'the']) expect(isStopWord(word)).toBe(true);
    expect(isStopWord("n't")).toBe(false);
  });

  it('splits sentences at final punctuation, but not after an abbreviation or an initial', () => {
    expect(splitSentences('Dr. Smith arrived. He was late! Was he? "Yes." J. Doe left.')).toEqual([
      'Dr. Smith arrived.',
      'He was late!',
      'Was he?',
      '"Yes."',
      'J. Doe left.',
    ]);
    expect(splitSentences('It costs 3.5 dollars. OK')).toEqual(['It costs 3.5 dollars.', 'OK']);
    expect(splitSentences('no end')).toEqual(['no end']);
  });
});
