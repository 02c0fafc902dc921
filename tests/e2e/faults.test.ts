import { freePort } from '../helpers.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, until, type BotProcess } from './bot-process.js';
import { DiscordEmulator, type InteractionRecord, type RecordedCall } from './emulator.js';

/** The bot when Discord misbehaves: failing REST calls, rate limits, a dropped gateway connection. */
const emulator = new DiscordEmulator();
let bot: BotProcess;
let healthPort = 0;
let users = 0;
const nextUser = (): string => String(700000000000000000n + BigInt((users += 1)));

beforeAll(async () => {
  await emulator.start();
  healthPort = await freePort();
  // These faults are on the reply's edits through the token: every request is acknowledged first
  // ("thinking…"), not answered in its first response.
  bot = await startBot(emulator, { COOLDOWN_SECONDS: '0', HEALTH_PORT: String(healthPort), INLINE_ANSWER_MS: '0' });
}, 60_000);

afterAll(async () => {
  if (bot.child.exitCode === null) bot.child.kill('SIGKILL');
  await emulator.stop();
});

const sentiment = (text: string): InteractionRecord =>
  emulator.interact(
    { name: 'sentiment', type: 1, options: [{ name: 'text', type: 3, value: text }], resolved: {} },
    { userId: nextUser() },
  );
const hasEmbeds = (json: unknown): boolean =>
  Array.isArray((json as { embeds?: unknown } | undefined)?.embeds) &&
  ((json as { embeds: unknown[] }).embeds.length ?? 0) > 0;
const finalEdit = (record: InteractionRecord): InteractionRecord['edits'][number] | undefined =>
  record.edits.find((edit) => hasEmbeds(edit.json));
/** Every call made with this interaction's token. */
const callsOf = (record: InteractionRecord): RecordedCall[] =>
  emulator.calls.filter((call) => call.path.includes(record.token));
/** Everything about the interaction's webhook (edits, deletes, follow-ups). */
const webhookOf = (record: InteractionRecord): RegExp => new RegExp(`^/api/v10/webhooks/\\d+/${record.token}`);

const gatewayEvents = async (): Promise<Record<string, number>> =>
  Object.fromEntries(
    await Promise.all(
      ['disconnect', 'reconnecting', 'resume', 'invalidated'].map(
        async (event) => [event, await metric('sightread_gateway_events_total', `event="${event}"`)] as const,
      ),
    ),
  );
/** How much each gateway event's count grew since `before`. */
const gatewayEventsSince = async (before: Record<string, number>): Promise<Record<string, number>> => {
  const after = await gatewayEvents();
  return Object.fromEntries(Object.entries(after).map(([event, value]) => [event, value - (before[event] ?? 0)]));
};

async function metric(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
  const line = text.split('\n').find((entry) => entry.startsWith(`${name}{${labels}} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

const logged = (msg: string, after: number): Array<Record<string, unknown>> =>
  bot.logs.slice(after).filter((entry) => entry.msg === msg);

describe('the bot when Discord fails', () => {
  it('delivers the computed answer when Discord answers 5xx for a while', async () => {
    const record = sentiment('what a lovely day');
    // Every webhook call (the edit, and the delete and follow-up an error would need) fails for 1.5 s.
    const outage = emulator.inject({ path: webhookOf(record), answer: { status: 500 }, forMs: 1500 });
    const edit = await until(() => finalEdit(record), 15_000, 'the answer');
    expect((edit.json.embeds as Array<{ title: string }>)[0]!.title).toMatch(/sentiment/i);
    // More calls failed than discord.js's own three immediate retries, and none was answered after the answer.
    expect(outage.answered.length).toBeGreaterThan(4);
    expect(edit.at - outage.answered[0]!.at).toBeGreaterThanOrEqual(1500);
    expect(record.followUps).toEqual([]);
    expect(record.deleted).toBe(false);
    expect(await metric('sightread_reply_retries_total', 'reason="server_error"')).toBeGreaterThanOrEqual(1);
  });

  it('delivers the computed answer when connections to Discord drop for a while', async () => {
    const record = sentiment('a dreadful film');
    const outage = emulator.inject({ path: webhookOf(record), answer: 'drop', forMs: 1500 });
    const edit = await until(() => finalEdit(record), 15_000, 'the answer');
    expect(outage.answered.length).toBeGreaterThan(1);
    expect(edit.at - outage.answered[0]!.at).toBeGreaterThanOrEqual(1500);
    expect(record.followUps).toEqual([]);
    expect(await metric('sightread_reply_retries_total', 'reason="network"')).toBeGreaterThanOrEqual(1);
  });

  it('waits out a 429 for its Retry-After and sends the answer again once, not twice', async () => {
    const record = sentiment('pretty good');
    const limit = emulator.inject({
      method: 'PATCH',
      path: webhookOf(record),
      when: (call) => hasEmbeds(call.json),
      answer: { status: 429, retryAfterSeconds: 1 },
      times: 1,
    });
    const edit = await until(() => finalEdit(record), 15_000, 'the answer');
    expect(limit.answered).toHaveLength(1);
    expect(edit.at - limit.answered[0]!.at).toBeGreaterThanOrEqual(1000);
    const answers = callsOf(record).filter((call) => call.method === 'PATCH' && hasEmbeds(call.json));
    expect(answers.map((call) => call.status)).toEqual([429, 200]);
    // The wait was ours (bounded by the token's life, cut short by a shutdown), not one inside discord.js's REST.
    expect(await metric('sightread_reply_retries_total', 'reason="rate_limit"')).toBe(1);
  });
});

describe('the gateway connection', () => {
  it('logs and counts a dropped connection and its resume, then answers as before', async () => {
    const from = bot.logs.length;
    const before = await gatewayEvents();
    const resumes = emulator.resumed;
    emulator.dropGateway(4000);
    const resumed = await until(() => logged('gateway session resumed', from)[0], 15_000, 'the resume');
    expect(resumed).toMatchObject({ shardId: 0, level: 30 });
    expect(logged('gateway disconnected', from)).toEqual([
      expect.objectContaining({ shardId: 0, code: 4000, reason: 'UnknownError' }),
    ]);
    expect(logged('gateway reconnecting', from)).toHaveLength(1);
    expect(emulator.resumed).toBe(resumes + 1);
    expect(await gatewayEventsSince(before)).toEqual({ disconnect: 1, reconnecting: 1, resume: 1, invalidated: 0 });
    const record = sentiment('still here?');
    await until(() => finalEdit(record), 15_000, 'an answer after the resume');
  });

  it('logs and counts a session that could not be resumed, and starts a new one', async () => {
    const from = bot.logs.length;
    const before = await gatewayEvents();
    const identified = emulator.identified;
    emulator.invalidateSessions();
    emulator.dropGateway();
    await until(
      () => logged('gateway session could not be resumed; started a new one', from)[0],
      15_000,
      'a new session',
    );
    expect(emulator.identified).toBe(identified + 1);
    expect(logged('gateway disconnected', from)).toEqual([expect.objectContaining({ shardId: 0, code: 1006 })]);
    // discord.js closes the refused connection itself (1000) before it identifies anew.
    expect(logged('gateway connection closed again while reconnecting', from)).toEqual([
      expect.objectContaining({ shardId: 0, code: 1000 }),
    ]);
    expect(await gatewayEventsSince(before)).toEqual({ disconnect: 2, reconnecting: 2, resume: 0, invalidated: 1 });
    const record = sentiment('back again');
    await until(() => finalEdit(record), 15_000, 'an answer in the new session');
  });
});
