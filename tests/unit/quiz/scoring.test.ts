import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILT_IN_IMAGES, QUIZ_IMAGES_DIR } from '../../../src/quiz/content.js';
import { parseQuizButton, quizButtonId, newRoundId } from '../../../src/quiz/ids.js';
import { acceptsAnswers, scoreRound, type QuizAnswer } from '../../../src/quiz/scoring.js';

const T0 = Date.UTC(2026, 0, 1);
const round = { correct: 'a-cnn', startedAt: T0, deadline: T0 + 30_000 };
const at = (userId: string, choice: string, seconds: number): QuizAnswer => ({
  userId,
  choice,
  answeredAt: T0 + seconds * 1000,
});
const points = (answers: QuizAnswer[]): Record<string, number> =>
  Object.fromEntries(scoreRound(round, answers).map((answer) => [answer.userId, answer.points]));

describe('quiz scoring', () => {
  it('gives a right answer 1 point, the first right answer 1 more, and a wrong one 0', () => {
    // u1 wrong at 1 s, u2 right at 2 s (first right: 1 + 1), u3 right at 3 s (1).
    const scored = scoreRound(round, [at('u3', 'a-cnn', 3), at('u1', 'a-vit', 1), at('u2', 'a-cnn', 2)]);
    expect(scored.map(({ userId, correct, fastest, points }) => ({ userId, correct, fastest, points }))).toEqual([
      { userId: 'u1', correct: false, fastest: false, points: 0 },
      { userId: 'u2', correct: true, fastest: true, points: 2 },
      { userId: 'u3', correct: true, fastest: false, points: 1 },
    ]);
  });

  it('counts only the first answer of each member in a round', () => {
    // u1's first answer (wrong) stands; the right one after it earns nothing and is not a second round played.
    const scored = scoreRound(round, [at('u1', 'a-vit', 1), at('u1', 'a-cnn', 2), at('u2', 'a-cnn', 4)]);
    expect(scored).toHaveLength(2);
    expect(points([at('u1', 'a-vit', 1), at('u1', 'a-cnn', 2), at('u2', 'a-cnn', 4)])).toEqual({ u1: 0, u2: 2 });
  });

  it('ignores answers at or after the deadline, and before the start', () => {
    // 29.999 s is in time; 30 s (the deadline itself) and later are late; -1 s is before the round.
    expect(
      points([
        at('early', 'a-cnn', -1),
        at('late', 'a-cnn', 30),
        at('later', 'a-cnn', 45),
        at('just', 'a-cnn', 29.999),
      ]),
    ).toEqual({ just: 2 });
    expect(scoreRound(round, [at('late', 'a-cnn', 30)])).toEqual([]);
  });

  it('gives the speed bonus to the answer recorded first when two share a time', () => {
    expect(points([at('first', 'a-cnn', 5), at('second', 'a-cnn', 5)])).toEqual({ first: 2, second: 1 });
  });

  it('takes answers from the start until just before the deadline', () => {
    expect(acceptsAnswers(round, T0)).toBe(true);
    expect(acceptsAnswers(round, T0 + 29_999)).toBe(true);
    expect(acceptsAnswers(round, T0 + 30_000)).toBe(false);
    expect(acceptsAnswers(round, T0 - 1)).toBe(false);
  });
});

describe('quiz answer buttons', () => {
  it('round-trips a round id and a choice through a versioned custom_id', () => {
    const id = newRoundId();
    const customId = quizButtonId(id, 'a-vit');
    expect(customId).toMatch(/^sr1q:[A-Za-z0-9_-]{16}:a-vit$/);
    expect(parseQuizButton(customId)).toEqual({ round: id, choice: 'a-vit' });
  });

  it('refuses anything else strictly: other versions, follow-up ids, bad lengths and characters', () => {
    for (const forged of [
      'sr1:quiz:AAAAAAAAAAAAAAAA',
      'sr2q:AAAAAAAAAAAAAAAA:yes',
      'sr1q:AAAAAAAAAAAAAAA:yes',
      'sr1q:AAAAAAAAAAAAAAAA:',
      'sr1q:AAAAAAAAAAAAAAAA:YES',
      'sr1q:AAAAAAAAAAAAAAAA:yes:extra',
      'sr1q:AAAAAAAA/AAAAAAA:yes',
      `sr1q:AAAAAAAAAAAAAAAA:${'a'.repeat(17)}`,
    ]) {
      expect(parseQuizButton(forged), forged).toBeUndefined();
    }
    expect(() => quizButtonId('short', 'yes')).toThrow(/not a quiz button/);
  });
});

describe('built-in quiz images', () => {
  it('are all present and stay under 300 KB together', () => {
    const sizes = BUILT_IN_IMAGES.map((image) => statSync(join(QUIZ_IMAGES_DIR, image.file)).size);
    expect(sizes.every((size) => size > 1000)).toBe(true);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBeLessThan(300 * 1024);
  });
});
