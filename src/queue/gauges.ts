// Apart from queue.ts so that a process without REDIS_URL (the bot's /metrics) does not load
// BullMQ and ioredis (28 MB resident imported alone) just to have these gauges' code.

/** The queue's state for /metrics. */
export interface QueueStats {
  /** Jobs waiting for a worker (runnable, or not yet released by their front end). */
  depth: number;
  /** Jobs a worker is running now. */
  active: number;
  /** Jobs moved aside after their last attempt. */
  failed: number;
  /** Age of the oldest job not yet taken by a worker, in seconds (0 when none waits). */
  oldestAgeSeconds: number;
  /** Worker processes connected to the queue. */
  workers: number;
}

/** The queue's gauges for /metrics, or nothing while Redis cannot be asked. */
export async function queueGauges(
  stats: () => Promise<QueueStats>,
): Promise<Record<string, { help: string; value: number }>> {
  try {
    const { depth, active, failed, oldestAgeSeconds, workers } = await stats();
    return {
      sightread_jobs_waiting: { help: 'Jobs on the Redis queue waiting for a worker.', value: depth },
      sightread_jobs_active: { help: 'Jobs workers are running now.', value: active },
      sightread_jobs_failed: { help: 'Jobs moved aside after their last attempt (kept a day).', value: failed },
      sightread_job_oldest_age_seconds: {
        help: 'Age of the oldest job not yet taken by a worker.',
        value: Math.round(oldestAgeSeconds * 1000) / 1000,
      },
      sightread_workers: { help: 'Worker processes connected to the queue.', value: workers },
      sightread_queue_up: { help: '1 when Redis answered this scrape.', value: 1 },
    };
  } catch {
    return { sightread_queue_up: { help: '1 when Redis answered this scrape.', value: 0 } };
  }
}
