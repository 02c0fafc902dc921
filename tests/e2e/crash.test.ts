import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { solidPng } from '../helpers.js';
import { finalEdit, freshDataDir, startBot, until, type BotProcess } from './bot-process.js';
import { DiscordEmulator, type InteractionRecord } from './emulator.js';

/**
 * SIGKILL loses nothing that was accepted: the journal holds every request until it is
 * answered, and the next start answers it through its token, once, even when that start is
 * killed too while it replays.
 */
const emulator = new DiscordEmulator();
const running: BotProcess[] = [];
const dataDir = freshDataDir();
let members = 0;
const nextMember = (): string => String(710000000000000000n + BigInt((members += 1)));

async function start(): Promise<BotProcess> {
  const bot = await startBot(emulator, { DATA_DIR: dataDir, COOLDOWN_SECONDS: '0', ATTACHMENT_TIMEOUT_MS: '60000' });
  running.push(bot);
  return bot;
}

async function kill(bot: BotProcess): Promise<void> {
  bot.child.kill('SIGKILL');
  await bot.exited;
}

beforeAll(() => emulator.start());
afterAll(async () => {
  for (const bot of running) if (bot.child.exitCode === null) bot.child.kill('SIGKILL');
  await emulator.stop();
});

const finalAnswers = (record: InteractionRecord): number =>
  record.edits.filter((edit) => Array.isArray(edit.json.embeds) && (edit.json.embeds as unknown[]).length > 0).length;

describe('a crash with requests in flight', () => {
  it('answers all 10 requests in flight at a SIGKILL after the restart, each exactly once, even when the replay is killed too', async () => {
    const first = await start();
    // Two /classify downloads stall and hold this server's two turns at the models; the other
    // eight (classify and sentiment, one per member) wait in line behind them.
    const release = emulator.holdDownloads();
    const records: InteractionRecord[] = [];
    for (let i = 0; i < 10; i += 1) {
      const options = { userId: nextMember() };
      if (i % 5 === 4) {
        records.push(
          emulator.interact(
            { name: 'sentiment', type: 1, options: [{ name: 'text', type: 3, value: `I loved lesson ${i}!` }] },
            options,
          ),
        );
        continue;
      }
      const image = emulator.attachment(`photo-${i}.png`, 'image/png', await solidPng([20 * i, 100, 200 - 10 * i]));
      records.push(emulator.interactWithImage('classify', image, options));
    }
    await until(() => records.every((record) => record.initial) || undefined, 5000, 'all 10 deferrals');
    await until(
      () => emulator.calls.filter((call) => call.path.startsWith('/attachments/')).length >= 2 || undefined,
      5000,
      'two downloads to start',
    );
    await kill(first);
    release();
    expect(records.filter((record) => finalEdit(record))).toEqual([]);

    // The replay computes every answer, but Discord refuses the final edits (503) until it is killed as well.
    const refused = emulator.inject({
      method: 'PATCH',
      path: /^\/api\/v10\/webhooks\//,
      when: (call) => Array.isArray((call.json as { embeds?: unknown } | undefined)?.embeds),
      answer: { status: 503 },
    });
    const second = await start();
    await until(
      () => new Set(refused.answered.map((call) => call.path)).size >= 5 || undefined,
      30_000,
      'answers computed by the replay',
    );
    expect(second.logs.find((entry) => entry.msg === 'journal replayed')).toMatchObject({ resumed: 10, adopted: 10 });
    await kill(second);
    refused.spec.times = refused.answered.length;

    const third = await start();
    await until(() => records.every((record) => finalEdit(record)) || undefined, 30_000, 'all 10 answers');
    expect(third.logs.find((entry) => entry.msg === 'journal replayed')).toMatchObject({ resumed: 10 });
    expect(records.map(finalAnswers)).toEqual(Array(10).fill(1));
    expect(records.every((record) => record.followUps.length === 0)).toBe(true);
    // Each user saw why the answer took a while.
    for (const record of records)
      expect(record.edits.map((edit) => edit.json.content)).toContain(
        '⏳ I restarted while working on this; picking it up again now.',
      );
  }, 120_000);

  it('tells a member whose button press was cut off by a SIGKILL, once restarted, that its input was in memory only', async () => {
    for (const bot of running) if (bot.child.exitCode === null) await kill(bot);
    const first = await start();
    const image = emulator.attachment('held-in-memory.png', 'image/png', await solidPng([200, 40, 40]));
    const classified = emulator.interactWithImage('classify', image, { userId: nextMember() });
    const answer = await until(() => finalEdit(classified), 15_000, 'the /classify answer');
    const buttons = (
      answer.json.components as Array<{ components: Array<{ label: string; custom_id: string }> }>
    ).flatMap((row) => row.components);
    const stress = buttons.find((button) => button.label === 'Stress test')!;
    // The press downloads the reply's image again, and that download stalls: "thinking…", then the crash.
    const downloads = (): number => emulator.calls.filter((call) => call.path.startsWith('/attachments/')).length;
    const before = downloads();
    const release = emulator.holdDownloads();
    const pressed = emulator.press(classified, stress.custom_id, { userId: nextMember() });
    await until(() => pressed.initial, 5000, 'the acknowledgement');
    expect(pressed.initial).toMatchObject({ type: 5, flags: 0 });
    await until(() => downloads() > before || undefined, 5000, 'the download to start');
    await kill(first);
    release();

    const second = await start();
    const notice = await until(() => pressed.followUps[0], 30_000, 'the notice after the restart');
    expect(Number(notice.json.flags) & 64).toBe(64);
    expect(String(notice.json.content)).toMatch(
      /I restarted while running \/stress from a button\. The image or text behind buttons is kept in memory only/,
    );
    expect(pressed.deleted).toBe(true);
    expect(finalEdit(pressed)).toBeUndefined();
    expect(second.logs.find((entry) => entry.msg === 'journal replayed')).toMatchObject({ resumed: 1 });
  }, 60_000);
});
