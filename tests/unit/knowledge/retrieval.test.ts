import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIN_RELEVANCE, relevance, retrieveNotes } from '../../../src/knowledge/ask.js';
import { evaluateRetrieval, loadRetrievalQuestions } from '../../../src/knowledge/retrieval-eval.js';
import { indexRelatedTerms, terms, TopicRetriever, type ScoredPassage } from '../../../src/knowledge/retriever.js';
import { porterStem } from '../../../src/text/preprocess/porter.js';
import { loadTopics, type Topic } from '../../../src/knowledge/topics.js';

const topics = loadTopics();
const retriever = new TopicRetriever(topics.values());
const noteIds = new Set(topics.keys());

describe('the Porter stemmer', () => {
  // Porter's own examples (1980), step by step, and words from the notes.
  it.each([
    ['caresses', 'caress'],
    ['ponies', 'poni'],
    ['cats', 'cat'],
    ['feed', 'feed'],
    ['agreed', 'agre'],
    ['plastered', 'plaster'],
    ['motoring', 'motor'],
    ['sing', 'sing'],
    ['conflated', 'conflat'],
    ['hopping', 'hop'],
    ['falling', 'fall'],
    ['filing', 'file'],
    ['happy', 'happi'],
    ['relational', 'relat'],
    ['conditional', 'condit'],
    ['vietnamization', 'vietnam'],
    ['predication', 'predic'],
    ['decisiveness', 'decis'],
    ['hopefulness', 'hope'],
    ['sensibiliti', 'sensibl'],
    ['triplicate', 'triplic'],
    ['electrical', 'electr'],
    ['goodness', 'good'],
    ['allowance', 'allow'],
    ['replacement', 'replac'],
    ['adoption', 'adopt'],
    ['effective', 'effect'],
    ['probate', 'probat'],
    ['controll', 'control'],
    ['roll', 'roll'],
    ['generalizations', 'gener'],
    ['classifiers', 'classifi'],
    ['classify', 'classifi'],
    ['normalizing', 'normal'],
    ['normalized', 'normal'],
  ])('%s → %s', (word, stem) => {
    expect(porterStem(word)).toBe(stem);
  });
});

describe('how the retriever reads notes and questions', () => {
  it('meets British and American spellings and other forms of a word', () => {
    expect(terms('normalising colours')).toEqual(terms('normalized color'));
    expect(terms('analysed')).toEqual(terms('analyze'));
  });

  it('reads synonyms as one word', () => {
    expect(terms('photo')).toEqual(terms('image'));
    expect(terms('pictures')).toEqual(terms('images'));
  });

  it('reads a hyphenated word as its parts and as one word', () => {
    expect(terms('pre-training')).toEqual(expect.arrayContaining([...terms('pretraining'), ...terms('pre training')]));
  });

  it('indexes neighbouring words as a bigram, but not across punctuation', () => {
    expect(terms('stop words')).toContain('stop word');
    expect(terms('stop, words')).not.toContain('stop word');
  });

  it('drops function words in English and in other common languages, and keeps the ## mark', () => {
    expect(terms('What is the difference between them?')).toEqual([]);
    expect(terms('¿Qué es la cuantización?')).toEqual(['cuantizacion']);
    expect(terms('## pieces')).toContain('##');
  });

  it('rejects a vocabulary entry that is not one or two content words, or that reads like another', () => {
    expect(() => indexRelatedTerms({ 'the which': 'saliency' })).toThrow(/one or two words/);
    expect(() => indexRelatedTerms({ 'three whole words': 'saliency' })).toThrow(/one or two words/);
    expect(() => indexRelatedTerms({ photos: 'saliency', photo: 'attention' })).toThrow(/like another entry/);
  });
});

describe('the passage shown for a note', () => {
  const note = (id: string, body: string): Topic => ({
    id,
    title: `Notes on ${id}`,
    keywords: [id, 'notes', 'study'],
    commands: ['ask'],
    summary: `A note about ${id} for the tests of the passage choice.`,
    body,
    words: body.split(/\s+/).length,
    file: `${id}.md`,
    sources: ['written for this test'],
    tryIt: { prose: '', commands: [] },
  });
  const notes = [
    note(
      'quantization',
      [
        'Weights are stored as 8-bit integers.',
        'Why int8 is faster on a CPU:',
        '- **Memory.** int8 weights take a quarter of the bytes.\n- **Arithmetic.** More multiply-adds per instruction.',
        'Stemming is unlike lemmatization.',
        '- **Stemming** chops suffixes with rules, as the Porter stemmer does.\n- **Lemmatization** finds the dictionary form of each word.',
        '**Try it:** `/classify` a photo and read the footer, faster than any CPU.',
      ].join('\n\n'),
    ),
    note('robustness', 'Noise and blur lower accuracy.'),
  ];
  const shown = (question: string): string | undefined => new TopicRetriever(notes).search(question, 1)[0]?.text;

  it('joins a lead-in that ends in a colon to the list it introduces', () => {
    expect(shown('Why is int8 faster on a CPU?')).toMatch(/^Why int8 is faster on a CPU:\n\n- \*\*Memory/);
  });

  it('prefers the paragraph that explains over a shorter one that only names the words', () => {
    expect(shown('What is the difference between stemming and lemmatization?')).toMatch(/Porter/);
  });

  it('never shows the "Try it" line', () => {
    expect(shown('What do 8-bit weights and the footer of /classify show?')).not.toMatch(/Try it/);
  });
});

describe('the decision that a question is outside the notes', () => {
  const passage = (topicId: string, score: number, coverage: number): ScoredPassage => ({
    topicId,
    title: topicId,
    text: '',
    score,
    coverage,
  });
  /** A retriever that returns fixed passages, so the decision is tested apart from the ranking. */
  const returning = (passages: ScoredPassage[]): TopicRetriever =>
    ({ search: () => passages }) as unknown as TopicRetriever;

  it('keeps a question when a note below the first covers it, though the first covers little', () => {
    const first = passage('pixels-vs-tokens', 5.8, 0.3);
    const covering = passage('interpretability', 5.7, 1);
    expect(relevance(first)).toBeLessThan(MIN_RELEVANCE);
    expect(relevance(covering)).toBeGreaterThanOrEqual(MIN_RELEVANCE);
    const { outOfScope, passages } = retrieveNotes(returning([first, covering]), 'a question');
    expect(outOfScope).toBe(false);
    expect(passages.map((p) => p.topicId)).toEqual(['pixels-vs-tokens', 'interpretability']);
  });

  it('declines a question that none of the three notes covers', () => {
    const { outOfScope, passages } = retrieveNotes(
      returning([passage('robustness', 6, 0.2), passage('softmax-confidence', 5, 0.3)]),
      'a question',
    );
    expect(outOfScope).toBe(true);
    expect(passages).toEqual([]);
    expect(retrieveNotes(returning([]), 'a question').outOfScope).toBe(true);
  });
});

describe('the retrieval evaluation', () => {
  it('counts an out-of-scope answer to a study question as a miss, and lists what went wrong', () => {
    const report = evaluateRetrieval(retriever, [
      { question: 'What are the shifted windows in Swin?', expected: 'transformers-converge', split: 'tuning' },
      { question: 'What is quantization?', expected: 'scaling-laws', split: 'held-out' },
      { question: 'Zzzz qqqq?', expected: 'robustness', split: 'held-out' },
      { question: 'Who won the football world cup in 1998?', expected: null, split: 'tuning' },
    ]);
    expect(report).toMatchObject({ questions: 4, onTopic: 3, offTopic: 1, offTopicCorrect: 1 });
    expect(report.recallAt1).toBeCloseTo(1 / 3, 3);
    expect(report.tuning).toMatchObject({ onTopic: 1, recallAt1: 1 });
    expect(report.heldOut).toMatchObject({ onTopic: 2, recallAt1: 0 });
    expect(report.misses.map((miss) => [miss.question, miss.retrieved[0]])).toEqual([
      ['What is quantization?', 'quantization'],
      ['Zzzz qqqq?', undefined],
    ]);
  });

  it('refuses a question set that names a note that does not exist', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'questions-')), 'questions.json');
    writeFileSync(file, JSON.stringify([{ question: 'What is CLIP?', expected: 'clip', split: 'tuning' }]));
    expect(() => loadRetrievalQuestions(noteIds, file)).toThrow(/no note with id clip/);
    writeFileSync(file, JSON.stringify([{ question: 'What is CLIP?', expected: 'clip-zero-shot' }]));
    expect(() => loadRetrievalQuestions(noteIds, file)).toThrow(/split/);
  });
});

/**
 * The off-topic questions /ask still answers from the notes. It shares "language", "Spanish" and
 * "French" with the note on language-specific NLP, and word matching cannot tell learning a
 * language from how models handle one. Listed so that a new failure, or this one's fix, shows.
 */
const KNOWN_OFF_TOPIC_MISSES = ['Which language should I learn first, Spanish or French?'];

describe('retrieval on the study questions (prompts/retrieval/questions.json)', () => {
  const questions = loadRetrievalQuestions(noteIds);
  const report = evaluateRetrieval(retriever, questions);

  it('asks at least 60 study questions, several per note, 10 off-topic ones, and holds a third out', () => {
    expect(report.onTopic).toBeGreaterThanOrEqual(60);
    expect(report.offTopic).toBeGreaterThanOrEqual(10);
    for (const id of noteIds)
      expect(questions.filter((entry) => entry.expected === id).length, id).toBeGreaterThanOrEqual(3);
    expect(report.heldOut.questions / report.questions).toBeGreaterThanOrEqual(1 / 3);
  });

  it('finds the right note among the three /ask retrieves for 95% of them, and first for 80%', () => {
    expect(report.recallAt3).toBeGreaterThanOrEqual(0.95);
    expect(report.recallAt1).toBeGreaterThanOrEqual(0.8);
  });

  it('gives the off-topic questions the "I can help with…" answer', () => {
    const offTopicMisses = report.misses.filter((miss) => miss.expected === null).map((miss) => miss.question);
    expect(offTopicMisses).toEqual(KNOWN_OFF_TOPIC_MISSES);
    expect(report.offTopicCorrect).toBeGreaterThanOrEqual(10);
  });

  it('answers the question from the issue from the interpretability note instead of declining it', () => {
    const { passages, outOfScope } = retrieveNotes(retriever, 'Which part of the photo made the network decide?');
    expect(outOfScope).toBe(false);
    expect(passages[0]?.topicId).toBe('interpretability');
  });

  it('finds the CLIP note for questions about CLIP, which other notes mention in passing', () => {
    const first = (question: string): string | undefined => retrieveNotes(retriever, question).passages[0]?.topicId;
    for (const question of [
      'How was CLIP trained?',
      'How does CLIP classify images it was never trained on?',
      'How does CLIP learn to connect pictures with their captions?',
      'Why does CLIP need so many image-text pairs?',
      'How can the bot sort my photo into categories I just invented, without any retraining?',
    ])
      expect(first(question), question).toBe('clip-zero-shot');
    // The scaling note also gives CLIP's training data, so it may come first; the CLIP note must be there.
    const data = retrieveNotes(retriever, 'What data was CLIP trained on?').passages.map((passage) => passage.topicId);
    expect(data).toContain('clip-zero-shot');
  });
});
