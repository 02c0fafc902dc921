import { DiscordAPIError, HTTPError, RateLimitError } from 'discord.js';
import { describe, expect, it } from 'vitest';
import {
  REPLY_BACKOFF,
  TOKEN_LIFETIME_MS,
  backoffDelay,
  deliver,
  replyDeadline,
  type RetryClock,
} from '../../../src/discord/delivery.js';
import { rejectionOf } from '../../helpers.js';

const URL_ORIGINAL = 'http://127.0.0.1/api/v10/webhooks/1/token/messages/@original';

/** A clock that never sleeps: each wait moves it forward and is recorded. */
class ManualClock implements RetryClock {
  time = 1_000_000;
  readonly waits: number[] = [];
  onSleep: (() => void) | undefined;
  constructor(private readonly randomValue = 0.5) {}
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.waits.push(ms);
    this.time += ms;
    this.onSleep?.();
  }
  random(): number {
    return this.randomValue;
  }
}

const serverError = (): HTTPError => new HTTPError(500, 'Internal Server Error', 'PATCH', URL_ORIGINAL, {});
const tokenExpired = (): DiscordAPIError =>
  new DiscordAPIError({ code: 50027, message: 'Invalid Webhook Token' }, 50027, 401, 'PATCH', URL_ORIGINAL, {});
const rateLimited = (retryAfter: number): RateLimitError =>
  new RateLimitError({
    timeToReset: retryAfter,
    limit: Number.POSITIVE_INFINITY,
    method: 'PATCH',
    hash: 'Global(PATCH:/webhooks/:id/:token/messages/@original)',
    url: URL_ORIGINAL,
    route: '/webhooks/:id/:token/messages/@original',
    majorParameter: '1/token',
    global: false,
    retryAfter,
    sublimitTimeout: 0,
    scope: 'user',
  });
const connectionRefused = (): Error =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
const socketClosed = (): Error =>
  new TypeError('fetch failed', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) });

/** A send that fails with each of `failures` in turn, then succeeds; counts its calls. */
function flaky(failures: Array<() => Error>): { send: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    send: async () => {
      const failure = failures[calls];
      calls += 1;
      if (failure) throw failure();
      return 'delivered';
    },
    calls: () => calls,
  };
}

describe('reply delivery', () => {
  it('backs off exponentially with equal jitter, up to a cap', () => {
    const low = [0, 1, 2, 3].map((retry) => backoffDelay(retry, REPLY_BACKOFF, () => 0));
    const high = [0, 1, 2, 3].map((retry) => backoffDelay(retry, REPLY_BACKOFF, () => 0.999999));
    expect(low).toEqual([125, 250, 500, 1000]);
    high.forEach((delay, retry) => expect(delay).toBeCloseTo(250 * 2 ** retry, 0));
    expect(backoffDelay(30, REPLY_BACKOFF, () => 0)).toBe(REPLY_BACKOFF.maxDelayMs / 2);
    expect(backoffDelay(30, REPLY_BACKOFF, () => 0.999999)).toBeCloseTo(REPLY_BACKOFF.maxDelayMs, 0);
  });

  it('retries server errors with growing waits and delivers the same reply once Discord recovers', async () => {
    const clock = new ManualClock(0.5);
    const retries: string[] = [];
    const flakySend = flaky([serverError, serverError, serverError, serverError]);
    const result = await deliver(flakySend.send, {
      deadline: clock.time + TOKEN_LIFETIME_MS,
      clock,
      onRetry: ({ reason }) => retries.push(reason),
    });
    expect(result).toBe('delivered');
    expect(flakySend.calls()).toBe(5);
    expect(clock.waits).toEqual([187.5, 375, 750, 1500]);
    expect(retries).toEqual(['server_error', 'server_error', 'server_error', 'server_error']);
  });

  it('retries broken and refused connections', async () => {
    const clock = new ManualClock();
    const flakySend = flaky([connectionRefused, socketClosed]);
    await expect(deliver(flakySend.send, { deadline: clock.time + 60_000, clock })).resolves.toBe('delivered');
    expect(flakySend.calls()).toBe(3);
  });

  it('waits exactly what a rate limit asks for, without a backoff of its own', async () => {
    const clock = new ManualClock();
    const flakySend = flaky([() => rateLimited(2050), () => rateLimited(300)]);
    await deliver(flakySend.send, { deadline: clock.time + 60_000, clock });
    expect(clock.waits).toEqual([2050, 300]);
  });

  it('does not repeat what cannot succeed: a 4xx from Discord, or a bug', async () => {
    const clock = new ManualClock();
    const expired = flaky([tokenExpired]);
    expect(
      (await rejectionOf(deliver(expired.send, { deadline: clock.time + 60_000, clock }), DiscordAPIError)).code,
    ).toBe(50027);
    const bug = flaky([() => new TypeError("Cannot read properties of undefined (reading 'embeds')")]);
    await rejectionOf(deliver(bug.send, { deadline: clock.time + 60_000, clock }), TypeError);
    expect([expired.calls(), bug.calls()]).toEqual([1, 1]);
    expect(clock.waits).toEqual([]);
  });

  it('keeps trying for as long as the token lives, then gives up with the last error', async () => {
    const clock = new ManualClock(0.5);
    const deadline = clock.time + TOKEN_LIFETIME_MS;
    let calls = 0;
    const down = async (): Promise<string> => {
      calls += 1;
      throw serverError();
    };
    await rejectionOf(deliver(down, { deadline, clock }), HTTPError);
    expect(clock.time).toBeLessThanOrEqual(deadline);
    // It stopped only because the next wait would have crossed the deadline.
    expect(clock.time + backoffDelay(calls - 1, REPLY_BACKOFF, () => 0.5)).toBeGreaterThan(deadline);
    expect(Math.max(...clock.waits)).toBe(REPLY_BACKOFF.maxDelayMs * 0.75);
  });

  it('does not wait for a rate limit that outlasts the token', async () => {
    const clock = new ManualClock();
    const flakySend = flaky([() => rateLimited(120_000)]);
    await rejectionOf(deliver(flakySend.send, { deadline: clock.time + 60_000, clock }), RateLimitError);
    expect(clock.waits).toEqual([]);
  });

  it('on shutdown, stops waiting and makes one last attempt at once', async () => {
    const clock = new ManualClock();
    const shutdown = new AbortController();
    clock.onSleep = () => shutdown.abort();
    const flakySend = flaky([serverError, serverError, serverError]);
    await rejectionOf(
      deliver(flakySend.send, { deadline: clock.time + TOKEN_LIFETIME_MS, clock, signal: shutdown.signal }),
      HTTPError,
    );
    expect(flakySend.calls()).toBe(2);
    expect(clock.waits).toHaveLength(1);
  });

  it("measures the token's life from the interaction's creation, trusting its snowflake only as far as our clock allows", () => {
    const receivedAt = 1_700_000_000_000;
    const margin = receivedAt + TOKEN_LIFETIME_MS - replyDeadline(receivedAt, receivedAt);
    expect(margin).toBeGreaterThan(0);
    expect(margin).toBeLessThan(30_000);
    // Created 1.2 s before it reached us: the token dies 1.2 s earlier than if it were created on arrival.
    expect(replyDeadline(receivedAt - 1200, receivedAt)).toBe(replyDeadline(receivedAt, receivedAt) - 1200);
    // A snowflake far in the past or in the future is our clock's skew, not the interaction's age.
    expect(replyDeadline(receivedAt - 3_600_000, receivedAt)).toBe(replyDeadline(receivedAt - 3000, receivedAt));
    expect(replyDeadline(receivedAt + 60_000, receivedAt)).toBe(replyDeadline(receivedAt, receivedAt));
  });
});
