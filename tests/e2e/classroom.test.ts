import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { solidPng } from '../helpers.js';
import { finalEdit, startBot, until, type BotProcess } from './bot-process.js';
import { DiscordEmulator, type InteractionRecord } from './emulator.js';

/**
 * The moment that matters for a study group: a teacher says "everyone, try it now". The real bot
 * process against the emulator, a whole class at once, every request acknowledged within
 * Discord's 3 s and answered, and servers served in turn.
 */
const emulator = new DiscordEmulator();
let bot: BotProcess;
let members = 0;
const nextMember = (): string => String(700000000000000000n + BigInt((members += 1)));

beforeAll(async () => {
  await emulator.start();
  bot = await startBot(emulator, { COOLDOWN_SECONDS: '30' });
}, 60_000);

afterAll(async () => {
  if (bot.child.exitCode === null) bot.child.kill('SIGKILL');
  await emulator.stop();
});

const allAnswered = (records: InteractionRecord[], timeoutMs: number): Promise<true> =>
  until(
    () =>
      records.every((record) => finalEdit(record) !== undefined || record.followUps.length > 0) ? true : undefined,
    timeoutMs,
    `answers to all ${records.length} requests`,
  );

describe('a whole class at once', () => {
  it('acknowledges 40 members of one server sending /sentiment within 3 s, and answers every one', async () => {
    const records = Array.from({ length: 40 }, (_, i) =>
      emulator.interact(
        {
          name: 'sentiment',
          type: 1,
          options: [{ name: 'text', type: 3, value: `The lesson was great, number ${i}` }],
        },
        { userId: nextMember() },
      ),
    );
    await allAnswered(records, 60_000);
    const acknowledged = records.map((record) => record.initial!.at - record.createdAt);
    // The first ready within INLINE_ANSWER_MS are answered in their first response (type 4);
    // those still waiting for their turn then are acknowledged ("thinking…", type 5) and edited.
    expect(records.every((record) => record.initial?.type === 4 || record.initial?.type === 5)).toBe(true);
    expect(Math.max(...acknowledged)).toBeLessThan(3000);
    // Answered, not refused: every reply is the result, none an error.
    expect(records.filter((record) => record.followUps.length > 0)).toEqual([]);
    const slowest = Math.max(...records.map((record) => finalEdit(record)!.at - record.createdAt));
    const inline = records.filter((record) => record.initial?.type === 4).length;
    console.log(
      `40 × /sentiment from one server: slowest acknowledgement ${Math.max(...acknowledged)} ms, slowest answer ${slowest} ms, ${inline} answered in their first response`,
    );
  }, 90_000);

  it('answers 40 /classify from four servers, each server getting its first answer before any gets its fifth', async () => {
    const image = emulator.attachment('red.png', 'image/png', await solidPng([255, 0, 0]));
    const guilds = ['300000000000000001', '300000000000000002', '300000000000000003', '300000000000000004'];
    // Server by server, as four teachers would say "now": the first server's ten arrive first.
    const records = guilds.flatMap((guildId) =>
      Array.from({ length: 10 }, () => ({
        guildId,
        record: emulator.interact(
          {
            name: 'classify',
            type: 1,
            options: [{ name: 'image', type: 11, value: image.id }],
            resolved: { attachments: { [image.id]: image } },
          },
          { userId: nextMember(), guildId },
        ),
      })),
    );
    await allAnswered(
      records.map(({ record }) => record),
      120_000,
    );
    expect(records.filter(({ record }) => finalEdit(record) === undefined)).toEqual([]);
    const answerTimes = (guildId: string): number[] =>
      records
        .filter((entry) => entry.guildId === guildId)
        .map(({ record }) => finalEdit(record)!.at)
        .sort((a, b) => a - b);
    const firsts = guilds.map((guildId) => answerTimes(guildId)[0]!);
    const fifths = guilds.map((guildId) => answerTimes(guildId)[4]!);
    expect(Math.max(...firsts)).toBeLessThan(Math.min(...fifths));
    const acknowledged = records.map(({ record }) => record.initial!.at - record.createdAt);
    expect(Math.max(...acknowledged)).toBeLessThan(3000);
  }, 150_000);
});
