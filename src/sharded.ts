import { fileURLToPath } from 'node:url';
import { ShardingManager } from 'discord.js';
import { loadConfigRequiring } from './config/env.js';
import { createLogger } from './util/logger.js';
import { COMPILED } from './util/paths.js';

/**
 * `npm run start:sharded`: one bot process per gateway shard, for bots in more than ~2,000
 * servers (Discord requires sharding from 2,500). Each shard loads its own models, so give
 * the machine memory for every shard.
 */
const config = loadConfigRequiring(['DISCORD_TOKEN'], 'to run the bot');
const logger = createLogger(config);
// Shards run what this process runs: the compiled bot (npm run start:sharded) or its sources under tsx.
const manager = new ShardingManager(fileURLToPath(new URL(COMPILED ? './index.js' : './index.ts', import.meta.url)), {
  token: config.DISCORD_TOKEN,
  execArgv: COMPILED ? ['--enable-source-maps'] : ['--import', 'tsx'],
  totalShards: 'auto',
});
manager.on('shardCreate', (shard) => logger.info({ shard: shard.id }, 'shard launched'));
await manager.spawn();
