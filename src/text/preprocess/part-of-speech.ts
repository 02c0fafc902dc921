import type { WordNet, WordNetPos } from './wordnet.js';

/**
 * The part of speech the lemmatizer is told. Tutorials run NLTK's `pos_tag` (a trained
 * perceptron) first; sightread ships no tagger model, so it guesses, and says it guesses:
 * only parts of speech under which WordNet knows the word are considered, the words around it
 * decide between them ("was better" → adjective, "to better" → verb, "she ran" → verb), and
 * otherwise the one whose lemma has the most sense-tagged senses in WordNet wins, nouns first
 * on a tie. A word WordNet does not know keeps NLTK's default, noun, and stays as it is.
 */

const DETERMINERS = new Set(
  'the a an this that these those my your his her its our their some any no every each another either neither'.split(
    ' ',
  ),
);
// Words after which a verb follows: "to", modals, auxiliaries' contracted halves, subject pronouns.
const VERB_CUES = new Set(
  "to will would can could shall should may might must do does did ca wo 'll 'd i you he she we they".split(' '),
);
// Linking verbs: what follows is usually an adjective ("is better") or a participle ("is running").
const LINKING = new Set(
  "is are was were be been being am 's 're 'm seem seems seemed become becomes became look looks looked feel feels felt get gets got".split(
    ' ',
  ),
);
// Words that sit between a cue and the word it cues: "is not better", "will really run".
const TRANSPARENT = new Set("not n't never very really so too quite rather also just even still always".split(' '));

export interface PosGuess {
  pos: WordNetPos;
  /** Why this part of speech: the cue word, WordNet's tagged senses, or that WordNet does not know the word. */
  reason: string;
}

/** The parts of speech under which WordNet finds a base form of the word, in WordNet's order (n, v, a, r). */
function candidates(word: string, wordnet: WordNet): WordNetPos[] {
  return (['n', 'v', 'a', 'r'] as const).filter((pos) => wordnet.morphy(word, pos).length > 0);
}

/** Guesses the part of speech of each lowercased token, from the token itself and its neighbours. */
export function guessPartsOfSpeech(tokens: readonly string[], wordnet: WordNet): PosGuess[] {
  return tokens.map((word, index) => {
    const options = candidates(word, wordnet);
    if (options.length === 0) return { pos: 'n', reason: 'not in WordNet, so NLTK’s default' };
    if (options.length === 1) return { pos: options[0]!, reason: 'the only part of speech WordNet has for it' };
    let back = index - 1;
    while (back >= 0 && TRANSPARENT.has(tokens[back]!)) back -= 1;
    const cue = back >= 0 ? tokens[back]! : '';
    const prefer = (pos: WordNetPos): boolean => options.includes(pos);
    if (VERB_CUES.has(cue) && prefer('v')) return { pos: 'v', reason: `after “${cue}”` };
    if (LINKING.has(cue)) {
      if (/(?:ing|ed)$/.test(word) && prefer('v')) return { pos: 'v', reason: `a participle after “${cue}”` };
      if (prefer('a')) return { pos: 'a', reason: `after “${cue}”` };
    }
    if (DETERMINERS.has(cue)) {
      const next = tokens[index + 1];
      if (prefer('a') && next !== undefined && candidates(next, wordnet).includes('n'))
        return { pos: 'a', reason: `between “${cue}” and a noun` };
      if (prefer('n')) return { pos: 'n', reason: `after “${cue}”` };
    }
    if (word.endsWith('ly') && prefer('r')) return { pos: 'r', reason: 'an -ly word' };
    const senses = (pos: WordNetPos): number =>
      Math.max(...wordnet.morphy(word, pos).map((lemma) => wordnet.taggedSenses(lemma, pos) ?? 0));
    const best = options.reduce((a, b) => (senses(b) > senses(a) ? b : a));
    return { pos: best, reason: 'most sense-tagged senses in WordNet' };
  });
}
