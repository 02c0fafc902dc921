import type { Redis } from 'ioredis';

/**
 * Fairness between servers across the queue. Plain BullMQ has no per-group fairness (groups are
 * BullMQ Pro's), so each job gets a BullMQ `priority` equal to its place among its server's
 * jobs waiting at that moment: every server's first waiting job is taken before any server's
 * second, and jobs of the same place keep their order of arrival (BullMQ is FIFO within a
 * priority). Two Redis hashes and a sorted set, changed only by the two scripts below (atomic):
 * - WAITING: server → how many of its jobs wait (not yet taken by a worker);
 * - JOBS: job id → its server, so that taking a job a second time (a retry after a worker died)
 *   or withdrawing one that was taken already changes no count;
 * - SINCE: job id → when it was queued (ms), for the oldest waiting job's age in /metrics.
 */
const WAITING = 'sightread:fair:waiting';
const JOBS = 'sightread:fair:jobs';
const SINCE = 'sightread:fair:since';

/** BullMQ's largest priority (2^21 - 1). */
export const MAX_PRIORITY = 2_097_151;

/** Returns the job's place among its server's waiting jobs (1 for the first), or -1 when the id is already queued. */
const JOIN = `
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return -1 end
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
return redis.call('HINCRBY', KEYS[1], ARGV[2], 1)`;

/** Returns 1 when the job was waiting (and no longer counts), 0 when it was taken before. */
const LEAVE = `
local server = redis.call('HGET', KEYS[2], ARGV[1])
if not server then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if redis.call('HINCRBY', KEYS[1], server, -1) <= 0 then redis.call('HDEL', KEYS[1], server) end
return 1`;

export class FairShares {
  constructor(private readonly redis: Redis) {}

  /** Counts a job in its server's line; its place there (1 = first), or undefined when it is counted already. */
  async join(jobId: string, server: string, now: number): Promise<number | undefined> {
    const place = Number(await this.redis.eval(JOIN, 3, WAITING, JOBS, SINCE, jobId, server, String(now)));
    return place < 0 ? undefined : place;
  }

  /** The job was taken by a worker (or withdrawn): its server's line is one shorter. Idempotent. */
  async leave(jobId: string): Promise<boolean> {
    return Number(await this.redis.eval(LEAVE, 3, WAITING, JOBS, SINCE, jobId)) === 1;
  }

  /** When the oldest job still waiting was queued (ms), if any. */
  async oldestWaiting(): Promise<number | undefined> {
    const [, score] = await this.redis.zrange(SINCE, 0, 0, 'WITHSCORES');
    return score === undefined ? undefined : Number(score);
  }
}

/** The BullMQ priority for a job at `place` in its server's line. */
export const priorityFor = (place: number): number => Math.min(Math.max(1, place), MAX_PRIORITY);

/** The server a job counts against: a direct message counts as its user's own "server", as in the in-process scheduler. */
export const serverOf = (job: { guildId: string | null; userId: string }): string => job.guildId ?? `dm:${job.userId}`;
