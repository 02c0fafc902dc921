import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { snowflakeAt } from '../../src/journal/entry.js';
import type { JobResult, QueuedJob } from '../../src/queue/job.js';
import { JobQueue } from '../../src/queue/queue.js';
import { connectRedis } from '../../src/queue/redis.js';
import { QueueWorker, type JobHandlers } from '../../src/queue/worker.js';
import { recordingLogger, silentLogger } from '../helpers.js';
import { HAS_REDIS, RedisServer } from '../redis.js';

/**
 * The job queue on a real redis-server: jobs wait (durably) until released, servers take turns,
 * a worker that dies mid-job has its job run by another once the lock lapses, a job that kills
 * its worker every time is given up with a word to its user, and an expired one is not run.
 */
const APP = '100000000000000001';
let redis: RedisServer;
const opened: Array<{ close(): Promise<unknown> }> = [];
let sequence = 0;

function job(guildId: string | null, extra: Partial<QueuedJob> = {}): QueuedJob {
  sequence += 1;
  return {
    id: snowflakeAt(Date.now(), sequence),
    applicationId: APP,
    token: `token-${sequence}`,
    commandName: 'sentiment',
    options: { text: `message ${sequence}` },
    guildId,
    channelId: null,
    userId: snowflakeAt(Date.now(), 1000 + sequence),
    canManageServer: false,
    receivedAt: Date.now(),
    ...extra,
  };
}

function openQueue(promoteAfterMs = 60_000): JobQueue {
  const queue = new JobQueue(connectRedis(redis.url, 'front'), { promoteAfterMs, maxAttempts: 2 });
  opened.push(queue);
  return queue;
}

interface Started {
  worker: QueueWorker;
  results: JobResult[];
}

function startWorker(handlers: JobHandlers, options: { concurrency?: number; lockMs?: number } = {}): Started {
  const results: JobResult[] = [];
  const worker = new QueueWorker(connectRedis(redis.url, 'worker'), handlers, {
    concurrency: options.concurrency ?? 1,
    maxAttempts: 2,
    lockMs: options.lockMs ?? 1000,
    logger: silentLogger,
    onResult: (result) => results.push(result),
  });
  opened.push({ close: () => worker.close(0) });
  void worker.run();
  return { worker, results };
}

/** Resolves with each job `run` is given, in order; `answer` decides what run returns (never, for a worker that hangs). */
function recorder(answer: (job: QueuedJob) => Promise<JobResult> = () => Promise.resolve('answered')) {
  const ran: QueuedJob[] = [];
  const gaveUp: Array<{ job: QueuedJob; attempts: number }> = [];
  const waiters: Array<() => void> = [];
  const handlers: JobHandlers = {
    run: (queued) => {
      ran.push(queued);
      for (const wake of waiters.splice(0)) wake();
      return answer(queued);
    },
    giveUp: (queued, attempts) => {
      gaveUp.push({ job: queued, attempts });
      for (const wake of waiters.splice(0)) wake();
      return Promise.resolve();
    },
  };
  const until = async (check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  };
  return { ran, gaveUp, handlers, until };
}

beforeAll(async () => {
  if (HAS_REDIS) redis = await RedisServer.start();
});
afterEach(async () => {
  for (const item of opened.splice(0)) await item.close().catch(() => undefined);
  if (HAS_REDIS) {
    const client = new Redis(redis.url);
    await client.flushall();
    client.disconnect();
  }
});
afterAll(async () => {
  await redis?.dispose();
});

describe.skipIf(!HAS_REDIS)('the job queue on Redis', () => {
  it('keeps a job delayed until its front end releases it, then a worker runs it once', async () => {
    const queue = openQueue();
    const { ran, handlers, until } = recorder();
    const { results } = startWorker(handlers);
    const queued = job('200000000000000002');
    const ticket = await queue.enqueue(queued);
    if (ticket === 'duplicate') throw new Error('a new job was called a duplicate');
    expect(await queue.queue.getJobState(ticket.id)).toBe('delayed');
    expect((await queue.stats()).depth).toBe(1);
    expect(ran).toEqual([]);

    await queue.release(ticket);
    await until(() => results.length === 1, 'the job to be answered');
    expect(ran).toEqual([queued]);
    expect(results).toEqual(['answered']);
    // Completed jobs leave Redis at once: nothing holds the token any more.
    expect(await queue.queue.getJob(ticket.id)).toBeUndefined();
    expect((await queue.stats()).depth).toBe(0);
  });

  it('runs a job its front end never released (it died after the deferral) once its delay is over', async () => {
    const queue = openQueue(3000);
    const { ran, handlers, until } = recorder();
    const { results } = startWorker(handlers);
    const queued = job('200000000000000002');
    const ticket = await queue.enqueue(queued);
    if (ticket === 'duplicate') throw new Error('a new job was called a duplicate');
    expect(await queue.queue.getJobState(ticket.id)).toBe('delayed');
    await until(() => results.length === 1, 'the job to start on its own', 15_000);
    expect(ran).toEqual([queued]);
    expect(results).toEqual(['answered']);
  }, 20_000);

  it('says "duplicate" for an interaction queued twice, and never runs a withdrawn job', async () => {
    const queue = openQueue(3000);
    const first = job('200000000000000002');
    const ticket = await queue.enqueue(first);
    expect(await queue.enqueue(first)).toBe('duplicate');
    if (ticket === 'duplicate') throw new Error('a new job was called a duplicate');
    await queue.withdraw(ticket);
    expect(await queue.queue.getJob(ticket.id)).toBeUndefined();
    const stats = await queue.stats();
    expect(stats).toMatchObject({ depth: 0, oldestAgeSeconds: 0 });
  });

  it("serves every server's first waiting job before any server's second, whatever order the bursts came in", async () => {
    const queue = openQueue();
    const servers = ['200000000000000011', '200000000000000022', '200000000000000033'];
    // Bursts: the first server's class sends four, the second three, the third two.
    const bursts = [4, 3, 2];
    const jobs: QueuedJob[] = [];
    bursts.forEach((count, server) => {
      for (let i = 0; i < count; i += 1) jobs.push(job(servers[server]!));
    });
    for (const queued of jobs) {
      const ticket = await queue.enqueue(queued);
      if (ticket === 'duplicate') throw new Error('a new job was called a duplicate');
      await queue.release(ticket);
    }
    const { ran, handlers, until } = recorder();
    startWorker(handlers, { concurrency: 1 });
    await until(() => ran.length === jobs.length, 'every job');
    // Expected: round by round, each server's n-th job, servers in the order they first came.
    const place = (queued: QueuedJob): number =>
      jobs.filter((other) => other.guildId === queued.guildId).findIndex((other) => other.id === queued.id);
    const expected = [...jobs].sort(
      (a, b) => place(a) - place(b) || servers.indexOf(a.guildId!) - servers.indexOf(b.guildId!),
    );
    expect(ran.map((queued) => queued.id)).toEqual(expected.map((queued) => queued.id));
    expect(ran.slice(0, 3).map((queued) => queued.guildId)).toEqual(servers);
  });

  it('has a job whose worker died mid-run run by another worker once the lock lapses, answered once', async () => {
    const queue = openQueue();
    const hung = recorder(() => new Promise<JobResult>(() => undefined));
    const dying = startWorker(hung.handlers, { lockMs: 1000 });
    const queued = job('200000000000000002');
    const ticket = await queue.enqueue(queued);
    if (ticket === 'duplicate') throw new Error('a new job was called a duplicate');
    await queue.release(ticket);
    await hung.until(() => hung.ran.length === 1, 'the first worker to take the job');
    // Killed: it stops renewing its lock and never completes the job.
    await dying.worker.worker.close(true);

    const { logger, entries } = recordingLogger();
    const healthy = recorder();
    const results: JobResult[] = [];
    const second = new QueueWorker(connectRedis(redis.url, 'worker'), healthy.handlers, {
      concurrency: 1,
      maxAttempts: 2,
      lockMs: 1000,
      logger,
      onResult: (result) => results.push(result),
    });
    opened.push({ close: () => second.close(0) });
    void second.run();
    await healthy.until(() => results.length === 1, 'the second worker to answer the job');
    expect(healthy.ran.map((ran) => ran.id)).toEqual([queued.id]);
    expect(results).toEqual(['answered']);
    expect(entries.find((entry) => entry.msg === 'running a job again')).toMatchObject({ starts: 2 });
    expect(hung.ran).toHaveLength(1);
  }, 30_000);

  it('gives up a job that stops its worker every time after QUEUE_MAX_ATTEMPTS starts, telling its user once', async () => {
    const queue = openQueue();
    const queued = job('200000000000000002', { commandName: 'classify' });
    const ticket = await queue.enqueue(queued);
    if (ticket === 'duplicate') throw new Error('a new job was called a duplicate');
    await queue.release(ticket);
    // Two workers in turn take it and die with it (maxAttempts: 2).
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      const poisoned = recorder(() => new Promise<JobResult>(() => undefined));
      const started = startWorker(poisoned.handlers);
      await poisoned.until(() => poisoned.ran.length === 1, `start ${attempt}`);
      await started.worker.worker.close(true);
    }
    const last = recorder();
    const { results } = startWorker(last.handlers);
    await last.until(() => last.gaveUp.length === 1, 'the job to be given up');
    expect(last.ran).toEqual([]);
    expect(last.gaveUp).toEqual([{ job: queued, attempts: 2 }]);
    await last.until(() => results.length === 1, 'the result');
    expect(results).toEqual(['gave_up']);
    await last.until(() => false, 'nothing', 300).catch(() => undefined);
    expect(await queue.queue.getJobState(ticket.id)).toBe('failed');
    expect(last.gaveUp).toHaveLength(1);
  }, 30_000);

  it('tells the user once when running a job keeps throwing, after its last attempt', async () => {
    const queue = openQueue();
    const failing = recorder(() => Promise.reject(new Error('the model crashed')));
    startWorker(failing.handlers);
    const queued = job('200000000000000002');
    const ticket = await queue.enqueue(queued);
    if (ticket === 'duplicate') throw new Error('a new job was called a duplicate');
    await queue.release(ticket);
    await failing.until(() => failing.gaveUp.length === 1, 'the job to be given up');
    expect(failing.ran).toHaveLength(2);
    expect(failing.gaveUp).toEqual([{ job: queued, attempts: 2 }]);
    await failing.until(() => false, 'nothing', 300).catch(() => undefined);
    expect(await queue.queue.getJobState(ticket.id)).toBe('failed');
  }, 30_000);

  it('closes a job whose interaction token has expired without running it', async () => {
    const queue = openQueue();
    const { ran, handlers, until } = recorder();
    const { results } = startWorker(handlers);
    const stale = job('200000000000000002', { receivedAt: Date.now() - 16 * 60 * 1000 });
    const ticket = await queue.enqueue(stale);
    if (ticket === 'duplicate') throw new Error('a new job was called a duplicate');
    await queue.release(ticket);
    await until(() => results.length === 1, 'the job to be closed');
    expect(results).toEqual(['expired']);
    expect(ran).toEqual([]);
  });

  it('reports depth, the oldest waiting job and the number of workers', async () => {
    let now = Date.now();
    const queue = new JobQueue(connectRedis(redis.url, 'front'), {
      promoteAfterMs: 60_000,
      maxAttempts: 2,
      now: () => now,
    });
    opened.push(queue);
    await queue.enqueue(job('200000000000000002'));
    now += 5000;
    await queue.enqueue(job('200000000000000003'));
    now += 2500;
    const idle = recorder();
    startWorker(idle.handlers);
    startWorker(idle.handlers);
    await idle.until(() => false, 'workers to connect', 500).catch(() => undefined);
    expect(await queue.stats()).toEqual({ depth: 2, active: 0, failed: 0, oldestAgeSeconds: 7.5, workers: 2 });
  });

  it('refuses to enqueue at once while Redis is down instead of holding the request', async () => {
    const down = await RedisServer.start();
    const queue = new JobQueue(connectRedis(down.url, 'front'), { promoteAfterMs: 60_000, maxAttempts: 2 });
    opened.push(queue);
    await down.dispose();
    const started = Date.now();
    await expect(queue.enqueue(job('200000000000000002'))).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
