import { readFile } from 'node:fs/promises';
import { isUserFacing, UserFacingError } from '../util/errors.js';
import type { TextClassifier } from './sentiment.js';
import { vaderScores } from './vader.js';

export interface RatedSentence {
  id: string;
  rating: number;
  text: string;
}

/** Reads the VADER paper's ground-truth format: id<TAB>mean human rating<TAB>text (Latin-1). */
export function parseGroundTruth(content: string): RatedSentence[] {
  const rows: RatedSentence[] = [];
  for (const line of content.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const [id, rating, ...rest] = line.split('\t');
    const value = Number(rating);
    if (!id || !Number.isFinite(value) || rest.length === 0) continue;
    rows.push({ id, rating: value, text: rest.join('\t') });
  }
  return rows;
}

export function pearson(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / n;
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i += 1) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}

type EngineReport = { r: number; sentencesPerSecond: number } | { unavailable: string };

/**
 * Pearson correlation of each engine's score with the human ratings, and its speed.
 * VADER's score is its compound; the transformer's is P(positive) − P(negative), both in [−1, 1].
 */
export async function evaluateSentiment(
  classifier: () => Promise<TextClassifier>,
  settings: { queueMax: number; batchMaxSize: number },
  path: string,
): Promise<{ sentences: number; engines: { vader: EngineReport; transformer: EngineReport } }> {
  let content: string;
  try {
    content = (await readFile(path)).toString('latin1');
  } catch {
    throw new UserFacingError(`Cannot read the ground-truth file ${path}.`, { code: 'usage' });
  }
  const rows = parseGroundTruth(content);
  if (rows.length < 3)
    throw new UserFacingError(`${path} has ${rows.length} usable lines; expected id<TAB>rating<TAB>text.`, {
      code: 'usage',
    });
  const ratings = rows.map((row) => row.rating);

  const vaderStarted = performance.now();
  const compounds = rows.map((row) => vaderScores(row.text).compound);
  const vaderSeconds = (performance.now() - vaderStarted) / 1000;
  const vader = { r: pearson(compounds, ratings), sentencesPerSecond: rows.length / vaderSeconds };

  let transformer: EngineReport;
  try {
    const transformerModel = await classifier();
    const started = performance.now();
    // Enough requests in flight to fill batches, never more than the bounded queue accepts.
    const scores: number[] = new Array<number>(rows.length);
    let next = 0;
    const inFlight = Math.max(1, Math.min(settings.queueMax, settings.batchMaxSize * 2));
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < rows.length) {
          const index = next++;
          const result = await transformerModel.run(rows[index]!.text);
          scores[index] = (result.scores.POSITIVE ?? 0) - (result.scores.NEGATIVE ?? 0);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    transformer = { r: pearson(scores, ratings), sentencesPerSecond: rows.length / seconds };
  } catch (error) {
    transformer = { unavailable: isUserFacing(error) ? error.message : String(error) };
  }
  return { sentences: rows.length, engines: { vader, transformer } };
}
