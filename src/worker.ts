import type { Server } from 'node:http';
import { Client, type Client as ReadyClient } from 'discord.js';
import { Services } from './app.js';
import { loadCommands } from './command/loader.js';
import { ConfigError } from './config/config.js';
import { loadConfigRequiring } from './config/env.js';
import { startHealthServer } from './discord/health.js';
import { tokenResponder } from './discord/responder.js';
import { Router } from './discord/router.js';
import { openDatabase } from './journal/open.js';
import { queueGauges } from './queue/gauges.js';
import { JobQueue } from './queue/queue.js';
import { connectRedis } from './queue/redis.js';
import { QueueWorker } from './queue/worker.js';
import { createLogger } from './util/logger.js';

/**
 * `npm run start:worker`: a model worker. It loads the models, takes jobs the front ends put on
 * the Redis queue (REDIS_URL), runs them through the same router path as the single process,
 * and replies through each interaction's token over REST: no gateway, and no bot token needed
 * (Discord's interaction webhook routes are authorised by the token in their path). Run as many
 * as the machines allow; they share the queue.
 */
const loaded = loadConfigRequiring(['REDIS_URL'], 'to run a model worker');
// The buttons under a reply run on its input, held in the memory of the process that answered;
// a button press reaches a front end, which does not have it: a worker sends plain replies.
const config = { ...loaded, BUTTONS_ENABLED: false };
const logger = createLogger(config);
process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));
process.on('uncaughtException', (error) => logger.error({ err: error }, 'uncaught exception'));

// State several processes need lives on a PostgreSQL server: a worker never opens an embedded
// DATA_DIR (another worker, or the front end, may hold it). Without DATABASE_URL, /teach says so.
const database = config.DATABASE_URL ? await openDatabase(config, { logger }) : undefined;
const services = new Services(config, logger, database ? { database } : {});
const router = new Router(await loadCommands(), services);
// Never logged in: only the webhook routes, which discord.js calls without the bot's authorisation.
const client = new Client({
  intents: [],
  rest: { api: config.DISCORD_API_URL, rejectOnRateLimit: (limit) => limit.route.startsWith('/webhooks/') },
}) as ReadyClient<true>;
const stats = new JobQueue(connectRedis(config.REDIS_URL, 'front'), {
  promoteAfterMs: config.QUEUE_PROMOTE_AFTER_MS,
  maxAttempts: config.QUEUE_MAX_ATTEMPTS,
});
const redis = connectRedis(config.REDIS_URL, 'worker', (error) =>
  logger.warn({ err: error }, 'lost the connection to Redis; reconnecting with backoff'),
);
const worker = new QueueWorker(
  redis,
  {
    run: (job) => router.runQueued(job, tokenResponder(client, job.applicationId, job.token)),
    giveUp: (job, attempts) => router.giveUpQueued(job, tokenResponder(client, job.applicationId, job.token), attempts),
  },
  {
    // Enough jobs at once for the micro-batcher to fill a batch from several users.
    concurrency: config.WORKER_CONCURRENCY ?? config.BATCH_MAX_SIZE,
    maxAttempts: config.QUEUE_MAX_ATTEMPTS,
    lockMs: config.QUEUE_LOCK_MS,
    logger,
    onResult: (result) => services.metrics.requests.inc({ command: 'queued_job', outcome: result }),
  },
);

let models: Record<string, string> | undefined;
let health: Server | undefined;
let stopping = false;

async function stop(reason: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  const graceMs = config.SHUTDOWN_GRACE_SECONDS * 1000;
  logger.info({ reason, inFlight: router.pending, graceMs }, 'shutting down: taking no more jobs');
  // Jobs still running at the end of the grace period stay locked in Redis: another worker runs them once the lock lapses.
  const drained = await worker.close(graceMs);
  await stats.close();
  redis.disconnect();
  await services.dispose();
  await database?.close().catch(() => undefined);
  await new Promise<void>((resolve) => (health ? health.close(() => resolve()) : resolve()));
  logger.info({ drained }, 'stopped');
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void stop(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}

try {
  if (config.HEALTH_PORT) {
    health = await startHealthServer(
      config.HEALTH_PORT,
      services,
      {
        // A worker has no gateway session: "logged in" is Redis connected.
        loggedIn: () => redis.status === 'ready',
        models: () => (models ? services.modelStatus() : undefined),
        queue: () => redis.status === 'ready',
        gauges: () => queueGauges(() => stats.stats()),
      },
      () => router.pending,
    );
    logger.info({ port: config.HEALTH_PORT }, 'health server listening');
  }
  models = await services.preload();
  void worker.run().catch((error: unknown) => logger.error({ err: error }, 'the job worker stopped'));
  logger.info(
    { models, executionProvider: services.engine.activeProvider, concurrency: worker.worker.concurrency },
    'models loaded; ready',
  );
} catch (error) {
  await services.dispose();
  if (error instanceof ConfigError) {
    logger.fatal(error.problems.join('; '));
    process.exit(78);
  }
  logger.fatal({ err: error }, 'could not start the worker');
  process.exit(1);
}
