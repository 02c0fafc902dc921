import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiscordEmulator } from './emulator.js';

// Discord's own limits, crossed on a clock the tests move by hand instead of waiting for them.
const RESPONSE_DEADLINE_MS = 3000;
const TOKEN_LIFETIME_MS = 15 * 60 * 1000;
let clock = Date.UTC(2025, 0, 1);
const advance = (ms: number): void => {
  clock += ms;
};
const emulator = new DiscordEmulator({ now: () => clock });
beforeAll(() => emulator.start());
afterAll(() => emulator.stop());

const post = (path: string, body: unknown, method = 'POST'): Promise<Response> =>
  fetch(`${emulator.apiUrl}/v10${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const callback = (record: { id: string; token: string }, body: unknown): Promise<Response> =>
  post(`/interactions/${record.id}/${record.token}/callback`, body);
const edit = (record: { token: string }, body: unknown): Promise<Response> =>
  post(`/webhooks/${emulator.appId}/${record.token}/messages/@original`, body, 'PATCH');

describe('the Discord emulator enforces what Discord enforces', () => {
  it('accepts one initial response and refuses a second with 40060', async () => {
    const record = emulator.interact({ name: 'help', type: 1 });
    expect((await callback(record, { type: 5 })).status).toBe(204);
    const second = await callback(record, { type: 4, data: { content: 'hi' } });
    expect(second.status).toBe(400);
    expect(((await second.json()) as { code: number }).code).toBe(40060);
  });

  it('kills the token when the first response misses the 3-second deadline', async () => {
    const onTime = emulator.interact({ name: 'help', type: 1 });
    const missed = emulator.interact({ name: 'help', type: 1 });
    advance(RESPONSE_DEADLINE_MS - 1);
    expect((await callback(onTime, { type: 5 })).status).toBe(204);
    advance(2);
    const late = await callback(missed, { type: 5 });
    expect(late.status).toBe(404);
    expect(((await late.json()) as { code: number }).code).toBe(10062);
    expect(missed.initial).toBeUndefined();
  });

  it('refuses edits after the 15-minute token expires', async () => {
    const record = emulator.interact({ name: 'help', type: 1 });
    await callback(record, { type: 5 });
    expect((await edit(record, { content: 'on time' })).status).toBe(200);
    advance(TOKEN_LIFETIME_MS - 1);
    expect((await edit(record, { content: 'just in time' })).status).toBe(200);
    advance(2);
    const expired = await edit(record, { content: 'too late' });
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { code: number }).code).toBe(50027);
    expect(record.edits.map((e) => e.json.content)).toEqual(['on time', 'just in time']);
  });

  it('rejects messages over the content and embed limits with 50035', async () => {
    const record = emulator.interact({ name: 'help', type: 1 });
    await callback(record, { type: 5 });
    for (const body of [
      { content: 'x'.repeat(2001) },
      { embeds: [{ title: 't'.repeat(257) }] },
      { embeds: [{ title: 't', fields: Array.from({ length: 26 }, () => ({ name: 'n', value: 'v' })) }] },
      {
        embeds: [
          {
            title: 't',
            description: 'd'.repeat(4096),
            fields: [
              { name: 'n', value: 'v'.repeat(1024) },
              { name: 'n', value: 'v'.repeat(1024) },
            ],
          },
        ],
      },
    ]) {
      const response = await edit(record, body);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { code: number }).code).toBe(50035);
    }
  });

  it('refuses a deferred response with flags other than EPHEMERAL', async () => {
    const record = emulator.interact({ name: 'help', type: 1 });
    expect((await callback(record, { type: 5, data: { flags: 4 } })).status).toBe(400);
  });
});

describe('the Discord emulator fails on demand', () => {
  it('answers the calls a fault describes with its status while it lasts, then normally again', async () => {
    const record = emulator.interact({ name: 'help', type: 1 });
    await callback(record, { type: 5 });
    const outage = emulator.inject({
      method: 'PATCH',
      path: new RegExp(record.token),
      answer: { status: 502 },
      forMs: 1000,
    });
    expect((await edit(record, { content: 'a' })).status).toBe(502);
    advance(999);
    expect((await edit(record, { content: 'b' })).status).toBe(502);
    advance(1);
    expect((await edit(record, { content: 'c' })).status).toBe(200);
    expect(outage.answered).toHaveLength(2);
    expect(record.edits.map((e) => e.json.content)).toEqual(['c']);
  });

  it('rate-limits with Retry-After, and drops connections unanswered', async () => {
    const record = emulator.interact({ name: 'help', type: 1 });
    await callback(record, { type: 5 });
    emulator.inject({ path: new RegExp(record.token), answer: { status: 429, retryAfterSeconds: 2 }, times: 1 });
    const limited = await edit(record, { content: 'a' });
    expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '2']);
    expect(((await limited.json()) as { retry_after: number }).retry_after).toBe(2);
    emulator.inject({ path: new RegExp(record.token), answer: 'drop', times: 1 });
    await expect(edit(record, { content: 'b' })).rejects.toThrow(/fetch failed/);
    expect((await edit(record, { content: 'c' })).status).toBe(200);
  });
});
