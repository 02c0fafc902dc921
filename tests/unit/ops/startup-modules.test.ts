import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../helpers.js';

/**
 * Loaded before the entry point: when the process exits, prints whether ioredis (CommonJS, which
 * BullMQ imports; both are the queue's) is in the module cache.
 */
const PROBE = `data:text/javascript,${encodeURIComponent(`
import { createRequire } from 'node:module';
const cache = createRequire(process.cwd() + '/').cache;
process.on('exit', () => {
  const loaded = Object.keys(cache).some((path) => path.includes('/node_modules/ioredis/'));
  process.stderr.write('queue modules loaded: ' + loaded + '\\n');
});`)}`;

/** Runs an entry point until its configuration check ends it (every static import has been evaluated by then). */
async function queueModulesLoaded(entry: string, env: Record<string, string>): Promise<boolean> {
  const run = promisify(execFile)(process.execPath, ['--import', 'tsx', '--import', PROBE, entry], {
    cwd: ROOT,
    // DISCORD_APP_ID set and empty: a .env file cannot fill it in, so the bot stops at its config check.
    env: { PATH: process.env.PATH ?? '', DISCORD_APP_ID: '', ...env },
    timeout: 60_000,
  });
  const { stderr } = await run.catch((error: { stderr?: string }) => ({ stderr: error.stderr ?? '' }));
  const line = /queue modules loaded: (true|false)/.exec(stderr);
  if (!line) throw new Error(`the probe did not report: ${stderr.slice(-500)}`);
  return line[1] === 'true';
}

describe('modules the bot loads at start', () => {
  it('leaves BullMQ and ioredis unloaded when there is no REDIS_URL', async () => {
    expect(await queueModulesLoaded('src/index.ts', {})).toBe(false);
  }, 60_000);

  it('loads them in a model worker, which always talks to Redis (the probe sees them)', async () => {
    expect(await queueModulesLoaded('src/worker.ts', {})).toBe(true);
  }, 60_000);
});
