import { setTimeout as wait } from 'node:timers/promises';
import { DiscordAPIError, HTTPError, RateLimitError } from 'discord.js';

/** Discord accepts webhook calls made with an interaction's token for this long after the interaction was created. */
export const TOKEN_LIFETIME_MS = 15 * 60 * 1000;
/** Discord wants the first response this soon after an interaction is created. */
const FIRST_RESPONSE_MS = 3000;
/** No retry starts this close to the token's expiry, so that the last attempt still reaches Discord in time. */
const EXPIRY_MARGIN_MS = 10_000;

/** Time, sleeping and randomness for retries; tests pass a clock they move by hand. */
export interface RetryClock {
  now(): number;
  /** Resolves after `ms`, or as soon as `signal` aborts (never rejects). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** A number in [0, 1), as Math.random. */
  random(): number;
}

export const systemClock: RetryClock = {
  now: () => Date.now(),
  sleep: (ms, signal) => wait(ms, undefined, { signal }).catch(() => undefined),
  random: () => Math.random(),
};

export interface BackoffPolicy {
  /** The longest first wait; each retry doubles it. */
  firstDelayMs: number;
  /** No wait is longer than this, however many retries came before. */
  maxDelayMs: number;
}

/** Starts short, for a blip of a second or two; capped, so that a longer outage is still noticed within a minute of its end. */
export const REPLY_BACKOFF: BackoffPolicy = { firstDelayMs: 250, maxDelayMs: 30_000 };

/**
 * The wait before retry number `retry` (0 for the first): the exponential step, half of it
 * fixed and half random ("equal jitter"), so that the replies held up by one outage do not all
 * come back at the same moment, and none comes back at once.
 */
export function backoffDelay(retry: number, policy: BackoffPolicy, random: () => number): number {
  const step = Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** retry);
  return step / 2 + random() * (step / 2);
}

/**
 * The last moment a retry may start for an interaction. Its snowflake carries its creation on
 * Discord's clock; ours may be skewed, so that time is clamped to what we know for sure on our
 * clock: it cannot be later than its arrival, nor earlier than the 3 s within which Discord
 * still let us respond to it.
 */
export function replyDeadline(createdTimestamp: number, receivedAt: number): number {
  const created = Math.min(receivedAt, Math.max(createdTimestamp, receivedAt - FIRST_RESPONSE_MS));
  return created + TOKEN_LIFETIME_MS - EXPIRY_MARGIN_MS;
}

export type RetryReason = 'server_error' | 'network' | 'rate_limit';

type Failure = { retry: false } | { retry: true; reason: RetryReason; afterMs?: number };

/** Error codes of a connection that failed or broke, from Node's sockets and from undici (discord.js's HTTP client). */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

function isNetworkError(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    // discord.js aborts a request after its REST timeout.
    if (current.name === 'AbortError' || current.name === 'TimeoutError') return true;
    const code = 'code' in current ? current.code : undefined;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    current = current.cause;
  }
  return false;
}

/**
 * Whether a failed call to Discord is worth repeating. discord.js has already repeated a 5xx
 * (three times, at once) before it throws an HTTPError; a 4xx says the request itself is wrong
 * or the token is dead, and repeating it cannot help; a rate limit says exactly how long to wait.
 */
export function classifyFailure(error: unknown): Failure {
  if (error instanceof RateLimitError) return { retry: true, reason: 'rate_limit', afterMs: error.retryAfter };
  if (error instanceof HTTPError)
    return error.status >= 500 ? { retry: true, reason: 'server_error' } : { retry: false };
  if (error instanceof DiscordAPIError) return { retry: false };
  return isNetworkError(error) ? { retry: true, reason: 'network' } : { retry: false };
}

export interface DeliveryOptions {
  /** No retry starts after this time (ms on the clock); see replyDeadline. */
  deadline: number;
  clock?: RetryClock;
  policy?: BackoffPolicy;
  /**
   * Shutdown: stop waiting between attempts. A wait it cuts short is followed by one last
   * attempt at once, since an answer already computed is worth more than an apology.
   */
  signal?: AbortSignal;
  onRetry?: (retry: { attempt: number; reason: RetryReason; delayMs: number; error: unknown }) => void;
}

/**
 * Sends one message to Discord (`send` is called again for each attempt, with the same
 * payload: nothing is recomputed), retrying server errors and broken connections with
 * exponential backoff and rate limits after the time Discord asks for, for as long as the
 * interaction's token lives. Throws the last error when it gives up.
 */
export async function deliver<T>(send: () => Promise<T>, options: DeliveryOptions): Promise<T> {
  const clock = options.clock ?? systemClock;
  const policy = options.policy ?? REPLY_BACKOFF;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await send();
    } catch (error) {
      const failure = classifyFailure(error);
      if (!failure.retry || options.signal?.aborted) throw error;
      const delayMs = failure.afterMs ?? backoffDelay(attempt - 1, policy, () => clock.random());
      if (clock.now() + delayMs > options.deadline) throw error;
      options.onRetry?.({ attempt, reason: failure.reason, delayMs, error });
      await clock.sleep(delayMs, options.signal);
    }
  }
}
