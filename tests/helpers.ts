import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import sharp from 'sharp';
import { pino } from 'pino';
import { Services } from '../src/app.js';
import { parseConfig, type Config } from '../src/config/config.js';
import type { Clock } from '../src/util/clock.js';

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const FIXTURES_DIR = join(ROOT, 'tests/fixtures/generated');
export const FIXTURE_MANIFEST = join(FIXTURES_DIR, 'manifest.json');
/** Read-only real assets beside the checkout; tests that need them skip with a message when absent. */
export const SHARED = resolve(ROOT, '..', 'shared');
export const HAS_SHARED = existsSync(join(SHARED, 'models/mobilenetv2-12-int8.onnx'));
export const SHARED_SKIP_REASON = `../shared is absent (looked in ${SHARED}): skipping tests on real models and data`;
if (!HAS_SHARED) console.warn(SHARED_SKIP_REASON);

/**
 * The store's folder (and its models.lock.json of checksums) for this checkout's tests: each
 * checkout generates its own fixtures, so checkouts side by side (worktrees) must not share it.
 */
export const TEST_MODELS_DIR = join(
  tmpdir(),
  `sightread-test-models-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}`,
);

export const silentLogger = pino({ level: 'silent' });

/** A logger that keeps every entry (as parsed JSON) for a test to read. */
export function recordingLogger(): { logger: pino.Logger; entries: Array<Record<string, unknown>> } {
  const entries: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => entries.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, entries };
}

/**
 * A clock a test moves by hand: `advance` runs the timers that come due, in order, at their due
 * time, without waiting. What a timer starts (a download) is the test's to await.
 */
export class ManualClock implements Clock {
  private current: number;
  private readonly timers: Array<{ at: number; order: number; callback: () => void }> = [];
  private scheduled = 0;

  constructor(start = Date.UTC(2025, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimer(callback: () => void, delayMs: number): () => void {
    const timer = { at: this.current + delayMs, order: (this.scheduled += 1), callback };
    this.timers.push(timer);
    return () => {
      const index = this.timers.indexOf(timer);
      if (index >= 0) this.timers.splice(index, 1);
    };
  }

  /** Timers not yet run, by how long from now each is due. */
  get pending(): number[] {
    return this.timers.map((timer) => timer.at - this.current).sort((a, b) => a - b);
  }

  advance(ms: number): void {
    const until = this.current + ms;
    for (;;) {
      const due = this.timers.filter((timer) => timer.at <= until).sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (!due) break;
      this.timers.splice(this.timers.indexOf(due), 1);
      this.current = due.at;
      due.callback();
    }
    this.current = until;
  }
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return parseConfig({
    MODELS_MANIFEST: FIXTURE_MANIFEST,
    MODELS_DIR: TEST_MODELS_DIR,
    MODEL_DOWNLOADS: 'false',
    EXECUTION_PROVIDER: 'cpu',
    ORT_INTRA_OP_THREADS: '1',
    VISION_CNN_MODEL: 'tiny-cnn',
    VISION_VIT_MODEL: 'tiny-vit',
    CLIP_MODEL: 'tiny-clip',
    SENTIMENT_MODEL: 'tiny-sentiment',
    FILL_MASK_MODEL: 'tiny-fill-mask',
    LOG_LEVEL: 'silent',
    ...overrides,
  });
}

export function testServices(overrides: Record<string, string> = {}): Services {
  const config = testConfig(overrides);
  return new Services(config, silentLogger);
}

type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

/**
 * The error `fn` throws, checked to be a `type`, for tests that inspect it further. Unlike an
 * assertion inside `try`, whose `catch` would swallow the assertion's own failure, this fails the
 * test when `fn` returns normally or throws something else.
 */
export function thrownBy<E extends Error>(fn: () => unknown, type: ErrorClass<E>): E {
  let returned: unknown;
  try {
    returned = fn();
  } catch (error) {
    if (error instanceof type) return error;
    throw new Error(`expected a ${type.name}, but this was thrown: ${inspect(error)}`, { cause: error });
  }
  throw new Error(`expected a ${type.name} to be thrown, but the call returned ${inspect(returned, { depth: 1 })}`);
}

/** The error `promise` rejects with, checked to be a `type`; fails the test when it resolves or rejects with something else. */
export async function rejectionOf<E extends Error>(promise: Promise<unknown>, type: ErrorClass<E>): Promise<E> {
  let resolved: unknown;
  try {
    resolved = await promise;
  } catch (error) {
    if (error instanceof type) return error;
    throw new Error(`expected a rejection with a ${type.name}, but got: ${inspect(error)}`, { cause: error });
  }
  throw new Error(
    `expected a rejection with a ${type.name}, but the promise resolved to ${inspect(resolved, { depth: 1 })}`,
  );
}

export const tempDir = (prefix = 'sightread-'): Promise<string> => mkdtemp(join(tmpdir(), prefix));

/** A solid-colour PNG; tiny models answer solid colours with scores computable by hand. */
export function solidPng(rgb: [number, number, number], width = 32, height = 24, alpha?: number): Promise<Buffer> {
  const channels = alpha === undefined ? 3 : 4;
  const background =
    alpha === undefined ? { r: rgb[0], g: rgb[1], b: rgb[2] } : { r: rgb[0], g: rgb[1], b: rgb[2], alpha };
  return sharp({ create: { width, height, channels, background } }).png().toBuffer();
}

export function softmax(values: number[]): number[] {
  const max = Math.max(...values);
  const exps = values.map((value) => Math.exp(value - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((value) => value / sum);
}

/** A port free on 127.0.0.1 right now (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
