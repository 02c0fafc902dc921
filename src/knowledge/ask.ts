import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { ChatPromptTemplate } from '@langchain/core/prompts';
import { z } from 'zod';
import type { Logger } from '../util/logger.js';
import type { ScoredPassage, TopicRetriever } from './retriever.js';
import { PROMPTS_DIR, type Topic } from './topics.js';

/**
 * A question is in scope when one of the three notes /ask retrieves reaches this relevance: the
 * note that covers the question best is not always the one BM25 ranks first ("How can I see what
 * the model based its answer on?" ranks pixels-vs-tokens, which shares "see" and "model", just
 * above interpretability, which covers every word). Relevance is the note's coverage of the
 * question (the IDF-weighted share of its words the note contains) times the square root of the
 * note's BM25 score: a question mostly about something the notes never mention ("How do I fix a
 * flat tyre on my bike?" matches only "flat") stays out however well that one word matched,
 * while a short question made only of the notes' words ("What is an embedding?") is in even
 * though its one word is common across notes and scores low. Set between the two groups of the
 * tuning part of prompts/retrieval/questions.json (off-topic questions reach at most 0.87 there,
 * on-topic ones at least 1.01); `npm run eval -- ask` shows how it does on the held-out part.
 */
export const MIN_RELEVANCE = 0.9;

/** How clearly a question is about a retrieved note (see MIN_RELEVANCE). */
export const relevance = (passage: ScoredPassage): number => passage.coverage * Math.sqrt(passage.score);

const MAX_ANSWER_WORDS = 220;

export interface Citation {
  id: string;
  title: string;
}

export interface AskResult {
  answer: string;
  mode: 'llm' | 'extractive';
  citations: Citation[];
  confidence?: number;
  /** Why the answer is extractive, or what was changed in the question. */
  notes: string[];
  outOfScope: boolean;
}

const llmAnswer = z.object({
  answer: z.string().trim().min(1).max(4000),
  citations: z.array(z.string()).min(1),
  confidence: z.number().min(0).max(1),
});

/** Loads prompts/ask.md and checks it has the variables the chain fills in, in the right parts. */
export function loadAskPrompt(path = join(PROMPTS_DIR, 'ask.md')): ChatPromptTemplate {
  const [system, human] = readFileSync(path, 'utf8').split(/^---human---$/m);
  if (!system || !human) throw new Error(`${path}: expected a system part and a human part separated by ---human---`);
  if (!system.includes('{notes}')) throw new Error(`${path}: the system part must contain {notes}`);
  if (system.includes('{question}'))
    throw new Error(`${path}: {question} must stay in the human part, never in the system prompt`);
  if (!human.includes('{question}')) throw new Error(`${path}: the human part must contain {question}`);
  return ChatPromptTemplate.fromMessages([
    ['system', system.trim()],
    ['human', human.trim()],
  ]);
}

/** Mentions can never reach Discord as pings, whatever a model or a note says. */
export function defuseMentions(text: string): string {
  return text.replace(/@(everyone|here)/gi, '@\u200b$1').replace(/<@[!&]?\d+>/g, '@someone');
}

function limitWords(text: string, max: number): string {
  const words = text.split(/\s+/);
  return words.length <= max ? text : `${words.slice(0, max).join(' ')} …`;
}

/** The JSON object in a model reply, tolerating a Markdown code fence around it. */
function extractJson(text: string): unknown {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text);
  const candidate = (fenced?.[1] ?? text).trim();
  const start = candidate.indexOf('{');
  const end = candidate.lastIndexOf('}');
  if (start < 0 || end <= start) throw new Error('no JSON object in the reply');
  return JSON.parse(candidate.slice(start, end + 1));
}

/**
 * The three best notes for a question, and whether the question is outside the notes
 * altogether. /ask and the retrieval evaluation (`npm run eval -- ask`) both decide here, so
 * the evaluation measures exactly what users get.
 */
export function retrieveNotes(
  retriever: TopicRetriever,
  question: string,
): { passages: ScoredPassage[]; outOfScope: boolean } {
  const passages = retriever.search(question, 3);
  const outOfScope = !passages.some((passage) => relevance(passage) >= MIN_RELEVANCE);
  return { passages: outOfScope ? [] : passages, outOfScope };
}

/**
 * Study-group Q&A: lexical retrieval over the notes, then a grounded LLM answer when a model
 * is configured and behaves; otherwise (or on timeout, error, invalid JSON or an uncited
 * answer) the most relevant passages themselves.
 */
export class StudyAssistant {
  constructor(
    private readonly topics: ReadonlyMap<string, Topic>,
    private readonly retriever: TopicRetriever,
    private readonly prompt: ChatPromptTemplate,
    private readonly model: Promise<BaseChatModel | undefined>,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  async ask(question: string): Promise<AskResult> {
    const { passages, outOfScope } = retrieveNotes(this.retriever, question);
    if (outOfScope) return this.outOfScope();
    const retrieved = new Map(passages.map((passage) => [passage.topicId, passage]));
    const model = await this.model;
    if (!model)
      return this.extractive(passages, [
        'No language model is configured, so these are the most relevant passages from the notes.',
      ]);

    const notes = passages
      .map(
        (passage) => `[${passage.topicId}] ${passage.title}\n${this.topics.get(passage.topicId)?.body ?? passage.text}`,
      )
      .join('\n\n');
    let content: string;
    try {
      const chain = this.prompt.pipe(model);
      const reply = await chain.invoke({ notes, question }, { signal: AbortSignal.timeout(this.timeoutMs) });
      content =
        typeof reply.content === 'string'
          ? reply.content
          : reply.content.map((part) => ('text' in part ? String(part.text) : '')).join('');
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError' || /abort|timed? ?out/i.test((error as Error).message);
      this.logger.warn({ reason: (error as Error).message }, 'LLM call failed; answering extractively');
      return this.extractive(passages, [
        `The language model ${timedOut ? `did not answer within ${this.timeoutMs} ms` : 'is unavailable'}, so these are the most relevant passages from the notes.`,
      ]);
    }
    let parsed: z.infer<typeof llmAnswer>;
    try {
      parsed = llmAnswer.parse(extractJson(content));
    } catch {
      this.logger.warn('LLM answer was not valid JSON of the expected shape');
      return this.extractive(passages, [
        "The language model's answer was not in the expected form, so here are the notes themselves.",
      ]);
    }
    const cited = [...new Set(parsed.citations)].filter((id) => retrieved.has(id));
    if (cited.length === 0)
      return this.extractive(passages, [
        "The language model's answer did not cite the notes it was given, so here are the notes themselves.",
      ]);
    return {
      answer: defuseMentions(limitWords(parsed.answer, MAX_ANSWER_WORDS)),
      mode: 'llm',
      citations: cited.map((id) => ({ id, title: retrieved.get(id)!.title })),
      confidence: parsed.confidence,
      notes: [],
      outOfScope: false,
    };
  }

  private extractive(passages: ScoredPassage[], notes: string[]): AskResult {
    const used = passages.slice(0, 2);
    return {
      answer: defuseMentions(used.map((passage) => `**${passage.title}**: ${passage.text}`).join('\n\n')),
      mode: 'extractive',
      citations: used.map((passage) => ({ id: passage.topicId, title: passage.title })),
      notes,
      outOfScope: false,
    };
  }

  private outOfScope(): AskResult {
    const examples = [...this.topics.values()].slice(0, 6).map((topic) => topic.title);
    return {
      answer: `I can help with how computer vision and language models work, for example: ${examples.join('; ')}. Try \`/explain\` to browse the topics.`,
      mode: 'extractive',
      citations: [],
      notes: ['The question does not match any of the study notes.'],
      outOfScope: true,
    };
  }
}
