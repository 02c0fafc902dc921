import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../util/logger.js';
import { FairShares } from './fairness.js';
import { QUEUE_NAME, queuedJob, type JobResult, type QueuedJob } from './job.js';

/** Discord accepts calls with an interaction's token for 15 minutes; a job older than that cannot be answered. */
const TOKEN_LIFETIME_MS = 15 * 60 * 1000;

export interface JobHandlers {
  /** Runs the job through the router (the same path as a live request) and says how it ended; never rejects. */
  run(job: QueuedJob): Promise<JobResult>;
  /** Tells the job's user, privately, that it was given up on after `attempts` starts; never rejects. */
  giveUp(job: QueuedJob, attempts: number): Promise<void>;
}

export interface QueueWorkerOptions {
  /** Jobs taken at once: several users' jobs reach the micro-batcher together. */
  concurrency: number;
  /** Starts before a job is given up (a worker that died while running it counts one). */
  maxAttempts: number;
  /** A worker's claim on a job; a dead worker's jobs are taken by another once it lapses. */
  lockMs: number;
  logger: Logger;
  now?: () => number;
  /** Counts each job's end, by result (answered, expired, gave_up, …). */
  onResult?: (result: JobResult) => void;
}

/**
 * A model worker's loop: takes jobs from the queue (up to `concurrency` at once), runs each
 * through `handlers.run`, and completes it in Redis only after its reply was sent.
 *
 * Exactly once: a job is locked while a worker runs it (BullMQ renews the lock); a worker killed
 * mid-job stops renewing, the stalled check of any live worker puts the job back once the lock
 * lapses (within about twice `lockMs`), and another worker runs it again. The reply is an edit
 * of the same `@original`, so a job that ran to the reply just before its worker died ends with
 * the same message. A job that kills its worker every time (a poison input that crashes the
 * models) is given up at its `maxAttempts + 1`-th start: its user is told privately and it is
 * moved to the failed set. A job past its token's lifetime is closed without running.
 */
export class QueueWorker {
  readonly worker: Worker;
  private readonly fair: FairShares;
  private readonly now: () => number;

  constructor(
    redis: Redis,
    private readonly handlers: JobHandlers,
    private readonly options: QueueWorkerOptions,
  ) {
    this.fair = new FairShares(redis);
    this.now = options.now ?? Date.now;
    this.worker = new Worker(QUEUE_NAME, (job) => this.process(job), {
      connection: redis,
      concurrency: options.concurrency,
      lockDuration: options.lockMs,
      stalledInterval: options.lockMs,
      // Stalls are counted by attemptsStarted below (so the user is told); BullMQ's own limit
      // would move the job to failed silently, so it is set past ours.
      maxStalledCount: options.maxAttempts + 1,
      // Answered jobs hold a token: gone at once. Failed ones stay a day for the operator.
      removeOnComplete: { count: 0 },
      removeOnFail: { age: 24 * 3600 },
      autorun: false,
    });
    this.worker.on('error', (error) => options.logger.warn({ err: error }, 'job queue connection error'));
    this.worker.on('stalled', (jobId) =>
      options.logger.warn({ jobId }, 'a job stalled (its worker stopped renewing its lock); running it again'),
    );
  }

  /** Starts taking jobs; resolves when the worker has stopped (see `close`). */
  run(): Promise<void> {
    return this.worker.run();
  }

  private async process(job: Job): Promise<JobResult> {
    const parsed = queuedJob.safeParse(job.data);
    if (!parsed.success) {
      this.options.logger.error({ jobId: job.id, problem: parsed.error.message }, 'a queued job is malformed');
      throw new UnrecoverableError('malformed job');
    }
    const data = parsed.data;
    const log = this.options.logger.child({ jobId: job.id, command: data.commandName, interactionId: data.id });
    // Its server's line is one shorter (idempotent: a retried job was counted out at its first start).
    await this.fair.leave(data.id).catch((error: unknown) => log.warn({ err: error }, 'could not update fair shares'));
    const result = await this.decide(job, data, log);
    this.options.onResult?.(result);
    if (result === 'gave_up') throw new UnrecoverableError(`gave up after ${job.attemptsStarted - 1} starts`);
    return result;
  }

  private async decide(job: Job, data: QueuedJob, log: Logger): Promise<JobResult> {
    const { maxAttempts } = this.options;
    if (job.attemptsStarted > maxAttempts) {
      log.warn({ starts: job.attemptsStarted }, 'giving up on a job whose worker stopped every time; telling its user');
      await this.handlers.giveUp(data, job.attemptsStarted - 1);
      return 'gave_up';
    }
    if (this.now() - data.receivedAt > TOKEN_LIFETIME_MS) {
      log.warn({ ageMs: this.now() - data.receivedAt }, 'a job outlived its interaction token; closed without running');
      return 'expired';
    }
    if (job.attemptsStarted > 1) log.info({ starts: job.attemptsStarted }, 'running a job again');
    try {
      return await this.handlers.run(data);
    } catch (error) {
      // The router's error boundary answers what a command throws; this is a fault around it.
      // BullMQ tries again until the job's attempts are spent; at the last, its user is told.
      const attempts = job.opts.attempts ?? 1;
      log.error({ err: error, attempt: job.attemptsMade + 1, attempts }, 'running a queued job failed');
      if (job.attemptsMade + 1 >= attempts) {
        await this.handlers.giveUp(data, job.attemptsMade + 1);
        this.options.onResult?.('gave_up');
      }
      throw error;
    }
  }

  /**
   * Stops taking jobs and waits for those running to be answered, up to `graceMs`; what is
   * still running then is left locked, and another worker runs it once the lock lapses.
   */
  async close(graceMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      this.worker.close().then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
    ]);
    clearTimeout(timer);
    if (!finished) await this.worker.close(true).catch(() => undefined);
    return finished;
  }
}
