import type { Services } from '../app.js';
import { describeError, isUserFacing } from '../util/errors.js';
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

/** Runs VADER and the transformer side by side on one (already cleaned) text. */
export async function analyseSentiment(services: Services, text: string, options: SubmitOptions = {}): Promise<SentimentReport> {
  const vader = analyseVader(text);
  const notes: string[] = [];
  const language = guessEnglish(text);
  if (!language.mostlyEnglish) notes.push(`This text looks mostly non-English (${language.reason}): VADER's lexicon is English-only, so its score is unreliable here.`);
  if (vader.contributions.length === 0 && /\p{Extended_Pictographic}/u.test(text)) {
    notes.push('Emoji carry no score in this VADER port (it has no emoji lexicon), so they count as neutral words.');
  }
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
