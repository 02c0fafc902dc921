import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, solidPng } from '../helpers.js';
import { finalEdit, startBot, until, type BotProcess } from './bot-process.js';
import { DiscordEmulator, type InteractionRecord } from './emulator.js';

/**
 * The bot on Discord's HTTP interactions endpoint instead of the gateway: the emulator signs
 * each request with the application's Ed25519 key and POSTs it, as Discord does; the HTTP reply
 * is the first response, and the answer goes through the interaction's token.
 */
const emulator = new DiscordEmulator();
let bot: BotProcess;
let endpoint = '';
let healthPort = 0;
let users = 0;
const nextUser = (): string => String(730000000000000000n + BigInt((users += 1)));

beforeAll(async () => {
  await emulator.start();
  const port = await freePort();
  healthPort = await freePort();
  endpoint = `http://127.0.0.1:${port}/interactions`;
  bot = await startBot(emulator, {
    INTERACTIONS_PORT: String(port),
    DISCORD_PUBLIC_KEY: emulator.publicKeyHex,
    HEALTH_PORT: String(healthPort),
    COOLDOWN_SECONDS: '0',
  });
}, 60_000);

afterAll(async () => {
  if (bot.child.exitCode === null) bot.child.kill('SIGKILL');
  await emulator.stop();
});

const sentiment = (text: string): Record<string, unknown> => ({
  name: 'sentiment',
  type: 1,
  options: [{ name: 'text', type: 3, value: text }],
});

async function accepted(metricLabel: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
  const line = text
    .split('\n')
    .find((entry) => entry.startsWith(`sightread_http_interactions_total{outcome="${metricLabel}"} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

describe('the HTTP interactions endpoint', () => {
  it('serves without a gateway connection, and is ready', async () => {
    expect(emulator.identified).toBe(0);
    const health = await fetch(`http://127.0.0.1:${healthPort}/healthz`);
    expect(health.status).toBe(200);
  });

  it('answers a PING with a PONG, as the developer portal checks', async () => {
    const reply = await emulator.postSigned(
      endpoint,
      JSON.stringify({ id: '1', type: 1, application_id: emulator.appId }),
    );
    expect(reply).toEqual({ status: 200, json: { type: 1 } });
  });

  it('acknowledges a command inline ("thinking…"), then edits the answer in through the token', async () => {
    const { record, response } = emulator.interactOverHttp(endpoint, sentiment('What a wonderful lesson'), {
      userId: nextUser(),
    });
    expect(await response).toEqual({ status: 200, json: { type: 5 } });
    const edit = await until(() => finalEdit(record), 15_000, 'the answer');
    expect((edit.json.embeds as Array<{ title: string }>)[0]!.title).toMatch(/sentiment/i);
    expect(record.rejections).toEqual([]);
  });

  it('downloads an attachment and answers /classify the same way', async () => {
    const image = emulator.attachment('red.png', 'image/png', await solidPng([255, 0, 0]));
    const { record, response } = emulator.interactOverHttp(
      endpoint,
      {
        name: 'classify',
        type: 1,
        options: [{ name: 'image', type: 11, value: image.id }],
        resolved: { attachments: { [image.id]: image } },
      },
      { userId: nextUser() },
    );
    expect((await response).json).toEqual({ type: 5 });
    const edit = await until(() => finalEdit(record), 15_000, 'the answer');
    expect((edit.json.embeds as Array<{ title: string }>)[0]!.title).toBe('CNN vs ViT');
    expect(edit.files.map((file) => file.name)).toContain('classify.png');
  });

  it('answers autocomplete inline with choices', async () => {
    const reply = await emulator.postSigned(
      endpoint,
      JSON.stringify({
        id: '1300000000000000000',
        application_id: emulator.appId,
        type: 4,
        token: 'autocomplete-token',
        member: { user: { id: nextUser() } },
        data: { name: 'explain', type: 1, options: [{ name: 'topic', type: 3, value: 'token', focused: true }] },
      }),
    );
    expect(reply.status).toBe(200);
    expect(reply.json?.type).toBe(8);
    const choices = (reply.json?.data as { choices: Array<{ name: string; value: string }> }).choices;
    expect(choices.length).toBeGreaterThan(0);
  });

  it('runs a button under an answer, pressed by another member, through the same endpoint', async () => {
    const { record } = emulator.interactOverHttp(endpoint, sentiment('This is not bad at all'), { userId: nextUser() });
    const answer = await until(() => finalEdit(record), 15_000, 'the answer');
    const rows = answer.json.components as Array<{ components: Array<{ custom_id: string; label: string }> }>;
    const button = rows[0]!.components[0]!;
    const message = { ...answer.json, id: '1400000000000000000', components: rows };
    const press = emulator.interactOverHttp(
      endpoint,
      { custom_id: button.custom_id, component_type: 2 },
      {
        type: 3,
        userId: nextUser(),
        message,
      },
    );
    expect((await press.response).json).toEqual({ type: 5 });
    await until(() => finalEdit(press.record), 15_000, 'the follow-up');
  });

  it('asks for the class in a form (Apps → Teach this image), and adds the example when the form comes back', async () => {
    const teacher = nextUser();
    const picture = emulator.attachment('leaf.png', 'image/png', await solidPng([20, 210, 30]));
    const message = emulator.message('our class pet', [picture]);
    const menu = emulator.interactOverHttp(
      endpoint,
      {
        name: 'Teach this image',
        type: 3,
        target_id: message.id,
        resolved: { messages: { [message.id as string]: message } },
      },
      { userId: teacher },
    );
    const form = await menu.response;
    expect(form.status).toBe(200);
    expect(form.json).toMatchObject({
      type: 9,
      data: { title: 'Teach this image', components: [{ type: 1, components: [{ type: 4, max_length: 32 }] }] },
    });
    const submitted = emulator.submitOverHttp(endpoint, menu.record, { answer: '  Green ' }, { userId: teacher });
    expect((await submitted.response).json).toEqual({ type: 5 });
    const edit = await until(() => finalEdit(submitted.record), 15_000, 'the example added');
    expect(JSON.stringify(edit.json.embeds)).toMatch(/Added an example of \\"green\\"/);
    // A well-formed form id the bot never issued (or issued before a restart): refused, privately.
    const forged = emulator.interactOverHttp(
      endpoint,
      { custom_id: 'sr1m:AAAAAAAAAAAAAAAA', components: [] },
      { type: 5, userId: teacher },
    );
    const refusal = await forged.response;
    expect(refusal.json).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(String((refusal.json?.data as { content: string }).content)).toMatch(/This form has expired/);
  });

  describe('refuses without doing any work', () => {
    const body = (): string =>
      JSON.stringify({
        id: String(1500000000000000000n + BigInt(users)),
        application_id: emulator.appId,
        type: 2,
        token: `never-run-${users}`,
        member: { user: { id: nextUser() } },
        data: { id: '1', ...sentiment('should never run') },
      });

    it('a missing, a malformed and a wrong signature, and a stale timestamp: 401', async () => {
      const before = await accepted('accepted');
      expect((await emulator.postSigned(endpoint, body(), { omit: true })).status).toBe(401);
      expect((await emulator.postSigned(endpoint, body(), { signature: 'not hex' })).status).toBe(401);
      const payload = body();
      const otherBody = body();
      const ts = String(Math.floor(Date.now() / 1000));
      expect(
        (await emulator.postSigned(endpoint, payload, { timestamp: ts, signature: emulator.sign(ts, otherBody) }))
          .status,
      ).toBe(401);
      const stale = String(Math.floor(Date.now() / 1000) - 6 * 60);
      expect(
        (await emulator.postSigned(endpoint, payload, { timestamp: stale, signature: emulator.sign(stale, payload) }))
          .status,
      ).toBe(401);
      expect(await accepted('refused_signature')).toBeGreaterThanOrEqual(4);
      expect(await accepted('accepted')).toBe(before);
    });

    it('a signed request sent a second time: 401', async () => {
      // A body of its own: the PING test above, signed within the same second, would be this very request.
      const payload = JSON.stringify({ id: '2', type: 1, application_id: emulator.appId, nonce: 'sent twice' });
      const ts = String(Math.floor(Date.now() / 1000));
      const signature = emulator.sign(ts, payload);
      expect((await emulator.postSigned(endpoint, payload, { timestamp: ts, signature })).status).toBe(200);
      expect((await emulator.postSigned(endpoint, payload, { timestamp: ts, signature })).status).toBe(401);
    });

    it('a body over 1 MB: 413; an unknown interaction type: 400', async () => {
      const huge = JSON.stringify({ type: 2, padding: 'x'.repeat(1024 * 1024) });
      expect((await emulator.postSigned(endpoint, huge)).status).toBe(413);
      const modal = JSON.stringify({ id: '1', type: 6, application_id: emulator.appId, token: 't', data: {} });
      expect((await emulator.postSigned(endpoint, modal)).status).toBe(400);
      const nonsense = JSON.stringify({ type: 99 });
      expect((await emulator.postSigned(endpoint, nonsense)).status).toBe(400);
    });

    it('anything but POST /interactions', async () => {
      expect((await fetch(endpoint)).status).toBe(405);
      expect((await fetch(endpoint.replace('/interactions', '/other'), { method: 'POST' })).status).toBe(404);
    });
  });

  it('acknowledges and answers 40 concurrent signed interactions, none lost', async () => {
    // The 3 s goal for 200 at once is measured by `npm run bench` (classroom), not timed here.
    const sent = Array.from({ length: 40 }, (_, i) =>
      emulator.interactOverHttp(endpoint, sentiment(`Sentence number ${i} for the class`), { userId: nextUser() }),
    );
    const replies = await Promise.all(sent.map((entry) => entry.response));
    expect(replies.map((reply) => reply.json)).toEqual(sent.map(() => ({ type: 5 })));
    const records: InteractionRecord[] = sent.map((entry) => entry.record);
    await until(
      () => (records.every((record) => finalEdit(record) !== undefined) ? true : undefined),
      60_000,
      'all answers',
    );
    expect(records.flatMap((record) => record.rejections)).toEqual([]);
    expect(records.every((record) => record.edits.filter((edit) => Array.isArray(edit.json.embeds)).length >= 1)).toBe(
      true,
    );
  }, 90_000);
});
