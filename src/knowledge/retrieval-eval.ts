import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { retrieveNotes } from './ask.js';
import type { TopicRetriever } from './retriever.js';
import { PROMPTS_DIR } from './topics.js';

/**
 * One study question and the note that should answer it; `expected: null` marks an off-topic
 * question, which must get the "I can help with…" answer. `split` is fixed in the file: the
 * held-out questions are not looked at while tuning the retriever, so their figures show
 * whether the tuning generalises.
 */
const questionSchema = z.strictObject({
  question: z.string().trim().min(3),
  expected: z
    .string()
    .regex(/^[a-z0-9-]+$/)
    .nullable(),
  split: z.enum(['tuning', 'held-out']),
});
export type RetrievalQuestion = z.infer<typeof questionSchema>;

export const QUESTIONS_FILE = join(PROMPTS_DIR, 'retrieval', 'questions.json');

/** Reads and validates the question set; every expected note must exist, so a renamed note fails loudly. */
export function loadRetrievalQuestions(noteIds: ReadonlySet<string>, path = QUESTIONS_FILE): RetrievalQuestion[] {
  const parsed = z
    .array(questionSchema)
    .min(1)
    .safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success)
    throw new Error(
      `${path}: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
    );
  const unknown = parsed.data.filter((entry) => entry.expected !== null && !noteIds.has(entry.expected));
  if (unknown.length > 0)
    throw new Error(`${path}: no note with id ${[...new Set(unknown.map((entry) => entry.expected))].join(', ')}`);
  return parsed.data;
}

export interface RetrievalFigures {
  questions: number;
  /** Questions that expect a note. */
  onTopic: number;
  /** Share of on-topic questions whose note comes first; an out-of-scope answer counts as a miss. */
  recallAt1: number;
  /** Share of on-topic questions whose note is among the three /ask retrieves. */
  recallAt3: number;
  offTopic: number;
  /** Off-topic questions that got the out-of-scope answer. */
  offTopicCorrect: number;
}

export interface RetrievalMiss {
  question: string;
  split: RetrievalQuestion['split'];
  expected: string | null;
  /** The notes /ask retrieved, best first; empty when it answered out of scope. */
  retrieved: string[];
}

export interface RetrievalReport extends RetrievalFigures {
  tuning: RetrievalFigures;
  heldOut: RetrievalFigures;
  /** On-topic questions whose note was not first, and off-topic questions that got notes. */
  misses: RetrievalMiss[];
}

interface Outcome {
  entry: RetrievalQuestion;
  retrieved: string[];
}

function figures(outcomes: Outcome[]): RetrievalFigures {
  const onTopic = outcomes.filter(({ entry }) => entry.expected !== null);
  const offTopic = outcomes.filter(({ entry }) => entry.expected === null);
  const share = (hits: number): number =>
    onTopic.length === 0 ? 0 : Math.round((hits / onTopic.length) * 1000) / 1000;
  const foundWithin = (k: number): number =>
    onTopic.filter(({ entry, retrieved }) => retrieved.slice(0, k).includes(entry.expected!)).length;
  return {
    questions: outcomes.length,
    onTopic: onTopic.length,
    recallAt1: share(foundWithin(1)),
    recallAt3: share(foundWithin(3)),
    offTopic: offTopic.length,
    offTopicCorrect: offTopic.filter(({ retrieved }) => retrieved.length === 0).length,
  };
}

/** Asks every question through the same retrieval and scope decision as /ask (no LLM), and scores it. */
export function evaluateRetrieval(retriever: TopicRetriever, questions: RetrievalQuestion[]): RetrievalReport {
  const outcomes = questions.map((entry): Outcome => {
    const { passages } = retrieveNotes(retriever, entry.question);
    return { entry, retrieved: passages.map((passage) => passage.topicId) };
  });
  const misses = outcomes
    .filter(({ entry, retrieved }) =>
      entry.expected === null ? retrieved.length > 0 : retrieved[0] !== entry.expected,
    )
    .map(({ entry, retrieved }) => ({
      question: entry.question,
      split: entry.split,
      expected: entry.expected,
      retrieved,
    }));
  return {
    ...figures(outcomes),
    tuning: figures(outcomes.filter(({ entry }) => entry.split === 'tuning')),
    heldOut: figures(outcomes.filter(({ entry }) => entry.split === 'held-out')),
    misses,
  };
}
