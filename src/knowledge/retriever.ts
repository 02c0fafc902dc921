import { Document } from '@langchain/core/documents';
import { BaseRetriever } from '@langchain/core/retrievers';
import type { Topic } from './topics.js';

const STOP_WORDS = new Set(
  'a an and are as at be but by can do does for from how i if in into is it its me my of on or so than that the their them then there these they this to was what when where which who why will with would you your about between vs versus difference explain tell more most much many need needs some other'.split(
    ' ',
  ),
);

/** A light stemmer: one common ending off, applied the same way to notes and questions ("images" and "image" meet). */
function stem(word: string): string {
  if (word.endsWith('ss') || word.length <= 3) return word;
  if (word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  return word.replace(/(ing|ed|es|e|s)$/, '');
}

/** Lowercase stemmed words of a text, without stop words. */
export function terms(text: string): string[] {
  return (
    text
      .toLowerCase()
      .normalize('NFKD')
      .match(/[a-z0-9]+/g) ?? []
  )
    .filter((word) => !STOP_WORDS.has(word) && word.length > 1)
    .map(stem);
}

export interface Passage {
  topicId: string;
  title: string;
  text: string;
}

export interface ScoredPassage extends Passage {
  score: number;
  /** How many of the question's words appear in the note's title or keywords. */
  topicTermsMatched: number;
}

export type TopicMetadata = { topicId: string; title: string; score: number };

/**
 * Okapi BM25 over note passages (paragraphs), with each note's title and keywords added to
 * every passage so that a question naming the topic finds it. Offline and deterministic;
 * exposed as a LangChain retriever so it composes with the answer chain.
 */
export class TopicRetriever extends BaseRetriever<TopicMetadata> {
  lc_namespace = ['sightread', 'retrievers'];
  private readonly passages: Array<
    Passage & { terms: Map<string, number>; length: number; bodyTerms: Map<string, number>; bodyLength: number }
  >;
  private readonly documentFrequency = new Map<string, number>();
  private readonly headerTerms = new Map<string, Set<string>>();
  private readonly averageLength: number;

  constructor(
    topics: Iterable<Topic>,
    private readonly k = 4,
    private readonly k1 = 1.2,
    private readonly b = 0.5,
  ) {
    super();
    this.passages = [...topics].flatMap((topic) => {
      const header = `${topic.title} ${topic.title} ${topic.keywords.join(' ')} ${topic.keywords.join(' ')}`;
      this.headerTerms.set(topic.id, new Set(terms(header)));
      return topic.body
        .split(/\n\s*\n/)
        .filter((paragraph) => !paragraph.startsWith('**Try it:**'))
        .map((paragraph) => {
          const count = (words: string[]): Map<string, number> => {
            const counts = new Map<string, number>();
            for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
            return counts;
          };
          const all = terms(`${header} ${paragraph}`);
          const body = terms(paragraph);
          return {
            topicId: topic.id,
            title: topic.title,
            text: paragraph,
            terms: count(all),
            length: all.length,
            bodyTerms: count(body),
            bodyLength: body.length,
          };
        });
    });
    for (const passage of this.passages)
      for (const word of passage.terms.keys())
        this.documentFrequency.set(word, (this.documentFrequency.get(word) ?? 0) + 1);
    this.averageLength =
      this.passages.reduce((sum, passage) => sum + passage.length, 0) / Math.max(1, this.passages.length);
  }

  private bm25(queryTerms: string[], counts: Map<string, number>, length: number): number {
    const n = this.passages.length;
    let score = 0;
    for (const term of queryTerms) {
      const tf = counts.get(term);
      if (!tf) continue;
      const df = this.documentFrequency.get(term) ?? 0;
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      score += (idf * tf * (this.k1 + 1)) / (tf + this.k1 * (1 - this.b + (this.b * length) / this.averageLength));
    }
    return score;
  }

  /**
   * The best passage of each of the k best topics. Topics are ranked with their title and
   * keywords counted in; the passage shown is the paragraph whose own words match best.
   */
  search(query: string, k = this.k): ScoredPassage[] {
    const queryTerms = [...new Set(terms(query))];
    const byTopic = new Map<string, { score: number; passage: Passage; bodyScore: number }>();
    for (const passage of this.passages) {
      const score = this.bm25(queryTerms, passage.terms, passage.length);
      const bodyScore = this.bm25(queryTerms, passage.bodyTerms, passage.bodyLength);
      const current = byTopic.get(passage.topicId);
      if (!current) byTopic.set(passage.topicId, { score, passage, bodyScore });
      else {
        current.score = Math.max(current.score, score);
        if (bodyScore > current.bodyScore) Object.assign(current, { passage, bodyScore });
      }
    }
    return [...byTopic.values()]
      .filter((entry) => entry.score > 0)
      .sort((a, b) => b.score - a.score)
      .slice(0, k)
      .map(({ passage, score }) => ({
        topicId: passage.topicId,
        title: passage.title,
        text: passage.text,
        score,
        topicTermsMatched: queryTerms.filter((term) => this.headerTerms.get(passage.topicId)?.has(term)).length,
      }));
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
