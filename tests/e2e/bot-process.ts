import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURE_MANIFEST, ROOT } from '../helpers.js';
import type { DiscordEmulator, InteractionRecord } from './emulator.js';

export interface BotProcess {
  child: ChildProcess;
  logs: Array<Record<string, unknown>>;
  exited: Promise<number | null>;
}

const dataDirs: string[] = [];
process.once('exit', () => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * A DATA_DIR of its own (the journal's embedded database), removed when the tests end; pass it
 * to a restart. Under vitest it starts as a copy of the migrated database tests/global-setup.ts
 * made, so that the bot does not spend seconds creating one; elsewhere (the bench) it starts empty.
 */
export function freshDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sightread-e2e-data-'));
  dataDirs.push(dir);
  const template = process.env.SIGHTREAD_TEST_JOURNAL_TEMPLATE;
  if (template && existsSync(join(template, 'journal')))
    cpSync(join(template, 'journal'), join(dir, 'journal'), { recursive: true });
  return dir;
}

/** An empty MODELS_DIR for one bot, removed when the tests end. */
function freshModelsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sightread-e2e-models-'));
  dataDirs.push(dir);
  return dir;
}

/**
 * The bot's environment for tests: the emulator as Discord, tiny models, attachments from the
 * emulator on 127.0.0.1, which serves them over plain http on its own port.
 */
export function botEnv(emulator: DiscordEmulator, extra: Record<string, string> = {}): Record<string, string> {
  const modelsDir = extra.MODELS_DIR ?? freshModelsDir();
  return {
    PATH: process.env.PATH ?? '',
    DISCORD_TOKEN: 'emulator-bot-token',
    DISCORD_APP_ID: emulator.appId,
    DISCORD_API_URL: emulator.apiUrl,
    ATTACHMENT_HOSTS: '127.0.0.1',
    ATTACHMENT_ALLOW_INSECURE: 'true',
    MODELS_MANIFEST: FIXTURE_MANIFEST,
    // Empty and of its own: the lock file the bot writes there must not outlive this run (a
    // regenerated fixture would then fail a checksum recorded for the old one).
    MODELS_DIR: modelsDir,
    MODEL_DOWNLOADS: 'false',
    EXECUTION_PROVIDER: 'cpu',
    VISION_CNN_MODEL: 'tiny-cnn',
    VISION_VIT_MODEL: 'tiny-vit',
    CLIP_MODEL: 'tiny-clip',
    SENTIMENT_MODEL: 'tiny-sentiment',
    LOG_LEVEL: 'info',
    ...(extra.DATA_DIR ? {} : { DATA_DIR: freshDataDir() }),
    ...extra,
  };
}

/** What each entry point logs once it is ready: the bot (models loaded, or a front end on a queue) and a model worker. */
const READY_MESSAGES = new Set(['models loaded; ready', 'front end ready; jobs go to the queue']);

/**
 * Starts the real bot in a child process and waits until it logs that it is ready: its sources
 * under tsx (`npm run dev`), or the build in dist/ exactly as `npm start` runs it; `entry`
 * 'worker' starts a model worker (`npm run start:worker`) instead.
 */
export async function startBot(
  emulator: DiscordEmulator,
  extra: Record<string, string> = {},
  readyTimeoutMs = 60_000,
  compiled = false,
  script: 'index' | 'worker' = 'index',
): Promise<BotProcess> {
  const entry = compiled ? ['--enable-source-maps', `dist/src/${script}.js`] : ['--import', 'tsx', `src/${script}.ts`];
  const child = spawn(process.execPath, entry, {
    cwd: ROOT,
    env: botEnv(emulator, extra),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let buffer = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          logs.push(entry);
          if (typeof entry.msg === 'string' && READY_MESSAGES.has(entry.msg)) resolve();
        } catch {
          logs.push({ raw: line });
        }
      }
    });
    void exited.then((code) =>
      reject(new Error(`bot exited with ${code} before it was ready: ${JSON.stringify(logs.slice(-5))}`)),
    );
  });
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(
      () => reject(new Error(`bot not ready in ${readyTimeoutMs} ms: ${JSON.stringify(logs.slice(-5))}`)),
      readyTimeoutMs,
    ).unref(),
  );
  await Promise.race([ready, timeout]);
  return { child, logs, exited };
}

/** Resolves once `check` returns a value, polling every 20 ms. */
export async function until<T>(check: () => T | undefined, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const hasEmbeds = (json: Record<string, unknown>): boolean =>
  Array.isArray(json.embeds) && (json.embeds as unknown[]).length > 0;

/** Whether the interaction was answered at once with a private message (type 4, ephemeral). */
export const answeredPrivately = (record: InteractionRecord): boolean =>
  record.initial?.type === 4 && (record.initial.flags & 64) === 64;

/**
 * The interaction's final answer: the edit of its "thinking…" reply that carries embeds, or the
 * first response itself when the answer was ready in time to be it (INLINE_ANSWER_MS).
 */
export const finalEdit = (record: InteractionRecord): InteractionRecord['edits'][number] | undefined => {
  const edit = record.edits.find((candidate) => hasEmbeds(candidate.json));
  if (edit) return edit;
  const { initial } = record;
  if (initial?.type !== 4 || answeredPrivately(record)) return undefined;
  const json = (initial.data ?? {}) as Record<string, unknown>;
  return hasEmbeds(json) ? { at: initial.at, json, files: initial.files } : undefined;
};
