import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { FairShares, priorityFor, serverOf } from './fairness.js';
import type { QueueStats } from './gauges.js';
import { QUEUE_NAME, jobIdOf, queuedJob, type QueuedJob, type Ticket } from './job.js';

export type { QueueStats } from './gauges.js';

/** What a front end needs of the queue (the router's seam). */
export interface JobIntake {
  /**
   * Durable in Redis, not yet runnable: a ticket, 'duplicate' when this interaction is queued
   * already (Discord delivered it twice), or a rejection when Redis cannot take it now.
   */
  enqueue(job: QueuedJob): Promise<Ticket | 'duplicate'>;
  /** Runnable now (the interaction is acknowledged). */
  release(ticket: Ticket): Promise<void>;
  /** Never to run (the acknowledgement failed). */
  withdraw(ticket: Ticket): Promise<void>;
}

export interface JobQueueOptions {
  /** Time before a job queued for an unacknowledged interaction starts on its own (see `enqueue`). */
  promoteAfterMs: number;
  /** Attempts BullMQ gives a job whose run throws (the router's error boundary catches command errors). */
  maxAttempts: number;
  /** Longest wait for Redis to take a job before the front end answers "busy". */
  enqueueTimeoutMs?: number;
  now?: () => number;
}

/** Discord wants the acknowledgement within 3 s; this leaves room for the deferral's own round trip. */
const ENQUEUE_TIMEOUT_MS = 1000;

class EnqueueTimeout extends Error {
  constructor(ms: number) {
    super(`Redis did not take the job within ${ms} ms`);
    this.name = 'EnqueueTimeout';
  }
}

/**
 * The Redis-backed queue (BullMQ) between front ends and model workers.
 *
 * Durable before the acknowledgement, runnable only after it: `enqueue` adds the job delayed by
 * `promoteAfterMs`, the front end acknowledges the interaction, then `release` promotes it. A
 * worker therefore never edits `@original` before Discord has the deferral. A front end that dies
 * between the two leaves a job that starts on its own after the delay: answered if the deferral
 * went out, or closed by the worker when Discord says the interaction is unknown (404).
 */
export class JobQueue implements JobIntake {
  readonly queue: Queue;
  private readonly fair: FairShares;
  private readonly now: () => number;
  private readonly timeoutMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly options: JobQueueOptions,
  ) {
    this.queue = new Queue(QUEUE_NAME, { connection: redis });
    this.fair = new FairShares(redis);
    this.now = options.now ?? Date.now;
    this.timeoutMs = options.enqueueTimeoutMs ?? ENQUEUE_TIMEOUT_MS;
    // Connection errors reach the callers of enqueue; unhandled, the event would end the process.
    this.queue.on('error', () => undefined);
  }

  /** Redis is connected (a front end says "busy" while it is not). */
  ready(): boolean {
    return this.redis.status === 'ready';
  }

  async enqueue(job: QueuedJob): Promise<Ticket | 'duplicate'> {
    const data = queuedJob.parse(job);
    // Reconnecting after a loss: "busy" at once. Still opening (a front end just started): waited for, within the timeout.
    if (['reconnecting', 'close', 'end'].includes(this.redis.status))
      throw new Error(`Redis is not connected (${this.redis.status})`);
    const adding = this.connected().then(() => this.add(data));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new EnqueueTimeout(this.timeoutMs)), this.timeoutMs);
    });
    try {
      return await Promise.race([adding, timeout]);
    } catch (error) {
      // Answered "busy" now: a job that lands later must never run.
      if (error instanceof EnqueueTimeout)
        void adding.then(
          (ticket) => (ticket === 'duplicate' ? undefined : this.withdraw(ticket)),
          () => undefined,
        );
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private connected(): Promise<void> {
    if (this.ready()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const ready = (): void => {
        this.redis.off('error', failed);
        resolve();
      };
      const failed = (error: unknown): void => {
        this.redis.off('ready', ready);
        reject(error instanceof Error ? error : new Error(String(error)));
      };
      this.redis.once('ready', ready);
      this.redis.once('error', failed);
    });
  }

  private async add(data: QueuedJob): Promise<Ticket | 'duplicate'> {
    const place = await this.fair.join(data.id, serverOf(data), this.now());
    if (place === undefined) return 'duplicate';
    try {
      await this.queue.add(data.commandName, data, {
        // The interaction id: a second add of the same interaction is a no-op in BullMQ too.
        jobId: jobIdOf(data.id),
        delay: this.options.promoteAfterMs,
        priority: priorityFor(place),
        attempts: this.options.maxAttempts,
        backoff: { type: 'exponential', delay: 1000 },
        // Answered jobs go at once (their token must not linger); failed ones stay a day for the operator.
        removeOnComplete: true,
        removeOnFail: { age: 24 * 3600 },
      });
    } catch (error) {
      await this.fair.leave(data.id).catch(() => undefined);
      throw error;
    }
    return { id: jobIdOf(data.id), interactionId: data.id };
  }

  async release(ticket: Ticket): Promise<void> {
    const job = await this.queue.getJob(ticket.id);
    // Already promoted by its delay, taken, or answered: nothing to do.
    if (!job || !(await job.isDelayed())) return;
    await job.promote().catch(async (error: unknown) => {
      if (await job.isDelayed()) throw error;
    });
  }

  async withdraw(ticket: Ticket): Promise<void> {
    const job = await this.queue.getJob(ticket.id);
    // A worker that took it already answers it or is told by Discord that it is unknown.
    if (job && ((await job.isDelayed()) || (await job.isWaiting()))) await job.remove().catch(() => undefined);
    await this.fair.leave(ticket.interactionId);
  }

  /** Depth, running, failed, the oldest waiting job's age and the number of workers. */
  async stats(): Promise<QueueStats> {
    const [counts, oldest, workers] = await Promise.all([
      this.queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'failed'),
      this.fair.oldestWaiting(),
      this.queue.getWorkersCount(),
    ]);
    const count = (state: string): number => counts[state] ?? 0;
    return {
      depth: count('waiting') + count('prioritized') + count('delayed'),
      active: count('active'),
      failed: count('failed'),
      oldestAgeSeconds: oldest === undefined ? 0 : Math.max(0, (this.now() - oldest) / 1000),
      workers,
    };
  }

  async close(): Promise<void> {
    await this.queue.close().catch(() => undefined);
    this.redis.disconnect();
  }
}
