import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { PROJECT_ROOT } from '../util/paths.js';

export const PROMPTS_DIR = join(PROJECT_ROOT, 'prompts');

const frontMatter = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/, 'must be lowercase words joined by hyphens'),
  title: z.string().min(3).max(100),
  keywords: z.array(z.string().min(1)).min(3),
  commands: z.array(z.string().min(1)).min(1),
  summary: z.string().min(20).max(400),
  /**
   * Where the note's numbers and named results come from: papers (title, authors, year, arXiv id),
   * model cards and official READMEs (URL), or a file of this repository (a measurement). An entry
   * may end with `| backs: …` naming the figures it supports, separated by semicolons, and a
   * `derived: a × b = c` entry states arithmetic that a test recomputes.
   */
  sources: z.array(z.string().min(5)).min(1),
});

export type TopicMeta = z.infer<typeof frontMatter>;
export interface Topic extends TopicMeta {
  body: string;
  words: number;
  file: string;
  /** The note's closing "Try it": what to look for, and the commands to run, as typed in Discord. */
  tryIt: TryIt;
}

/**
 * Parses our restricted front matter: `key: value` lines, with `[a, b]` for short lists and, for
 * lists whose items contain commas (sources), `key:` followed by indented `- item` lines.
 */
function parseFrontMatter(text: string): Record<string, unknown> {
  const entries: Array<[string, string | string[]]> = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const item = /^\s+- (.+)$/.exec(line);
    if (item) {
      const last = entries.at(-1);
      if (!last || !Array.isArray(last[1])) throw new Error(`front matter list item without a "key:" line: ${line}`);
      last[1].push(item[1]!.trim());
      continue;
    }
    const colon = line.indexOf(':');
    if (colon < 0) throw new Error(`front matter line without "key:": ${line}`);
    const key = line.slice(0, colon).trim();
    const raw = line.slice(colon + 1).trim();
    const value =
      raw === ''
        ? []
        : raw.startsWith('[') && raw.endsWith(']')
          ? raw
              .slice(1, -1)
              .split(',')
              .map((part) => part.trim())
              .filter(Boolean)
          : raw;
    entries.push([key, value]);
  }
  return Object.fromEntries(entries);
}

/** A claim under a Try-it command: `→ subject: claim, claim` (`→ vader: negative, compound -0.44`). */
export interface TryItExpectation {
  line: string;
  /** What the claim is about: an engine (`vader`, `bert`), a model id (`mobilenetv2-int8`) or `note`. */
  subject: string;
  claims: string[];
}

/** One command as a student types it in Discord: `/name option:value option:"quoted value"`. */
export interface TryItCommand {
  line: string;
  command: string;
  /** As typed; whether the names and values are valid is checked against the command declarations (tests). */
  options: Array<{ name: string; value: string }>;
  expectations: TryItExpectation[];
}

export interface TryIt {
  /** The sentences after **Try it:**, without the fenced commands. */
  prose: string;
  commands: TryItCommand[];
}

export const TRY_IT_FENCE = '```sightread';
const OPTION_NAME = /^([a-z][a-z0-9_-]*):/;
const NEXT_OPTION = /\s[a-z][a-z0-9_-]*:/;

/**
 * `option:value option:"quoted value"`. An unquoted value runs to the next ` name:` (as in
 * Discord, where a value may contain spaces); a quoted one to the closing quote.
 */
export function parseCommandOptions(text: string): Array<{ name: string; value: string }> {
  const options: Array<{ name: string; value: string }> = [];
  let rest = text.trim();
  while (rest) {
    const name = OPTION_NAME.exec(rest);
    if (!name) throw new Error(`expected option:value at "${rest}"`);
    rest = rest.slice(name[0].length);
    let value: string;
    if (rest.startsWith('"')) {
      const close = rest.indexOf('"', 1);
      if (close < 0) throw new Error(`option ${name[1]}: the quoted value has no closing quote`);
      value = rest.slice(1, close);
      rest = rest.slice(close + 1);
      if (rest && !/^\s/.test(rest)) throw new Error(`option ${name[1]}: text right after the closing quote`);
    } else {
      const next = NEXT_OPTION.exec(rest);
      value = (next ? rest.slice(0, next.index) : rest).trim();
      rest = next ? rest.slice(next.index) : '';
    }
    if (!value) throw new Error(`option ${name[1]} has no value`);
    if (options.some((option) => option.name === name[1])) throw new Error(`option ${name[1]} is given twice`);
    options.push({ name: name[1]!, value });
    rest = rest.trim();
  }
  return options;
}

/**
 * The closing "Try it" of a note: its last paragraph starts with **Try it:**, says what to look
 * for, and ends with one or more ```sightread blocks. In a block every line is a command
 * (`/sentiment text:…`) or a claim about the result of the command above it (`→ vader: negative`);
 * a test runs the commands it can and checks the claims.
 */
export function parseTryIt(body: string): TryIt {
  const paragraphs = body.split(/\n\s*\n/);
  const last = paragraphs.at(-1) ?? '';
  if (!last.startsWith('**Try it:**'))
    throw new Error('the last paragraph must be the "**Try it:**" section (no blank line inside it)');
  const lines = last.split('\n');
  const prose: string[] = [];
  const commands: TryItCommand[] = [];
  let inFence = false;
  let fences = 0;
  for (const line of lines) {
    if (!inFence) {
      if (line === TRY_IT_FENCE) {
        inFence = true;
        fences += 1;
      } else if (line.startsWith('```')) throw new Error(`a Try-it block must open with ${TRY_IT_FENCE}: ${line}`);
      else if (fences > 0) throw new Error(`text after the Try-it commands: ${line}`);
      else prose.push(line);
      continue;
    }
    if (line === '```') {
      inFence = false;
      continue;
    }
    const trimmed = line.trim();
    if (trimmed.startsWith('/')) {
      const match = /^\/([a-z][a-z0-9-]*)(?:\s+(.*))?$/.exec(trimmed);
      if (!match) throw new Error(`not a command: ${line}`);
      try {
        commands.push({
          line: trimmed,
          command: match[1]!,
          options: parseCommandOptions(match[2] ?? ''),
          expectations: [],
        });
      } catch (error) {
        throw new Error(`${trimmed}: ${(error as Error).message}`);
      }
    } else if (trimmed.startsWith('→')) {
      const match = /^→\s*([a-z0-9][a-z0-9._-]*):\s*(.+)$/i.exec(trimmed);
      const command = commands.at(-1);
      if (!match || !command) throw new Error(`a claim must follow a command and read "→ subject: claim": ${line}`);
      command.expectations.push({
        line: trimmed,
        subject: match[1]!,
        claims: match[2]!.split(/,\s+/).map((claim) => claim.trim()),
      });
    } else if (trimmed) throw new Error(`a Try-it block holds only /commands and "→ subject: claim" lines: ${line}`);
  }
  if (inFence) throw new Error('the Try-it block is not closed with ```');
  if (commands.length === 0) throw new Error(`the Try-it section has no ${TRY_IT_FENCE} block with a command`);
  const text = prose.join('\n');
  if (/`\//.test(text)) throw new Error('commands in the Try-it go in the fenced block, not inline');
  return { prose: text, commands };
}

/** Reads and validates one note; the error names the file and every problem. */
export function parseTopic(file: string, content: string): Topic {
  const match = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(content.replace(/\r\n/g, '\n'));
  if (!match) throw new Error(`${file}: missing front matter between --- lines`);
  const parsed = frontMatter.safeParse(parseFrontMatter(match[1]!));
  if (!parsed.success)
    throw new Error(
      `${file}: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
    );
  const body = match[2]!.trim();
  let tryIt: TryIt;
  try {
    tryIt = parseTryIt(body);
  } catch (error) {
    throw new Error(`${file}: Try it: ${(error as Error).message}`);
  }
  return { ...parsed.data, body, words: body.split(/\s+/).filter(Boolean).length, file, tryIt };
}

const loaded = new Map<string, ReadonlyMap<string, Topic>>();

/** Every note in prompts/topics, read and validated once per process; ids must be unique. */
export function loadTopics(dir = join(PROMPTS_DIR, 'topics')): ReadonlyMap<string, Topic> {
  const cached = loaded.get(dir);
  if (cached) return cached;
  const topics = new Map<string, Topic>();
  for (const file of readdirSync(dir)
    .filter((name) => name.endsWith('.md'))
    .sort()) {
    const topic = parseTopic(file, readFileSync(join(dir, file), 'utf8'));
    if (topics.has(topic.id)) throw new Error(`${file}: duplicate topic id "${topic.id}"`);
    topics.set(topic.id, topic);
  }
  loaded.set(dir, topics);
  return topics;
}

/** Autocomplete: topics whose title, id or keywords contain what the user typed, best first. */
export function suggestTopics(
  topics: ReadonlyMap<string, Topic>,
  typed: string,
): Array<{ name: string; value: string }> {
  const query = typed.trim().toLowerCase();
  const scored = [...topics.values()].map((topic) => {
    if (!query) return { topic, score: 1 };
    const title = topic.title.toLowerCase();
    let score = 0;
    if (topic.id.startsWith(query) || title.startsWith(query)) score += 4;
    if (title.includes(query) || topic.id.includes(query)) score += 2;
    if (topic.keywords.some((keyword) => keyword.toLowerCase().includes(query))) score += 1;
    return { topic, score };
  });
  return scored
    .filter((entry) => entry.score > 0)
    .sort((a, b) => b.score - a.score || a.topic.title.localeCompare(b.topic.title))
    .map(({ topic }) => ({ name: topic.title, value: topic.id }));
}
