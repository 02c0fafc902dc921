import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGroundTruth } from '../../../src/text/sentiment-eval.js';
import { analyseVader, vaderLabel, vaderScores, type VaderScores } from '../../../src/text/vader.js';
import { VADER_DATA_DIR, vaderLexicons } from '../../../src/text/vader-lexicon.js';
import { ROOT, SHARED } from '../../helpers.js';

/** The examples and scores printed in the vaderSentiment 3.3.2 README. */
const PUBLISHED: Array<[string, VaderScores]> = [
  ['VADER is smart, handsome, and funny.', { neg: 0, neu: 0.254, pos: 0.746, compound: 0.8316 }],
  ['VADER is smart, handsome, and funny!', { neg: 0, neu: 0.248, pos: 0.752, compound: 0.8439 }],
  ['VADER is very smart, handsome, and funny.', { neg: 0, neu: 0.299, pos: 0.701, compound: 0.8545 }],
  ['VADER is VERY SMART, handsome, and FUNNY.', { neg: 0, neu: 0.246, pos: 0.754, compound: 0.9227 }],
  ['VADER is VERY SMART, handsome, and FUNNY!!!', { neg: 0, neu: 0.233, pos: 0.767, compound: 0.9342 }],
  ['VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!', { neg: 0, neu: 0.294, pos: 0.706, compound: 0.9469 }],
  ['VADER is not smart, handsome, nor funny.', { neg: 0.646, neu: 0.354, pos: 0, compound: -0.7424 }],
  ['The book was good.', { neg: 0, neu: 0.508, pos: 0.492, compound: 0.4404 }],
  ['The book was only kind of good.', { neg: 0, neu: 0.697, pos: 0.303, compound: 0.3832 }],
  [
    'The plot was good, but the characters are uncompelling and the dialog is not great.',
    { neg: 0.327, neu: 0.579, pos: 0.094, compound: -0.7042 },
  ],
  ['Today SUX!', { neg: 0.779, neu: 0.221, pos: 0, compound: -0.5461 }],
  ["Today only kinda sux! But I'll get by, lol", { neg: 0.127, neu: 0.556, pos: 0.317, compound: 0.5249 }],
  ['Make sure you :) or :D today!', { neg: 0, neu: 0.294, pos: 0.706, compound: 0.8633 }],
  ['Not bad at all', { neg: 0, neu: 0.513, pos: 0.487, compound: 0.431 }],
];

/**
 * Two README lines were printed by an older VADER, and 3.3.2's own code (run on this machine, see
 * the reference fixture) gives other numbers: it keeps one-letter words such as "a" (one more
 * neutral word), and it reads emoji through their descriptions, which now include "heart".
 */
const README_OLDER_THAN_CODE: Array<[string, { readme: VaderScores; code: VaderScores }]> = [
  [
    "At least it isn't a horrible book.",
    {
      readme: { neg: 0, neu: 0.637, pos: 0.363, compound: 0.431 },
      code: { neg: 0, neu: 0.678, pos: 0.322, compound: 0.431 },
    },
  ],
  [
    'Catch utf-8 emoji such as 💘 and 💋 and 😁',
    {
      readme: { neg: 0, neu: 0.721, pos: 0.279, compound: 0.7003 },
      code: { neg: 0, neu: 0.583, pos: 0.417, compound: 0.875 },
    },
  ],
];

interface ReferenceScores extends VaderScores {
  text: string;
}
/** Written by scripts/vader/reference.py from the reference Python implementation. */
const REFERENCE = JSON.parse(readFileSync(join(ROOT, 'tests/fixtures/vader-reference.json'), 'utf8')) as {
  source: string;
  cases: ReferenceScores[];
  rounding: Array<{ value: number; digits: number; python: number }>;
  tweets?: { file: string; sha256: string; scores: Array<VaderScores & { id: string }> };
};

const TWEETS_FILE = join(SHARED, 'data/vader-icwsm2014/tweets_GroundTruth.txt');
const HAS_TWEETS = existsSync(TWEETS_FILE);
if (!HAS_TWEETS)
  console.warn(
    `${TWEETS_FILE} is absent: skipping the comparison with the reference VADER on the paper's 4,200 tweets`,
  );
/** The tweets as the evaluation reads them (Latin-1), which is how scripts/vader/reference.py reads them too. */
const readTweets = (): { sha256: string; rows: ReturnType<typeof parseGroundTruth> } => {
  const bytes = readFileSync(TWEETS_FILE);
  return { sha256: createHash('sha256').update(bytes).digest('hex'), rows: parseGroundTruth(bytes.toString('latin1')) };
};

const scoresOf = (result: VaderScores): VaderScores => ({
  neg: result.neg,
  neu: result.neu,
  pos: result.pos,
  compound: result.compound,
});
/** compound from a sum, as VADER normalises it. */
const normalise = (sum: number): number => sum / Math.sqrt(sum * sum + 15);

describe('VADER', () => {
  it.each(PUBLISHED)('reproduces the published scores for "%s"', (text, expected) => {
    expect(scoresOf(analyseVader(text))).toEqual(expected);
    expect(vaderScores(text)).toEqual(expected);
  });

  it.each(README_OLDER_THAN_CODE)(
    'gives what the 3.3.2 code gives, not its older README line, for "%s"',
    (text, { readme, code }) => {
      expect(scoresOf(analyseVader(text))).toEqual(code);
      expect(code).not.toEqual(readme);
      expect(REFERENCE.cases.find((reference) => reference.text === text)).toMatchObject(code);
    },
  );

  it('labels by the standard thresholds', () => {
    expect([vaderLabel(0.05), vaderLabel(0.0499), vaderLabel(-0.0499), vaderLabel(-0.05)]).toEqual([
      'positive',
      'neutral',
      'neutral',
      'negative',
    ]);
  });

  it('scores empty and whitespace-only text as neutral without failing', () => {
    expect(analyseVader('')).toEqual({
      neg: 0,
      neu: 0,
      pos: 0,
      compound: 0,
      label: 'neutral',
      contributions: [],
      emoji: [],
    });
    expect(analyseVader(' \t\n')).toMatchObject({ compound: 0, label: 'neutral', contributions: [] });
  });
});

describe('VADER against the reference Python implementation', () => {
  it('was generated from vaderSentiment 3.3.2', () => {
    expect(REFERENCE.source).toMatch(/^vaderSentiment 3\.3\.2 [0-9a-f]{40}$/);
    expect(REFERENCE.cases.length).toBeGreaterThan(100);
  });

  it.each(REFERENCE.cases.map((reference): [string, ReferenceScores] => [JSON.stringify(reference.text), reference]))(
    'gives exactly the reference scores for %s',
    (_, reference) => {
      const { text, ...expected } = reference;
      expect(vaderScores(text)).toEqual(expected);
      expect(scoresOf(analyseVader(text))).toEqual(expected);
    },
  );

  it.skipIf(!HAS_TWEETS)("gives exactly the reference scores for every one of the paper's 4,200 tweets", () => {
    const tweets = REFERENCE.tweets;
    if (!tweets)
      throw new Error(
        'tests/fixtures/vader-reference.json has no tweets: run scripts/vader/reference.py with --tweets',
      );
    const { sha256, rows } = readTweets();
    expect(sha256, `${TWEETS_FILE} is not the file the reference scored: regenerate the fixture`).toBe(tweets.sha256);
    expect(rows.map((row) => row.id)).toEqual(tweets.scores.map((score) => score.id));
    const mismatches = rows.flatMap((row, index) => {
      const { id, ...expected } = tweets.scores[index]!;
      const actual = vaderScores(row.text);
      return JSON.stringify(actual) === JSON.stringify(expected) && Object.is(actual.compound, expected.compound)
        ? []
        : [{ id, text: row.text, actual, expected }];
    });
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(mismatches).toHaveLength(0);
  });
});

describe("VADER's contributions", () => {
  const rulesOf = (text: string, word: string): string[] | undefined =>
    analyseVader(text).contributions.find((contribution) => contribution.word === word)?.rules;

  it('explains negation, "but", boosters, capitals and punctuation word by word', () => {
    const result = analyseVader('The plot was good, but the characters are uncompelling and the dialog is not great.');
    expect(result.contributions).toEqual([
      { word: 'good', lexicon: 1.9, valence: 0.95, rules: ['before "but" (×0.5)'] },
      { word: 'uncompelling', lexicon: -0.9, valence: -1.35, rules: ['after "but" (×1.5)'] },
      { word: 'great', lexicon: 3.1, valence: -3.441, rules: ['negated by "not" (×-0.74)', 'after "but" (×1.5)'] },
    ]);
    const loud = analyseVader('VADER is VERY SMART, handsome, and FUNNY!!!');
    expect(loud.contributions.find((c) => c.word === 'SMART')).toEqual({
      word: 'SMART',
      lexicon: 1.7,
      valence: 3.459,
      rules: ['ALL CAPS (±0.733)', 'boosted by "VERY"'],
    });
    expect(loud.contributions.at(-1)).toEqual({
      word: '!!!',
      lexicon: 0,
      valence: 0.876,
      rules: ['punctuation emphasis (! and ?)'],
    });
    expect(analyseVader("Today only kinda sux! But I'll get by, lol").contributions[0]).toEqual({
      word: 'sux',
      lexicon: -1.5,
      valence: -0.604,
      rules: ['dampened by "kinda"', 'before "but" (×0.5)'],
    });
  });

  it('names the phrase rules: idioms, "kind of", "least", "never so", "no" and negated boosters', () => {
    expect(analyseVader('This movie is the bomb').contributions).toEqual([
      { word: 'bomb', lexicon: -2.2, valence: 3, rules: ['idiom "the bomb" (valence 3)'] },
    ]);
    expect(rulesOf('The book was only kind of good.', 'good')).toEqual(['dampened by "kind of"']);
    expect(rulesOf('the least good', 'good')).toEqual(['negated by "least" (×-0.74)']);
    expect(rulesOf('This is at least good', 'good')).toEqual([]);
    expect(rulesOf('never so happy', 'happy')).toEqual(['boosted by "so"', 'emphasised by "never so" (×1.25)']);
    // The reference's condition also emphasises any word right after "so" or "this", three words in.
    expect(rulesOf('I have never been so happy', 'happy')).toEqual(['boosted by "so"', 'emphasised by "so" (×1.25)']);
    expect(rulesOf('no one happy', 'happy')).toEqual(['negated by "no" (×-0.74)']);
    expect(rulesOf('there is no love or hate', 'hate')).toEqual(['negated by "no" (×-0.74)']);
    // "no" before a lexicon word counts 0 itself: only the negated word contributes.
    expect(analyseVader('no good').contributions).toEqual([
      { word: 'good', lexicon: 1.9, valence: -1.406, rules: ['negated by "no" (×-0.74)'] },
    ]);
    expect(rulesOf('not very good', 'good')).toEqual(['boosted by "very"', 'negated by "not" (×-0.74)']);
  });

  it('counts one-letter words, which move the three-word negation window', () => {
    // "not a very good": "not" is three words before "good" and still negates it.
    expect(rulesOf('not a very good day', 'good')).toEqual(['boosted by "very"', 'negated by "not" (×-0.74)']);
    // Three words, two of them neutral (the npm port dropped "I" and gave neu 0.213).
    expect(analyseVader('I am happy').neu).toBe(0.351);
  });

  it('reads emoji as their descriptions and says which emoji a word came from', () => {
    const result = analyseVader('Catch utf-8 emoji such as 💘 and 💋 and 😁');
    expect(result.contributions.map((c) => [c.word, c.rules])).toEqual([
      ['heart', ['emoji 💘 read as "heart with arrow"']],
      ['kiss', ['emoji 💋 read as "kiss mark"']],
      ['smiling', ['emoji 😁 read as "beaming face with smiling eyes"']],
    ]);
    expect(result.emoji).toEqual([
      { emoji: '💘', description: 'heart with arrow', scored: true },
      { emoji: '💋', description: 'kiss mark', scored: true },
      { emoji: '😁', description: 'beaming face with smiling eyes', scored: true },
    ]);
    // A description runs into the word after it, as in the reference: "eyesgood" is no lexicon word.
    expect(analyseVader('😁good').contributions.map((c) => c.word)).toEqual(['smiling']);
    expect(analyseVader('🙂 ok').emoji).toEqual([{ emoji: '🙂', description: 'slightly smiling face', scored: true }]);
    expect(analyseVader('🚗').emoji).toEqual([{ emoji: '🚗', description: 'automobile', scored: false }]);
    // Sequences (flags, skin tones) are looked up one code point at a time, so a flag is no emoji to VADER.
    expect(analyseVader('🇫🇷').emoji).toEqual([]);
  });

  it('records the reference\'s "but" quirk on the word it actually changed', () => {
    // list.index() finds heart's halved 1.6 before "(-:"'s 1.6, so heart is halved twice and "(-:" keeps 1.6.
    expect(analyseVader('heart but (-:').contributions).toEqual([
      { word: 'heart', lexicon: 3.2, valence: 0.8, rules: ['before "but" (×0.5)', 'before "but" (×0.5)'] },
      { word: '(-:', lexicon: 1.6, valence: 1.6, rules: [] },
    ]);
  });

  it.each(REFERENCE.cases.map((reference) => reference.text))(
    'sum to the number VADER normalises into compound for %j',
    (text) => {
      const result = analyseVader(text);
      const sum = result.contributions.reduce((total, c) => total + c.valence, 0);
      expect(normalise(sum)).toBeCloseTo(result.compound, 3);
    },
  );

  it.skipIf(!HAS_TWEETS)("sum to the number VADER normalises into compound for each of the paper's tweets", () => {
    for (const row of readTweets().rows) {
      const result = analyseVader(row.text);
      const sum = result.contributions.reduce((total, c) => total + c.valence, 0);
      expect(Math.abs(normalise(sum) - result.compound), row.text).toBeLessThan(0.0005);
    }
  });
});

describe("VADER's lexicons", () => {
  it('are the 3.3.2 files, read once from models/vader', () => {
    const lexicons = vaderLexicons();
    expect(vaderLexicons()).toBe(lexicons);
    expect(VADER_DATA_DIR).toBe(join(ROOT, 'models/vader'));
    // 7,520 lines, 14 tokens listed twice (the later line wins, as in a Python dict).
    expect(lexicons.words.size).toBe(7506);
    expect(lexicons.words.get('good')).toBe(1.9);
    expect(lexicons.words.get(':)')).toBe(2);
    expect(lexicons.emoji.size).toBe(3570);
    expect(lexicons.emoji.get('😁')).toBe('beaming face with smiling eyes');
    expect(readFileSync(join(VADER_DATA_DIR, 'LICENSE.txt'), 'utf8')).toMatch(/^The MIT License[\s\S]*C\.J\. Hutto/);
  });

  it('ship in the Docker image beside the compiled bot', () => {
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).toMatch(/^COPY models\/vader \.\/models\/vader$/m);
  });
});
