import type { Classification } from './classifier.js';

export interface Agreement {
  top1Agrees: boolean;
  /** How many of the top-k classes both models share, and that as a fraction of k. */
  sharedInTopK: number;
  overlap: number;
  summary: string;
}

/**
 * Compares two classifiers over the same label space. Classes are matched by index when both
 * models have the same number of classes (ImageNet-1k), since label spellings differ between sources.
 */
export function compareClassifications(a: Classification, b: Classification): Agreement {
  const key = (p: { index: number; label: string }): string => String(p.index);
  const aKeys = new Set(a.predictions.map(key));
  const shared = b.predictions.filter((p) => aKeys.has(key(p))).length;
  const k = Math.max(a.predictions.length, b.predictions.length);
  const top1Agrees =
    a.predictions[0] !== undefined && b.predictions[0] !== undefined && key(a.predictions[0]) === key(b.predictions[0]);
  const summary = top1Agrees
    ? `Both models pick **${a.predictions[0]!.label}** first; they share ${shared} of their top ${k}.`
    : `The models disagree on the top label (**${a.predictions[0]?.label}** vs **${b.predictions[0]?.label}**); they share ${shared} of their top ${k}.`;
  return { top1Agrees, sharedInTopK: shared, overlap: k === 0 ? 0 : shared / k, summary };
}
