import type { Agreement } from '../vision/compare.js';
import type { Classification } from '../vision/classifier.js';
import type { MatchResult } from '../vision/clip.js';

export interface Explanation {
  /** The knowledge-base topic to read next with /explain. */
  topic: string;
  text: string;
}

/** Chooses the explanation that fits what happened in a classification. */
export function explainClassification(outcome: { agreement: Agreement | undefined; results: Classification[] }): Explanation {
  if (outcome.agreement && !outcome.agreement.top1Agrees) {
    return {
      topic: 'cnn-vs-vit',
      text: 'A CNN builds its answer from local patterns that grow layer by layer, while a ViT lets every patch attend to every other from the first layer, so they can settle on different labels for the same pixels.',
    };
  }
  return {
    topic: 'pixels-vs-tokens',
    text: 'A vision model reads a grid of pixel values that it normalises and cuts into patches; a language model reads discrete token ids from a fixed vocabulary. Both end up as vectors the network compares.',
  };
}

/** Chooses the explanation that fits a CLIP result. */
export function explainMatch(result: MatchResult): Explanation {
  const top = result.matches[0]?.score ?? 0;
  const flat = top < 1.5 / Math.max(1, result.matches.length);
  if (flat) {
    return {
      topic: 'clip-zero-shot',
      text: 'The scores are nearly flat: none of your labels is much closer to the image than the others in CLIP\'s shared space. Try labels that describe what is visibly there.',
    };
  }
  return {
    topic: 'clip-zero-shot',
    text: 'CLIP embeds the image and each label\'s sentence into one shared space; the label whose sentence lands closest to the image wins, with no training on your labels.',
  };
}

/** Chooses the explanation that fits a sentiment comparison. */
export function explainSentiment(report: { comparison: { agree: boolean } | undefined }): Explanation {
  if (report.comparison && !report.comparison.agree) {
    return {
      topic: 'lexicon-vs-learned-sentiment',
      text: 'VADER adds up fixed word scores with hand-written rules, while the transformer turns the whole sentence into context-dependent vectors learned from labelled reviews: they fail in different places.',
    };
  }
  return {
    topic: 'lexicon-vs-learned-sentiment',
    text: 'Text arrives as discrete words whose meaning depends on order and context ("not good"), which is why sentiment needs rules or attention; pixels have no such grammar.',
  };
}

/** Chooses the explanation that fits a tokenization. */
export function explainTokenization(results: ReadonlyArray<{ splits: ReadonlyArray<{ pieces: readonly string[] }> }>): Explanation {
  const longest = Math.max(0, ...results.flatMap((result) => result.splits.map((split) => split.pieces.length)));
  if (longest >= 3) {
    return {
      topic: 'tokenization-vs-patches',
      text: 'Rare words are cut into several subword pieces from a fixed vocabulary, so the model can spell any word; a ViT instead cuts every image into the same grid of patches, whatever it shows.',
    };
  }
  return {
    topic: 'tokenization-vs-patches',
    text: 'Tokenizers map text to ids from a learned vocabulary of a few tens of thousands of pieces; a ViT has no vocabulary: each patch is projected straight from its pixel values.',
  };
}
