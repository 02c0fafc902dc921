import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, freePort } from '../helpers.js';
import { botEnv, finalEdit, freshDataDir, startBot, until, type BotProcess } from './bot-process.js';
import { DiscordEmulator } from './emulator.js';

/** How the bot starts when the journal's database is not there, or not usable. */
const emulator = new DiscordEmulator();
const running: BotProcess[] = [];

beforeAll(() => emulator.start());
afterAll(async () => {
  for (const bot of running) if (bot.child.exitCode === null) bot.child.kill('SIGKILL');
  await emulator.stop();
});

describe('the journal at start-up', () => {
  it('with a DATABASE_URL nobody answers: says so, keeps retrying, reports 503, and still answers', async () => {
    const healthPort = await freePort();
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    const bot = await startBot(emulator, {
      DATABASE_URL: 'postgres://sightread:secret@127.0.0.1:9/sightread',
      HEALTH_PORT: String(healthPort),
      // Acknowledged at once, so that the request goes through the journal's record (an answer
      // ready within the inline window needs no record at all).
      INLINE_ANSWER_MS: '0',
    });
    running.push(bot);
    const health = await fetch(`http://127.0.0.1:${healthPort}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ journal: 'unavailable' });
    const record = emulator.interact({
      name: 'sentiment',
      type: 1,
      options: [{ name: 'text', type: 3, value: 'The database is down but I am fine' }],
    });
    await until(() => finalEdit(record), 15_000, 'the answer');
    expect(
      bot.logs.some(
        (entry) => entry.msg === 'the journal database is unavailable; answering without recording the request',
      ),
    ).toBe(true);
    // The password never reaches the log.
    expect(JSON.stringify(bot.logs)).not.toContain('secret');
  }, 90_000);

  it('with a DATA_DIR that cannot hold a database: one clear line and exit 78, before logging in', async () => {
    const notAFolder = join(freshDataDir(), 'plain-file');
    writeFileSync(notAFolder, 'not a folder');
    const identifiedBefore = emulator.identified;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
      cwd: ROOT,
      env: botEnv(emulator, { DATA_DIR: notAFolder }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(78);
    expect(stderr).toMatch(/Cannot start the interaction journal:\n {2}- .*DATA_DIR/);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(emulator.identified).toBe(identifiedBefore);
  });
});
