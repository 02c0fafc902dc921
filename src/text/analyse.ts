import type { Services } from '../app.js';
import { describeError, isUserFacing } from '../errors.js';
import type { SubmitOptions } from '../inference/batcher.js';
import { compareSentiment, type Comparison } from './disagreement.js';
import { guessEnglish } from './language.js';
import type { TransformerSentiment } from './sentiment.js';
import { analyseVader, type VaderResult } from './vader.js';

export interface SentimentReport {
  vader: VaderResult;
  transformer: TransformerSentiment | { unavailable: string };
  comparison: Comparison | undefined;
  notes: string[];
}

/**
 * VADER replaces each emoji by its English name from its emoji lexicon and scores the words of the
 * name like any others, so an emoji can carry nothing: no word of its name is in the lexicon
 * ("automobile"), or VADER does not know it (a newer emoji). Says which emoji those are, if any.
 */
function emojiWithoutScore(text: string, vader: VaderResult): string | undefined {
  const read = new Set(vader.emoji.map((entry) => entry.emoji));
  const unknown = [...new Set(text.match(/\p{Extended_Pictographic}/gu) ?? [])].filter((emoji) => !read.has(emoji));
  const unscored = [...new Map(vader.emoji.filter((entry) => !entry.scored).map((entry) => [entry.emoji, entry.description])).entries()];
  if (unknown.length === 0 && unscored.length === 0) return undefined;
  const reasons = [
    ...unscored.map(([emoji, description]) => `${emoji} is "${description}", which added nothing`),
    ...unknown.map((emoji) => `${emoji} is not in its emoji lexicon`),
  ];
  const emoji = [...unscored.map(([character]) => character), ...unknown].join(' ');
  return `Emoji ${emoji} carry no score here: VADER reads each emoji as its English name (😁 → "beaming face with smiling eyes") and scores the words of that name like any others; ${reasons.join('; ')}.`;
}

/** Runs VADER and the transformer side by side on one (already cleaned) text. */
export async function analyseSentiment(services: Services, text: string, options: SubmitOptions = {}): Promise<SentimentReport> {
  const vader = analyseVader(text);
  const notes: string[] = [];
  const language = guessEnglish(text);
  if (!language.mostlyEnglish) notes.push(`This text looks mostly non-English (${language.reason}): VADER's lexicon is English-only, so its score is unreliable here.`);
  const unscoredEmoji = emojiWithoutScore(text, vader);
  if (unscoredEmoji) notes.push(unscoredEmoji);
  let transformer: SentimentReport['transformer'];
  try {
    const classifier = await services.textClassifier();
    transformer = await classifier.classify(text, options);
    if (transformer.truncated) notes.push(`The transformer reads at most ${transformer.maxTokens} tokens; the rest of the text was cut off for it (VADER read all of it).`);
  } catch (error) {
    if (!isUserFacing(error)) services.logger.error({ err: error }, 'transformer sentiment failed');
    transformer = { unavailable: isUserFacing(error) ? error.message : `internal error: ${describeError(error)}` };
  }
  const comparison = 'label' in transformer ? compareSentiment(text, vader, transformer) : undefined;
  return { vader, transformer, comparison, notes };
}
