import { Redis, type RedisOptions } from 'ioredis';

/** The first reconnection waits this long; each next one doubles it, up to RECONNECT_MAX_MS. */
const RECONNECT_FIRST_MS = 100;
const RECONNECT_MAX_MS = 5000;

/**
 * Reconnection backoff for every connection to Redis: doubling from 100 ms to 5 s, half of it
 * random, so that the workers of a deployment do not all come back at the same moment after
 * Redis restarts. ioredis keeps trying for ever (a worker waits out an outage).
 */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const step = Math.min(RECONNECT_MAX_MS, RECONNECT_FIRST_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/**
 * A connection to REDIS_URL.
 * - `front`: fails fast while Redis is down (no offline queue, one retry per command), so a
 *   front end answers "busy, try again" at once instead of holding an interaction past
 *   Discord's 3 s.
 * - `worker`: what BullMQ's workers need: commands wait for the connection to come back
 *   (maxRetriesPerRequest null), so a blocking fetch survives a restart of Redis.
 */
export function connectRedis(url: string, role: 'front' | 'worker', onDown?: (error: Error) => void): Redis {
  // No connectionName: BullMQ names its workers' connections (getWorkers counts them by name),
  // and ioredis would put its own name back on every reconnection.
  const options: RedisOptions = {
    retryStrategy: (attempt) => reconnectDelay(attempt),
    ...(role === 'front'
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 }
      : { maxRetriesPerRequest: null }),
  };
  const redis = new Redis(url, options);
  // ioredis reports every failed reconnection; the first of an outage is enough to log.
  let up = true;
  redis.on('ready', () => (up = true));
  redis.on('error', (error: Error) => {
    if (up) onDown?.(error);
    up = false;
  });
  return redis;
}
