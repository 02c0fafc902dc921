import type { Agreement } from '../vision/compare.js';
import type { Classification } from '../vision/classifier.js';
import type { MatchResult } from '../vision/clip.js';
import { loadTopics, type Topic } from './topics.js';

export interface Explanation {
  /** The knowledge-base topic to read next with /explain. */
  topic: string;
  title: string;
  /** One or two sentences from the note, plus where to read more. */
  text: string;
}

const TOPICS: ReadonlyMap<string, Topic> = loadTopics();

/** Every topic the code below can point to; a test checks they all exist. */
export const REFERENCED_TOPICS = [
  'cnn-vs-vit',
  'softmax-confidence',
  'pixels-vs-tokens',
  'clip-zero-shot',
  'lexicon-vs-learned-sentiment',
  'language-specificity',
  'vader-myths',
  'tokenization-vs-patches',
  'text-preprocessing',
  'image-preprocessing',
] as const;
type TopicId = (typeof REFERENCED_TOPICS)[number];

function explanation(id: TopicId): Explanation {
  const topic = TOPICS.get(id);
  if (!topic) throw new Error(`prompts/topics has no note "${id}"`);
  return { topic: id, title: topic.title, text: `${topic.summary} More: \`/explain topic:${id}\`` };
}

/** CNN and ViT disagree → inductive biases; an unsure top label → calibration; else pixels vs tokens. */
export function explainClassification(outcome: {
  agreement: Agreement | undefined;
  results: Classification[];
}): Explanation {
  if (outcome.agreement && !outcome.agreement.top1Agrees) return explanation('cnn-vs-vit');
  if (outcome.results.every((result) => (result.predictions[0]?.score ?? 0) < 0.3))
    return explanation('softmax-confidence');
  return explanation('pixels-vs-tokens');
}

/** Nearly flat CLIP scores → softmax over a closed set; else how CLIP's joint space works. */
export function explainMatch(result: Pick<MatchResult, 'matches'>): Explanation {
  const top = result.matches[0]?.score ?? 0;
  return top < 1.5 / Math.max(1, result.matches.length)
    ? explanation('softmax-confidence')
    : explanation('clip-zero-shot');
}

/** Non-English text → language-specificity; emoji VADER cannot score → its known gaps; else lexicon vs learned. */
export function explainSentiment(report: { notes: string[] }): Explanation {
  if (report.notes.some((note) => note.includes('non-English'))) return explanation('language-specificity');
  if (report.notes.some((note) => note.startsWith('Emoji'))) return explanation('vader-myths');
  return explanation('lexicon-vs-learned-sentiment');
}

/** A word split into many pieces or unknown characters → tokenization vs patches; else pixels vs tokens. */
export function explainTokenization(
  results: ReadonlyArray<{ splits: ReadonlyArray<{ pieces: readonly string[] }>; unknownCount: number }>,
): Explanation {
  const longest = Math.max(0, ...results.flatMap((result) => result.splits.map((split) => split.pieces.length)));
  if (longest >= 3 || results.some((result) => result.unknownCount > 0)) return explanation('tokenization-vs-patches');
  return explanation('pixels-vs-tokens');
}

/** /preprocess: the note on the side the user gave, text or image. */
export function explainPreprocessing(side: 'text' | 'image'): Explanation {
  return explanation(side === 'text' ? 'text-preprocessing' : 'image-preprocessing');
}
