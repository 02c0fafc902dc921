/**
 * Sentence splitting, the first step of `nltk.word_tokenize`. NLTK uses Punkt, an unsupervised
 * model that learned English abbreviations, initials and sentence starters from a corpus; its
 * parameters are a trained model, not rules, so sightread does not ship it. This splitter is the
 * usual rule instead: a sentence ends at ".", "!" or "?" (with any closing quotes and brackets
 * after them) followed by space and then a capital letter, digit or opening quote, unless the
 * word before the period is a common abbreviation ("Dr.", "e.g.") or a single initial ("J.").
 * Punkt and this rule agree on ordinary prose; they differ on unusual abbreviations.
 */

const ABBREVIATIONS = new Set(
  (
    'mr mrs ms dr prof sr jr st vs etc e.g i.e cf fig no vol pp al approx dept est inc ltd co corp jan feb mar apr ' +
    'jun jul aug sep sept oct nov dec mt ft'
  ).split(' '),
);

// The end of a sentence: its final punctuation and closing quotes/brackets, then the space before the next one.
const BOUNDARY = /([.!?]+["'”’)\]]*)(\s+)(?=["'“‘(\[]?[\p{Lu}\p{N}])/gu;

/** The sentences of a text, trimmed, in order. */
export function splitSentences(text: string): string[] {
  const sentences: string[] = [];
  let start = 0;
  for (const match of text.matchAll(BOUNDARY)) {
    const end = match.index + match[1]!.length;
    const before = text.slice(start, match.index + match[1]!.length);
    const lastWord = /(\S+)$/u.exec(before)?.[1] ?? '';
    const word = lastWord
      .replace(/^["'“‘(\[]+/u, '')
      .replace(/\.$/u, '')
      .toLowerCase();
    // "Dr. Smith", "e.g. Paris", "J. Smith": a period after an abbreviation or an initial is not an end.
    if (match[1] === '.' && (ABBREVIATIONS.has(word) || /^\p{L}$/u.test(word))) continue;
    sentences.push(text.slice(start, end).trim());
    start = end + match[2]!.length;
  }
  const rest = text.slice(start).trim();
  if (rest) sentences.push(rest);
  return sentences.filter((sentence) => sentence !== '');
}
