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
});

export type TopicMeta = z.infer<typeof frontMatter>;
export interface Topic extends TopicMeta {
  body: string;
  words: number;
  file: string;
}

/** Parses our restricted front matter: `key: value` lines, with `[a, b]` for lists. */
function parseFrontMatter(text: string): Record<string, unknown> {
  const entries = text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const colon = line.indexOf(':');
      if (colon < 0) throw new Error(`front matter line without "key:": ${line}`);
      const key = line.slice(0, colon).trim();
      const raw = line.slice(colon + 1).trim();
      const value =
        raw.startsWith('[') && raw.endsWith(']')
          ? raw
              .slice(1, -1)
              .split(',')
              .map((item) => item.trim())
              .filter(Boolean)
          : raw;
      return [key, value] as const;
    });
  return Object.fromEntries(entries);
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
  return { ...parsed.data, body, words: body.split(/\s+/).filter(Boolean).length, file };
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
