import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { solidPng } from '../helpers.js';
import { finalEdit, freshDataDir, startBot, until, type BotProcess } from './bot-process.js';
import { DiscordEmulator, type InteractionRecord } from './emulator.js';

/** SIGTERM while a request cannot finish in time (its download is stalled). */
const GRACE_SECONDS = 2;
const emulator = new DiscordEmulator();
const running: BotProcess[] = [];

beforeAll(() => emulator.start());
afterEach(() => {
  for (const bot of running.splice(0)) if (bot.child.exitCode === null) bot.child.kill('SIGKILL');
});
afterAll(() => emulator.stop());

async function start(extra: Record<string, string>): Promise<BotProcess> {
  const bot = await startBot(emulator, {
    SHUTDOWN_GRACE_SECONDS: String(GRACE_SECONDS),
    // Longer than the grace period: the download cannot end on its own before the shutdown does.
    ATTACHMENT_TIMEOUT_MS: '60000',
    ...extra,
  });
  running.push(bot);
  return bot;
}

/** A /classify whose download the emulator holds, once the bot has acknowledged it and started downloading. */
async function stalledClassify(): Promise<{ record: InteractionRecord; release: () => void }> {
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
    () => emulator.calls.some((call) => call.path.endsWith('/slow.png')) || undefined,
    5000,
    'the download to start',
  );
  return { record, release };
}

describe('shutting down with a slow download in flight', () => {
  it('without the journal: tells the user to run the command again, deletes the "thinking…", and exits 0 within the grace period', async () => {
    const bot = await start({ JOURNAL_ENABLED: 'false' });
    const { record, release } = await stalledClassify();
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
  }, 90_000);

  it('with the journal: says the request is saved, exits 0, and the next start answers it through its token', async () => {
    const dataDir = freshDataDir();
    const first = await start({ DATA_DIR: dataDir });
    const { record, release } = await stalledClassify();
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(record.edits.map((edit) => edit.json.content)).toContain(
      "⏳ I'm restarting. Your request is saved and will be answered as soon as I'm back.",
    );
    expect(record.followUps).toEqual([]);
    expect(record.deleted).toBe(false);
    expect(
      first.logs.find((entry) => entry.msg === 'unfinished requests left in the journal for the next start'),
    ).toMatchObject({ released: 1 });

    release();
    const second = await start({ DATA_DIR: dataDir });
    const answer = await until(() => finalEdit(record), 15_000, 'the answer after the restart');
    expect(answer.files.map((file) => file.name)).toContain('classify.png');
    expect(second.logs.find((entry) => entry.msg === 'journal replayed')).toMatchObject({ resumed: 1 });
    expect(record.edits.filter((edit) => Array.isArray(edit.json.embeds) && edit.json.embeds.length > 0)).toHaveLength(
      1,
    );
  }, 90_000);
});
