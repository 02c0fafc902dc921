import { randomBytes } from 'node:crypto';
import type { Clock, JournalLogger } from '../../../src/journal/database.js';
import { snowflakeAt, type InteractionToRecord } from '../../../src/journal/entry.js';

/*
 * Test helpers without vitest, so that child processes (record-then-crash.ts) can use them too.
 */

/** A clock that moves only when a test says so; `sleep` waits for the test to advance past it. */
export class FakeClock implements Clock {
  private sleepers: Array<{ until: number; wake: () => void }> = [];
  /** Every sleep asked for, in ms, in order: the backoff a test checks. */
  readonly requestedSleeps: number[] = [];

  constructor(private current: number) {}

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.requestedSleeps.push(ms);
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const sleeper = { until: this.current + ms, wake: resolve };
      this.sleepers.push(sleeper);
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  /** Moves time forward and wakes every sleeper whose time has come. */
  advance(ms: number): void {
    this.current += ms;
    const due = this.sleepers.filter((sleeper) => sleeper.until <= this.current);
    this.sleepers = this.sleepers.filter((sleeper) => sleeper.until > this.current);
    for (const sleeper of due) sleeper.wake();
  }

  /** Resolves once something sleeps `count` times in all (the code under test reached its wait). */
  async sleptTimes(count: number): Promise<void> {
    while (this.requestedSleeps.length < count) await new Promise((resolve) => setImmediate(resolve));
  }
}

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  details: Record<string, unknown>;
}

/** A logger that keeps what it was told, for tests that check what an operator would read. */
export class CapturingLogger implements JournalLogger {
  readonly lines: LogLine[] = [];
  info(details: object, message: string): void {
    this.lines.push({ level: 'info', message, details: details as Record<string, unknown> });
  }
  warn(details: object, message: string): void {
    this.lines.push({ level: 'warn', message, details: details as Record<string, unknown> });
  }
  error(details: object, message: string): void {
    this.lines.push({ level: 'error', message, details: details as Record<string, unknown> });
  }
  messages(level?: LogLine['level']): string[] {
    return this.lines.filter((line) => level === undefined || line.level === level).map((line) => line.message);
  }
}

export const T0 = Date.parse('2026-12-01T12:00:00.000Z');
export const MINUTE = 60_000;

let sequence = 0;
/** An interaction created at `createdAt` (its id is a snowflake of that moment), as the router would record it. */
export function sampleInteraction(
  createdAt: number,
  overrides: Partial<InteractionToRecord> = {},
): InteractionToRecord {
  sequence = (sequence + 1) % 4096;
  return {
    id: snowflakeAt(createdAt, sequence),
    applicationId: '1100000000000000001',
    token: `aW50ZXJhY3Rpb246${randomBytes(12).toString('hex')}`,
    commandName: 'sentiment',
    options: { text: 'Not bad at all' },
    guildId: '1200000000000000002',
    channelId: '1300000000000000003',
    userId: '1400000000000000004',
    ...overrides,
  };
}
