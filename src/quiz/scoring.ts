/**
 * How a /quiz round is scored, as a pure function of the round and its answers:
 *
 * - a member's **first** answer is the one that counts (the store keeps only one; a second is
 *   refused, and this function ignores any that reach it);
 * - an answer given at or after the round's deadline, or before it started, does not count at all:
 *   no points and not counted as a round played;
 * - a right answer earns {@link POINTS}.correct (1); the **first** right answer of the round earns
 *   {@link POINTS}.fastest (1) more, so speed matters a little but knowing matters most;
 * - a wrong answer earns 0 and still counts as a round played.
 */
export const POINTS = { correct: 1, fastest: 1 } as const;

export interface QuizAnswer {
  userId: string;
  choice: string;
  /** When the press was recorded (ms on the clock rounds are timed with). */
  answeredAt: number;
}

export interface ScoredAnswer extends QuizAnswer {
  correct: boolean;
  /** The round's first right answer. */
  fastest: boolean;
  points: number;
}

export interface ScoredRound {
  correct: string;
  startedAt: number;
  deadline: number;
}

/** Whether a round still takes answers at `now`: from its start until (not including) its deadline. */
export const acceptsAnswers = (round: Pick<ScoredRound, 'startedAt' | 'deadline'>, now: number): boolean =>
  now >= round.startedAt && now < round.deadline;

/** The answers that count, one per member, in the order given, each with its points. */
export function scoreRound(round: ScoredRound, answers: readonly QuizAnswer[]): ScoredAnswer[] {
  // Earliest first; equal times keep the order given (the order the store recorded them in).
  const ordered = answers
    .map((answer, index) => ({ answer, index }))
    .sort((a, b) => a.answer.answeredAt - b.answer.answeredAt || a.index - b.index)
    .map(({ answer }) => answer);
  const seen = new Set<string>();
  let fastestTaken = false;
  const scored: ScoredAnswer[] = [];
  for (const answer of ordered) {
    if (seen.has(answer.userId) || !acceptsAnswers(round, answer.answeredAt)) continue;
    seen.add(answer.userId);
    const correct = answer.choice === round.correct;
    const fastest = correct && !fastestTaken;
    if (fastest) fastestTaken = true;
    scored.push({
      ...answer,
      correct,
      fastest,
      points: correct ? POINTS.correct + (fastest ? POINTS.fastest : 0) : 0,
    });
  }
  return scored;
}
