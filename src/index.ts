import { Services } from './app.js';
import { loadCommands } from './command/loader.js';
import { join } from 'node:path';
import { Bot } from './discord/bot.js';
import { openJournalOrExit } from './journal/open.js';
import { ConfigError } from './config/config.js';
import { loadConfigRequiring } from './config/env.js';
import { createLogger } from './util/logger.js';
import type { JobQueue } from './queue/queue.js';

/** Composition root: config → logger → services (models) → commands → Discord client. */
const config = loadConfigRequiring(['DISCORD_APP_ID'], 'to run the bot');
// Through the gateway the bot logs in with its token; on the HTTP interactions endpoint
// (INTERACTIONS_PORT, with DISCORD_PUBLIC_KEY) it answers through each interaction's token and needs none.
if (config.INTERACTIONS_PORT === undefined && !config.DISCORD_TOKEN) {
  process.stderr.write(
    'DISCORD_TOKEN is required to run the bot through the gateway (or set INTERACTIONS_PORT and DISCORD_PUBLIC_KEY to receive interactions over HTTP; see .env.example)\n',
  );
  process.exit(78);
}
const logger = createLogger(config);
process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));
process.on('uncaughtException', (error) => logger.error({ err: error }, 'uncaught exception'));

// Under start:sharded every shard is its own process, and an embedded database is one process's
// alone: each shard keeps its journal in its own folder (ShardingManager sets SHARDS).
const shard = process.env.SHARDS;
// With REDIS_URL this process is a front end: jobs are durable in Redis until a worker answers
// them, so no journal is kept (and no embedded database opened, which a second front end could not share).
// Loaded only then: BullMQ and ioredis (28 MB resident imported alone; 5–10 MB in the bot,
// bench/journal.md) are code a bot without Redis never runs.
async function openQueue(url: string): Promise<JobQueue> {
  const [{ JobQueue }, { connectRedis }] = await Promise.all([import('./queue/queue.js'), import('./queue/redis.js')]);
  return new JobQueue(
    connectRedis(url, 'front', (error) =>
      logger.warn({ err: error }, 'lost the connection to Redis; answering busy until it is back'),
    ),
    {
      promoteAfterMs: config.QUEUE_PROMOTE_AFTER_MS,
      maxAttempts: config.QUEUE_MAX_ATTEMPTS,
    },
  );
}
const queue = config.REDIS_URL ? await openQueue(config.REDIS_URL) : undefined;
const journaling =
  config.JOURNAL_ENABLED && !queue
    ? await openJournalOrExit(
        shard && !config.DATABASE_URL ? { ...config, DATA_DIR: join(config.DATA_DIR, `shard-${shard}`) } : config,
        { logger },
      )
    : undefined;
// /teach keeps each server's classes in the journal's database.
const services = new Services(config, logger, journaling ? { database: journaling.database } : {});
const bot = new Bot(services, await loadCommands(), journaling, queue);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void bot.stop(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
try {
  await bot.start(config.DISCORD_TOKEN);
} catch (error) {
  await services.dispose();
  await journaling?.database.close().catch(() => undefined);
  await queue?.close();
  if (error instanceof ConfigError) {
    // A setting the bot cannot run with, such as a HEALTH_PORT another process holds: the
    // operator needs the variable and what to do, not a stack; 78 as for any bad setting.
    logger.fatal(error.problems.join('; '));
    process.exit(78);
  }
  logger.fatal({ err: error }, 'could not start the bot');
  process.exit(1);
}
