import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { solidPng } from '../helpers.js';
import { startBot, until, type BotProcess } from './bot-process.js';
import { DiscordEmulator } from './emulator.js';

/** SIGTERM while a request cannot finish in time: its user is told, privately, to run it again. */
const GRACE_SECONDS = 2;
const emulator = new DiscordEmulator();
let bot: BotProcess;

beforeAll(async () => {
  await emulator.start();
  bot = await startBot(emulator, {
    SHUTDOWN_GRACE_SECONDS: String(GRACE_SECONDS),
    // Longer than the grace period: the download cannot end on its own before the shutdown does.
    ATTACHMENT_TIMEOUT_MS: '60000',
  });
}, 60_000);

afterAll(async () => {
  if (bot.child.exitCode === null) bot.child.kill('SIGKILL');
  await emulator.stop();
});

describe('shutting down with a slow download in flight', () => {
  it('tells the user to run the command again, deletes the "thinking…", and exits 0 within the grace period', async () => {
    const release = emulator.holdDownloads();
    const image = emulator.attachment('slow.png', 'image/png', await solidPng([10, 200, 10]));
    const record = emulator.interact({
      name: 'classify',
      type: 1,
      options: [{ name: 'image', type: 11, value: image.id }],
      resolved: { attachments: { [image.id]: image } },
    });
    await until(() => record.initial, 3000, 'the deferral');
    await until(
      () => emulator.calls.some((call) => call.path.startsWith('/attachments/')) || undefined,
      5000,
      'the download to start',
    );
    const signalledAt = Date.now();
    bot.child.kill('SIGTERM');
    expect(await bot.exited).toBe(0);
    release();
    const notice = record.followUps[0];
    expect(notice?.json.content).toMatch(/I'm restarting — please run the command again in a minute/);
    expect(Number(notice?.json.flags ?? 0) & 64).toBe(64);
    expect(notice?.json.allowed_mentions).toEqual({ parse: [] });
    expect(notice!.at - signalledAt).toBeLessThan(GRACE_SECONDS * 1000);
    expect(record.deleted).toBe(true);
    expect(record.edits.filter((edit) => Array.isArray(edit.json.embeds))).toEqual([]);
    expect(bot.logs.find((entry) => entry.msg === 'stopped')).toMatchObject({
      drained: false,
      interrupted: 1,
      unsettled: 0,
    });
  });
});
