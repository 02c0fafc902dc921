import { join } from 'node:path';
import { pino } from 'pino';
import { Services } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';

/** Process start → every model the bot serves loaded and warm (checksums verified, one warm-up run each). */
const benchDir = process.argv[2]!;
const services = new Services(
  parseConfig({ MODELS_MANIFEST: join(benchDir, 'manifest.json'), MODELS_DIR: join(benchDir, '.lock'), MODEL_DOWNLOADS: 'false', EXECUTION_PROVIDER: 'cpu', LOG_LEVEL: 'silent' }),
  pino({ level: 'silent' }),
);
const status = await services.preload();
const ms = performance.now();
await services.dispose();
process.stdout.write(`${JSON.stringify({ coldStartMs: Math.round(ms), status })}\n`);
