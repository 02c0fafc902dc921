import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyseVader, sentiText, vaderLabel } from '../../../src/text/vader.js';
import { HAS_SHARED, SHARED } from '../../helpers.js';

/** The examples and scores printed in the vaderSentiment (reference Python) README. */
const PUBLISHED: Array<[string, { neg: number; neu: number; pos: number; compound: number }]> = [
  ['VADER is smart, handsome, and funny.', { neg: 0, neu: 0.254, pos: 0.746, compound: 0.8316 }],
  ['VADER is smart, handsome, and funny!', { neg: 0, neu: 0.248, pos: 0.752, compound: 0.8439 }],
  ['VADER is very smart, handsome, and funny.', { neg: 0, neu: 0.299, pos: 0.701, compound: 0.8545 }],
  ['VADER is VERY SMART, handsome, and FUNNY.', { neg: 0, neu: 0.246, pos: 0.754, compound: 0.9227 }],
  ['VADER is VERY SMART, handsome, and FUNNY!!!', { neg: 0, neu: 0.233, pos: 0.767, compound: 0.9342 }],
  ['VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!', { neg: 0, neu: 0.294, pos: 0.706, compound: 0.9469 }],
  ['VADER is not smart, handsome, nor funny.', { neg: 0.646, neu: 0.354, pos: 0, compound: -0.7424 }],
  ['The book was good.', { neg: 0, neu: 0.508, pos: 0.492, compound: 0.4404 }],
  ["At least it isn't a horrible book.", { neg: 0, neu: 0.637, pos: 0.363, compound: 0.431 }],
  ['The book was only kind of good.', { neg: 0, neu: 0.697, pos: 0.303, compound: 0.3832 }],
  ['The plot was good, but the characters are uncompelling and the dialog is not great.', { neg: 0.327, neu: 0.579, pos: 0.094, compound: -0.7042 }],
  ['Today SUX!', { neg: 0.779, neu: 0.221, pos: 0, compound: -0.5461 }],
  ["Today only kinda sux! But I'll get by, lol", { neg: 0.127, neu: 0.556, pos: 0.317, compound: 0.5249 }],
  ['Make sure you :) or :D today!', { neg: 0, neu: 0.294, pos: 0.706, compound: 0.8633 }],
  ['Not bad at all', { neg: 0, neu: 0.513, pos: 0.487, compound: 0.431 }],
];

describe('VADER', () => {
  it.each(PUBLISHED)('reproduces the published scores for "%s"', (text, expected) => {
    const result = analyseVader(text);
    expect({ neg: result.neg, neu: result.neu, pos: result.pos, compound: result.compound }).toEqual(expected);
  });

  it('labels by the standard thresholds', () => {
    expect([vaderLabel(0.05), vaderLabel(0.0499), vaderLabel(-0.0499), vaderLabel(-0.05)]).toEqual(['positive', 'neutral', 'neutral', 'negative']);
  });

  it('explains negation, "but", boosters, capitals and punctuation word by word', () => {
    const result = analyseVader('The plot was good, but the characters are uncompelling and the dialog is not great.');
    expect(result.contributions).toEqual([
      { word: 'good', lexicon: 1.9, valence: 0.95, rules: ['before "but" (×0.5)'] },
      { word: 'uncompelling', lexicon: -0.9, valence: -1.35, rules: ['after "but" (×1.5)'] },
      { word: 'great', lexicon: 3.1, valence: -3.441, rules: ['negated by "not" (×-0.74)', 'after "but" (×1.5)'] },
    ]);
    const loud = analyseVader('VADER is VERY SMART, handsome, and FUNNY!!!');
    expect(loud.contributions.find((c) => c.word === 'SMART')).toMatchObject({ lexicon: 1.7, rules: ['ALL CAPS (±0.733)', 'boosted by "VERY"'] });
    expect(loud.contributions.at(-1)).toEqual({ word: '!!!', lexicon: 0, valence: 0.876, rules: ['punctuation emphasis (! and ?)'] });
    expect(analyseVader("Today only kinda sux! But I'll get by, lol").contributions[0]!.rules).toContain('dampened by "kinda"');
  });

  it('sums the contributions into the compound score VADER reports', () => {
    const result = analyseVader('Not bad at all, really GOOD!');
    const sum = result.contributions.reduce((total, c) => total + c.valence, 0);
    expect(sum / Math.sqrt(sum * sum + 15)).toBeCloseTo(result.compound, 3);
  });

  it('scores empty and emoji-only text as neutral without failing', () => {
    expect(analyseVader('')).toMatchObject({ compound: 0, label: 'neutral', contributions: [] });
    expect(analyseVader('😀😀😀')).toMatchObject({ compound: 0, label: 'neutral' });
  });
});

describe("VADER's tokeniser", () => {
  /** The package's own algorithm: every punctuation + word pairing of the sentence, looked up per token. */
  const reference = (text: string): string[] => {
    const pairings = sentiText.get_words_plus_punc.call({ text });
    return text
      .split(/\s/)
      .filter((token) => token.length > 1)
      .map((token) => (Object.prototype.hasOwnProperty.call(pairings, token) ? pairings[token]! : token));
  };
  const ours = (text: string): string[] => sentiText.get_words_and_emoticons.call({ text });

  it.each([
    'Wow!!! This is GREAT?!?! ...really, really great.',
    '"quoted" (parens) !!!wow ?!?!huh !x a. hi! it\'s can\'t :) :-( <3 ;)',
    "end. .start ,, -dash- 'tick' \"dq\" ?? !?!? !?!word word!?! x!",
    'word!!!! twice!! repeated repeated! mixed.!',
    '',
  ])('splits "%s" as the package does', (text) => {
    expect(ours(text)).toEqual(reference(text));
  });

  it.skipIf(!HAS_SHARED)('splits all 4,200 tweets of the VADER paper as the package does', () => {
    const tweets = readFileSync(join(SHARED, 'data/vader-icwsm2014/tweets_GroundTruth.txt')).toString('latin1').split('\n').filter(Boolean);
    expect(tweets.length).toBeGreaterThan(4000);
    for (const line of tweets) {
      const text = line.split('\t').slice(2).join('\t');
      expect(ours(text)).toEqual(reference(text));
    }
  });
});
