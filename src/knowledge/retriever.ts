import { Document } from '@langchain/core/documents';
import { BaseRetriever } from '@langchain/core/retrievers';
import { porterStem } from '../text/preprocess/porter.js';
import type { Topic } from './topics.js';
import { RELATED_TERMS, SYNONYMS } from './vocabulary.js';

/**
 * Words that say nothing about a topic: the usual English function words (Snowball's list,
 * less those that carry meaning in these notes, such as "not", "no", "same", "own", "before"
 * and "out"), words that frame a question ("explain", "difference", "tell me"), and "bot",
 * which names the app rather than a topic.
 */
const ENGLISH_STOP_WORDS = `i me my myself we our ours ourselves you your yours yourself yourselves he him his himself
  she her hers herself it its itself they them their theirs themselves what which who whom this that these those am
  is are was were be been being have has had having do does did doing a an the and but if or because as until while
  of at by for with about between into through during to from in on again further then once here there when where
  why how all any both each more most other some such only so than too s t can will just don should now could would
  might may shall must ve ll re d let lets vs versus difference explain tell please much many need needs actually
  really ever always also get got bot`;

/**
 * The commonest function words of Spanish, French, German, Italian and Portuguese (accents
 * removed, as the analyser removes them), so that a question asked in one of them is judged by
 * its content words ("¿Qué es la cuantización int8?" by "cuantizacion" and "int8") rather than
 * declined for being mostly words no note contains. Words that mean something here in English
 * ("no", "non", "algo") are left out.
 */
const OTHER_LANGUAGE_STOP_WORDS = `de la que el en los se del las un por con una su para es al lo como mas pero sus le ya
  este si porque esta entre cuando muy sin sobre tambien hasta hay donde quien desde todo nos todos uno les ni otros
  ese eso esto mi antes unos yo otro otra tanto esa estos mucho nada cual ella estar estas son esta estan fue ser hace
  le les des du une et est dans pour sur pas ce cette ces il elle ils elles je tu vous au aux avec mais ou sa son ses
  leur leurs ne par comme etre sont ete fait faire quoi quel quelle quels quelles pourquoi comment qu
  der die das den dem des ein eine einer eines einem einen und ist sind war wird werden nicht mit von zu im auf fur
  wie warum wer wo ich du er sie wir ihr aber oder als bei nach aus um noch nur schon sich wenn dass kann konnen
  gli di da tra fra che cosa perche sono della delle dei degli alla os um uma do da dos das em na nas com nao sao`;

const STOP_WORDS = new Set(`${ENGLISH_STOP_WORDS} ${OTHER_LANGUAGE_STOP_WORDS}`.split(/\s+/));

/** The words of a text, lowercased and without accents, in segments that end at punctuation. */
function segments(text: string): string[][] {
  return text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .split(/[.,;:!?()[\]{}"“”]+|\s[-–—]\s/)
    .map((segment) => segment.match(/##|[a-z0-9]+(?:-[a-z0-9]+)*/g) ?? [])
    .filter((words) => words.length > 0);
}

/**
 * British spellings as American ones ("normalise", "colour", "analyse", "centre"), so the two
 * meet whichever a note or a question uses. Applied to every word, so a rare false match
 * ("precise" → "precize") changes nothing: both sides are rewritten alike.
 */
const americanSpelling = (word: string): string =>
  word
    .replace(/^([a-z]{3,})is(e|es|ed|ing|er|ers|ation|ations)$/, '$1iz$2')
    .replace(/^([a-z]{3,})ys(e|es|ed|ing)$/, '$1yz$2')
    .replace(/^([a-z]{3,})our(s|ed|ing|ful|hood)?$/, '$1or$2')
    .replace(/^([a-z]{3,})tre(s)?$/, '$1ter$2');

/** A word in the spelling and form its relatives share; numbers and codes ("int8", "b16") stay as they are. */
const stemOnly = (word: string): string => (/\d/.test(word) ? word : porterStem(americanSpelling(word)));

/** Each form of a synonym, stemmed, mapped to its group's first word (stemmed). */
const canonicalForms = new Map<string, string>();
for (const group of SYNONYMS) {
  const [canonical] = group.map(stemOnly);
  for (const word of group) canonicalForms.set(stemOnly(word), canonical!);
}

/** A word as an index term: stemmed, then read as its synonym group when it has one. */
const indexTerm = (word: string): string => {
  const stemmed = stemOnly(word);
  return canonicalForms.get(stemmed) ?? stemmed;
};

interface AnalysedText {
  /** Content words as index terms, in order. */
  words: string[];
  /** A hyphenated word also as one word ("pre-training" meets "pretraining" as well as "pre training"). */
  compounds: string[];
  /** Each pair of neighbouring content words within a segment ("stop word", "attention map"). */
  bigrams: string[];
}

function analyse(text: string): AnalysedText {
  const analysed: AnalysedText = { words: [], compounds: [], bigrams: [] };
  for (const segment of segments(text)) {
    const content: string[] = [];
    for (const word of segment) {
      const parts = word.split('-').filter((part) => part.length > 1 && !STOP_WORDS.has(part));
      if (parts.length > 1) analysed.compounds.push(indexTerm(parts.join('')));
      content.push(...parts.map(indexTerm));
    }
    analysed.words.push(...content);
    for (let index = 1; index < content.length; index += 1)
      analysed.bigrams.push(`${content[index - 1]} ${content[index]}`);
  }
  return analysed;
}

/**
 * The index terms of a text: its content words (stemmed, synonyms read as one word), its
 * hyphenated words as one word, and its bigrams, which reward a question that uses a note's
 * phrase ("stop words") over one that uses the same words apart ("stop … barking").
 */
export function terms(text: string): string[] {
  const { words, compounds, bigrams } = analyse(text);
  return [...words, ...compounds, ...bigrams];
}

/**
 * RELATED_TERMS as the retriever looks it up: each everyday word or two-word phrase, indexed
 * the way a question's word or bigram is, with the index terms of what it stands for. Throws
 * on an entry that is not one or two content words, or that indexes like another entry, so a
 * mistake in vocabulary.ts stops the bot at start-up rather than silently matching nothing.
 */
export function indexRelatedTerms(entries: Readonly<Record<string, string>>): Map<string, string[]> {
  const index = new Map<string, string[]>();
  for (const [everyday, technical] of Object.entries(entries)) {
    const { words } = analyse(everyday);
    if (words.length < 1 || words.length > 2)
      throw new Error(`vocabulary.ts: "${everyday}" must be one or two words that are not stop words`);
    const key = words.join(' ');
    if (index.has(key)) throw new Error(`vocabulary.ts: "${everyday}" is indexed as "${key}", like another entry`);
    index.set(key, terms(technical));
  }
  return index;
}

const relatedByTerm = indexRelatedTerms(RELATED_TERMS);

/**
 * A question's own terms count fully; the technical terms its everyday words stand for are
 * searched for too, at this weight, so a question in plain words finds a note written in the
 * field's words without outranking a question that uses those words itself.
 */
const RELATED_WEIGHT = 0.5;

/**
 * One thing a question asks for: a term of its own (weight 1), or the technical terms one of
 * its everyday words or phrases stands for (RELATED_WEIGHT), of which the best-matching one
 * counts, so a word with several related terms weighs as one word.
 */
interface QueryConcept {
  alternatives: string[];
  weight: number;
}

interface Query {
  concepts: QueryConcept[];
  /** The question's own content words, each with the related terms it stands for: what coverage counts. */
  words: Array<{ word: string; related: string[] }>;
}

function analyseQuestion(question: string): Query {
  const { words, compounds, bigrams } = analyse(question);
  const own = new Set([...words, ...compounds, ...bigrams]);
  const relatedOf = (term: string): string[] => (relatedByTerm.get(term) ?? []).filter((related) => !own.has(related));
  const concepts: QueryConcept[] = [...own].map((term) => ({ alternatives: [term], weight: 1 }));
  for (const term of new Set([...words, ...bigrams])) {
    const alternatives = relatedOf(term);
    if (alternatives.length > 0) concepts.push({ alternatives, weight: RELATED_WEIGHT });
  }
  // A word inside a two-word phrase with related terms is covered by the phrase's terms too.
  const phraseRelated = (word: string): string[] =>
    bigrams.filter((bigram) => bigram.split(' ').includes(word)).flatMap(relatedOf);
  return {
    concepts,
    words: [...new Set(words)].map((word) => ({ word, related: [...relatedOf(word), ...phraseRelated(word)] })),
  };
}

/**
 * The words the notes write as names (models, datasets, people, languages: "CLIP", "ImageNet",
 * "Swin", "English"): with a capital after the first letter, or capitalised in mid-sentence
 * more often than written in lower case. Read from the notes, so a question finds them however
 * it spells them.
 */
function namesIn(texts: Iterable<string>): Set<string> {
  const capitalised = new Map<string, number>();
  const lower = new Map<string, number>();
  const add = (counts: Map<string, number>, term: string): void => void counts.set(term, (counts.get(term) ?? 0) + 1);
  for (const text of texts) {
    for (const match of text.matchAll(/[A-Za-z][A-Za-z0-9]*/g)) {
      const word = match[0];
      if (word.length < 2 || STOP_WORDS.has(word.toLowerCase())) continue;
      const term = indexTerm(word.toLowerCase());
      if (/[A-Z]/.test(word.slice(1))) {
        add(capitalised, term);
        continue;
      }
      // Markup and quotes do not end a sentence; a line start, a full stop or a colon does.
      const before = text.slice(Math.max(0, match.index - 12), match.index).replace(/[ \t*_`"“'(\[#-]+$/, '');
      if (before === '' || /[.!?:\n]$/.test(before)) continue;
      add(/^[A-Z]/.test(word) ? capitalised : lower, term);
    }
  }
  return new Set([...capitalised].filter(([term, count]) => count > (lower.get(term) ?? 0)).map(([term]) => term));
}

/**
 * A note's body as the passages /ask can show: its paragraphs, with a lead-in that ends in a
 * colon ("Why it is faster on a CPU:") joined to the list it introduces, since alone it answers
 * nothing; without the closing "Try it" paragraph, which is about a command to run.
 */
function passagesOf(body: string): string[] {
  const passages: string[] = [];
  let leadIn = '';
  for (const paragraph of body.split(/\n\s*\n/)) {
    if (paragraph.startsWith('**Try it:**')) continue;
    if (paragraph.trimEnd().endsWith(':')) leadIn += `${paragraph}\n\n`;
    else {
      passages.push(leadIn + paragraph);
      leadIn = '';
    }
  }
  if (leadIn) passages.push(leadIn.trimEnd());
  return passages;
}

export interface Passage {
  topicId: string;
  title: string;
  text: string;
}

export interface ScoredPassage extends Passage {
  /** The note's field-weighted BM25 score for the question. */
  score: number;
  /**
   * The share of the question's informative words (IDF-weighted) that the note contains,
   * directly or through a related term: low when most of the question is about something the
   * notes never mention, however well one word matched.
   */
  coverage: number;
}

export type TopicMetadata = { topicId: string; title: string; score: number };

type Field = 'title' | 'keywords' | 'summary' | 'body';

/**
 * How much a word counts in each part of a note. The title and keywords name what the note is
 * about; the summary says it in a sentence; the body also mentions many things in passing.
 */
export const FIELD_WEIGHTS: Readonly<Record<Field, number>> = { title: 3, keywords: 3, summary: 2, body: 1 };
/** Length normalisation per field: a long body dilutes a word more than a long keyword list. */
const FIELD_LENGTH_NORMALISATION: Readonly<Record<Field, number>> = {
  title: 0.3,
  keywords: 0.3,
  summary: 0.5,
  body: 0.75,
};

type Counts = Map<string, number>;
const countTerms = (list: string[]): Counts => {
  const counts: Counts = new Map();
  for (const term of list) counts.set(term, (counts.get(term) ?? 0) + 1);
  return counts;
};

interface IndexedNote {
  topic: Topic;
  fields: Record<Field, { counts: Counts; length: number }>;
  paragraphs: Array<{ text: string; counts: Counts; length: number }>;
}

/**
 * Field-weighted Okapi BM25 (BM25F) over whole notes, offline and deterministic:
 *
 * - each note's title, keywords, summary and body are indexed separately, and a match weighs
 *   by the field it is in (FIELD_WEIGHTS);
 * - words are stemmed (Porter) and spelled one way, synonyms read as one word, and pairs of
 *   neighbouring words indexed too (bigrams);
 * - a question's everyday words also search for the technical terms they stand for
 *   (vocabulary.ts), at half weight;
 * - a name the question uses ("CLIP", "Swin") counts extra for the note whose title or keywords
 *   name it (aboutness);
 * - each result carries its coverage of the question, which /ask uses to decline questions
 *   the notes do not cover (MIN_RELEVANCE in ask.ts).
 *
 * The passage shown for a note is its paragraph that matches the question best. Exposed as a
 * LangChain retriever so it composes with the answer chain. `npm run eval -- ask` measures it.
 */
export class TopicRetriever extends BaseRetriever<TopicMetadata> {
  lc_namespace = ['sightread', 'retrievers'];
  private readonly notes: IndexedNote[];
  private readonly inverseDocumentFrequency = new Map<string, number>();
  /** The IDF of a term no note contains: what an unknown question word weighs in coverage. */
  private readonly unknownTermIdf: number;
  private readonly averageFieldLength: Record<Field, number>;
  /** Index terms the notes write as names (namesIn). */
  private readonly names: Set<string>;
  /** IDF among the notes' titles and keywords only: how few notes are about a term. */
  private readonly headerIdf = new Map<string, number>();

  constructor(
    topics: Iterable<Topic>,
    private readonly k = 4,
    private readonly k1 = 1.2,
    private readonly fieldWeights: Readonly<Record<Field, number>> = FIELD_WEIGHTS,
  ) {
    super();
    const field = (text: string): { counts: Counts; length: number } => {
      const list = terms(text);
      return { counts: countTerms(list), length: list.length };
    };
    this.notes = [...topics].map((topic) => {
      const paragraphs = passagesOf(topic.body);
      return {
        topic,
        fields: {
          title: field(topic.title),
          // One segment per keyword, so no bigram spans two keywords.
          keywords: field(topic.keywords.join('; ')),
          summary: field(topic.summary),
          body: field(paragraphs.join('\n\n')),
        },
        paragraphs: paragraphs.map((text) => ({ text, ...field(text) })),
      };
    });
    this.names = namesIn(this.notes.flatMap(({ topic }) => [topic.title, topic.summary, topic.body]));
    const documentFrequency = new Map<string, number>();
    for (const note of this.notes) {
      const present = new Set(Object.values(note.fields).flatMap(({ counts }) => [...counts.keys()]));
      for (const term of present) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
    }
    const n = this.notes.length;
    const idf = (df: number): number => Math.log(1 + (n - df + 0.5) / (df + 0.5));
    for (const [term, df] of documentFrequency) this.inverseDocumentFrequency.set(term, idf(df));
    this.unknownTermIdf = idf(0);
    const headerFrequency = new Map<string, number>();
    for (const note of this.notes)
      for (const term of new Set([...note.fields.title.counts.keys(), ...note.fields.keywords.counts.keys()]))
        headerFrequency.set(term, (headerFrequency.get(term) ?? 0) + 1);
    for (const [term, df] of headerFrequency) this.headerIdf.set(term, idf(df));
    // At least 1, so that a field empty in every note (front matter not yet written) divides by something.
    const average = (lengths: number[]): number =>
      Math.max(1, lengths.reduce((sum, length) => sum + length, 0) / Math.max(1, lengths.length));
    this.averageFieldLength = {
      title: average(this.notes.map((note) => note.fields.title.length)),
      keywords: average(this.notes.map((note) => note.fields.keywords.length)),
      summary: average(this.notes.map((note) => note.fields.summary.length)),
      body: average(this.notes.map((note) => note.fields.body.length)),
    };
  }

  /** Okapi BM25's saturation of a (weighted, length-normalised) term frequency, times the term's IDF. */
  private termWeight(term: string, frequency: number): number {
    if (frequency <= 0) return 0;
    return (this.inverseDocumentFrequency.get(term) ?? 0) * ((frequency * (this.k1 + 1)) / (frequency + this.k1));
  }

  /** BM25F: a term's frequency in each field, length-normalised and weighted, summed before saturation. */
  private noteScore(query: Query, note: IndexedNote): number {
    const termScore = (term: string): number => {
      let frequency = 0;
      for (const name of Object.keys(note.fields) as Field[]) {
        const { counts, length } = note.fields[name];
        const tf = counts.get(term) ?? 0;
        const b = FIELD_LENGTH_NORMALISATION[name];
        frequency += (this.fieldWeights[name] * tf) / (1 - b + (b * length) / this.averageFieldLength[name]);
      }
      return this.termWeight(term, frequency);
    };
    const mentions = query.concepts.reduce(
      (score, { alternatives, weight }) => score + weight * Math.max(...alternatives.map(termScore)),
      0,
    );
    return mentions + this.aboutness(query, note);
  }

  /**
   * What a question's names add for the note whose title or keywords name them: the note about
   * CLIP is what "What data was CLIP trained on?" is after, although many notes mention CLIP in
   * passing (which leaves CLIP a low IDF) and "data" and "training" are in other notes' titles
   * and keywords. Each name adds its IDF among titles and keywords alone, where it is rare.
   */
  private aboutness(query: Query, note: IndexedNote): number {
    let score = 0;
    for (const { alternatives, weight } of query.concepts) {
      const term = alternatives[0]!;
      if (weight !== 1 || alternatives.length !== 1 || !this.names.has(term)) continue;
      if (note.fields.title.counts.has(term) || note.fields.keywords.counts.has(term))
        score += this.headerIdf.get(term) ?? 0;
    }
    return score;
  }

  /**
   * BM25 of one paragraph without length normalisation, to choose the passage shown for a note:
   * the passage should hold the answer, and of two paragraphs with the same matches the longer
   * one (search takes it on a tie) explains more ("Stemming is not a cheap lemmatizer" names
   * both words; the list that defines them is the better answer).
   */
  private paragraphScore(query: Query, paragraph: IndexedNote['paragraphs'][number]): number {
    const termScore = (term: string): number => this.termWeight(term, paragraph.counts.get(term) ?? 0);
    return query.concepts.reduce(
      (score, { alternatives, weight }) => score + weight * Math.max(...alternatives.map(termScore)),
      0,
    );
  }

  /**
   * The IDF-weighted share of the question's own content words that the note contains, each
   * directly or through a term it stands for. A word no note contains weighs the most.
   */
  private coverage(query: Query, note: IndexedNote): number {
    const contains = (term: string): boolean => Object.values(note.fields).some(({ counts }) => counts.has(term));
    let total = 0;
    let matched = 0;
    for (const { word, related } of query.words) {
      const weight = this.inverseDocumentFrequency.get(word) ?? this.unknownTermIdf;
      total += weight;
      if (contains(word) || related.some(contains)) matched += weight;
    }
    return total === 0 ? 0 : matched / total;
  }

  /** The k best notes for a question, best first, each with its paragraph that matches best. */
  search(question: string, k = this.k): ScoredPassage[] {
    const query = analyseQuestion(question);
    return this.notes
      .map((note) => ({ note, score: this.noteScore(query, note) }))
      .filter(({ score }) => score > 0)
      .sort((a, b) => b.score - a.score)
      .slice(0, k)
      .map(({ note, score }) => {
        // A note whose body is only its "Try it" line is shown by its summary.
        let best = note.paragraphs[0]?.text ?? note.topic.summary;
        let bestScore = 0;
        for (const paragraph of note.paragraphs) {
          const paragraphScore = this.paragraphScore(query, paragraph);
          const longerTie = paragraphScore === bestScore && paragraph.text.length > best.length;
          if (paragraphScore > bestScore || (paragraphScore > 0 && longerTie))
            [best, bestScore] = [paragraph.text, paragraphScore];
        }
        return {
          topicId: note.topic.id,
          title: note.topic.title,
          text: best,
          score,
          coverage: this.coverage(query, note),
        };
      });
  }

  override async _getRelevantDocuments(query: string): Promise<Array<Document<TopicMetadata>>> {
    return this.search(query).map(
      (passage) =>
        new Document<TopicMetadata>({
          pageContent: passage.text,
          metadata: { topicId: passage.topicId, title: passage.title, score: passage.score },
        }),
    );
  }
}
