import type { TransformerSentiment } from './sentiment.js';
import type { VaderResult } from './vader.js';

export interface Comparison {
  agree: boolean;
  /** One sentence on the likely reason when the engines disagree. */
  reason: string | undefined;
}

const NEGATIONS =
  /\b(not|no|never|nothing|nor|hardly|barely|without|n't|dont|don't|isn't|wasn't|aren't|can't|won't|didn't)\b/i;
const SARCASM =
  /(yeah,? right|\/s\b|oh,? great|just great|thanks a lot|what a (great|wonderful) (day|idea)|love (it )?when|sure,? because)/i;

/** Compares VADER's three-way label with the transformer's two-way one, and explains a mismatch. */
export function compareSentiment(text: string, vader: VaderResult, transformer: TransformerSentiment): Comparison {
  const transformerLabel = transformer.label.toLowerCase();
  if (vader.label === transformerLabel) return { agree: true, reason: undefined };
  if (vader.label === 'neutral') {
    return {
      agree: false,
      reason:
        vader.contributions.length === 0
          ? 'VADER found no word from its lexicon and calls the text neutral, while the SST-2 transformer has no neutral class and must pick a side.'
          : "VADER's weak lexicon hits cancel out to neutral, while the SST-2 transformer has no neutral class and must pick a side.",
    };
  }
  if (SARCASM.test(text))
    return {
      agree: false,
      reason:
        'This looks sarcastic: VADER takes the positive words at face value, while the transformer may pick up the ironic context (or vice versa).',
    };
  if (NEGATIONS.test(text)) {
    return {
      agree: false,
      reason:
        'Negation scope: VADER flips a word only when the negation is at most three words before it, while the transformer learned from context how far a "not" reaches.',
    };
  }
  if (/\bbut\b/i.test(text))
    return {
      agree: false,
      reason:
        'The "but" shifts the weight: VADER applies a fixed ×0.5/×1.5 rule around it, while the transformer weighs the clauses as it learned to.',
    };
  return {
    agree: false,
    reason:
      'Domain words: VADER gives each word one fixed score from social-media ratings, while the transformer learned from movie reviews what these words mean in context.',
  };
}
