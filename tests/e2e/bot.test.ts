import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, solidPng } from '../helpers.js';
import { botEnv, finalEdit, startBot, until, type BotProcess } from './bot-process.js';
import { DiscordEmulator, type InteractionRecord } from './emulator.js';

const emulator = new DiscordEmulator();
let bot: BotProcess;
let users = 0;
/** A fresh user per request, so cooldowns only apply where a test wants them. */
const nextUser = (): string => String(600000000000000000n + BigInt((users += 1)));

beforeAll(async () => {
  await emulator.start();
  bot = await startBot(emulator, {
    COOLDOWN_SECONDS: '30',
    GUILD_MAX_IN_FLIGHT: '50',
    IMAGE_MAX_BYTES: String(200 * 1024),
  });
}, 60_000);

afterAll(async () => {
  if (bot.child.exitCode === null) bot.child.kill('SIGKILL');
  await emulator.stop();
});

/** Waits for the final answer: an edit with embeds, or an ephemeral follow-up (errors). */
const answered = (record: InteractionRecord, timeoutMs = 15_000): Promise<true> =>
  until(
    () =>
      finalEdit(record) !== undefined || record.followUps.length > 0 || record.initial?.flags === 64 ? true : undefined,
    timeoutMs,
    `an answer to ${record.id}`,
  );

function slash(
  name: string,
  options: Array<{ name: string; type: number; value: unknown }>,
  attachments: Array<ReturnType<DiscordEmulator['attachment']>> = [],
): Record<string, unknown> {
  return { name, type: 1, options, resolved: { attachments: Object.fromEntries(attachments.map((a) => [a.id, a])) } };
}

function classifyWith(attachment: ReturnType<DiscordEmulator['attachment']>): Record<string, unknown> {
  return slash('classify', [{ name: 'image', type: 11, value: attachment.id }], [attachment]);
}

const expectEphemeralError = (record: InteractionRecord, pattern: RegExp): void => {
  const followUp = record.followUps[0]?.json;
  const message = followUp ?? (record.initial?.data as Record<string, unknown> | undefined);
  expect(message?.content).toMatch(pattern);
  expect(Number(message?.flags ?? 0) & 64).toBe(64);
  expect(message?.allowed_mentions).toEqual({ parse: [] });
};

describe('the bot against the Discord emulator', () => {
  it('logs in through the gateway with only the Guilds intent', () => {
    expect(emulator.identified).toBe(1);
    expect(emulator.calls.some((call) => call.path === '/api/v10/gateway/bot')).toBe(true);
  });

  it('registers every command with a bulk overwrite and prints what changed', async () => {
    const run = promisify(execFile);
    const deploy = (): Promise<{ stdout: string }> =>
      run(process.execPath, ['--import', 'tsx', 'scripts/deploy-commands.ts'], {
        cwd: ROOT,
        env: botEnv(emulator, { DISCORD_GUILD_ID: '200000000000000002' }),
      });
    const first = await deploy();
    const registered = emulator.registered.get('200000000000000002') as Array<{ name: string; type: number }>;
    expect(registered.map((command) => command.name).sort()).toEqual(
      [
        'Analyze text',
        'Classify image',
        'ask',
        'classify',
        'explain',
        'forget',
        'help',
        'languages',
        'mask',
        'mask-text',
        'match',
        'preprocess',
        'quiz',
        'saliency',
        'saliency-text',
        'sentiment',
        'settings',
        'status',
        'stress',
        'stress-text',
        'teach',
        'Teach this image',
        'tokenize',
      ].sort(),
    );
    // Shown only to members who may manage the server (they are still checked when used).
    const permissions = (name: string): unknown =>
      (registered.find((command) => command.name === name) as { default_member_permissions?: unknown } | undefined)
        ?.default_member_permissions;
    expect(permissions('settings')).toBe('32');
    expect(permissions('forget')).toBeUndefined();
    expect(permissions('classify')).toBeUndefined();
    expect(first.stdout).toMatch(/Registered 23 commands to server 200000000000000002/);
    expect(first.stdout).toMatch(
      /added: {3}Analyze text, ask, Classify image, classify, explain, forget, help, languages, mask-text, mask, match, preprocess, quiz, saliency-text, saliency, sentiment, settings, status, stress-text, stress, Teach this image, teach, tokenize/,
    );
    const second = await deploy();
    expect(second.stdout).toMatch(/added: {3}none/);
    expect(second.stdout).toMatch(/unchanged: 23/);
    expect(emulator.calls.filter((call) => call.method === 'PUT')).toHaveLength(2);
    // Two runs of the deploy script, each a cold tsx start: generous on a loaded CI machine.
  }, 90_000);

  it('answers /classify with an attachment: an embed and a PNG chart, in the first response or as the edit of "thinking…"', async () => {
    const started = Date.now();
    const record = emulator.interact(
      classifyWith(emulator.attachment('red.png', 'image/png', await solidPng([255, 0, 0]))),
      { userId: nextUser() },
    );
    await answered(record);
    const edit = finalEdit(record)!;
    // Ready within INLINE_ANSWER_MS (the tiny models usually are), the answer is the first
    // response; on a busy machine it may not be, and then "thinking…" came first.
    expect(record.initial).toMatchObject({ type: record.edits.length === 0 ? 4 : 5, flags: 0 });
    expect(record.initial!.at - record.createdAt).toBeLessThan(3000);
    const embeds = edit.json.embeds as Array<{
      title: string;
      image?: { url: string };
      footer?: { text: string };
      fields: Array<{ name: string; value: string }>;
    }>;
    expect(embeds[0]!.title).toBe('CNN vs ViT');
    expect(embeds[0]!.image!.url).toBe('attachment://classify.png');
    expect(embeds[0]!.footer!.text).toMatch(/tiny-cnn · fp32 · cpu: [\d.]+ ms \| tiny-vit/);
    expect(embeds[0]!.fields.some((field) => field.name === 'Vision vs language')).toBe(true);
    expect(edit.files.map((file) => file.name)).toEqual(['classify.png', 'patches.jpg']);
    expect((await sharp(edit.files[0]!.bytes).metadata()).format).toBe('png');
    expect(edit.json.allowed_mentions).toEqual({ parse: [] });
    console.log(
      `/classify: interaction → final reply in ${edit.at - started} ms (deferred after ${record.initial!.at - record.createdAt} ms)`,
    );
  });

  it('answers /match and /sentiment', async () => {
    const image = emulator.attachment('blue.png', 'image/png', await solidPng([0, 0, 255]));
    const match = emulator.interact(
      slash(
        'match',
        [
          { name: 'image', type: 11, value: image.id },
          { name: 'labels', type: 3, value: 'red, blue, cat' },
        ],
        [image],
      ),
      { userId: nextUser() },
    );
    const sentiment = emulator.interact(
      slash('sentiment', [
        { name: 'text', type: 3, value: 'The movie was not good, but great fun!! <@123> @everyone' },
      ]),
      { userId: nextUser() },
    );
    await Promise.all([answered(match), answered(sentiment)]);
    const matchEmbed = (finalEdit(match)!.json.embeds as Array<{ description: string }>)[0]!;
    expect(matchEmbed.description.split('\n')[0]).toMatch(/\*\*blue\*\*/);
    const sentimentEmbed = (
      finalEdit(sentiment)!.json.embeds as Array<{ fields: Array<{ name: string; value: string }> }>
    )[0]!;
    expect(sentimentEmbed.fields[0]!.value).toMatch(/negative/);
    expect(sentimentEmbed.fields[1]!.value).toMatch(/positive/);
    expect(finalEdit(sentiment)!.json.allowed_mentions).toEqual({ parse: [] });
  });

  it('classifies the image of a message from the context menu, and says when there is none', async () => {
    const attachment = emulator.attachment('green.png', 'image/png', await solidPng([0, 255, 0]));
    const message = emulator.message('look at this', [attachment]);
    const record = emulator.interact(
      {
        name: 'Classify image',
        type: 3,
        target_id: message.id,
        resolved: { messages: { [String(message.id)]: message } },
      },
      { userId: nextUser() },
    );
    await answered(record);
    const embed = (finalEdit(record)!.json.embeds as Array<{ fields: Array<{ value: string }> }>)[0]!;
    expect(embed.fields[0]!.value).toMatch(/green/);

    const plain = emulator.message('no picture here');
    const none = emulator.interact(
      { name: 'Classify image', type: 3, target_id: plain.id, resolved: { messages: { [String(plain.id)]: plain } } },
      { userId: nextUser() },
    );
    await answered(none);
    expectEphemeralError(none, /no image attachment/);
  });

  it('refuses oversized, non-image and foreign-host attachments with ephemeral errors', async () => {
    const big = emulator.attachment('big.png', 'image/png', Buffer.alloc(300 * 1024, 1));
    const lying = emulator.attachment('small.png', 'image/png', Buffer.alloc(300 * 1024, 1), 1000);
    const text = emulator.attachment('notes.png', 'image/png', Buffer.from('just some text, not pixels'));
    const foreign = {
      ...emulator.attachment('x.png', 'image/png', await solidPng([1, 2, 3])),
      url: 'https://images.example.com/x.png',
    };
    const records = [big, lying, text, foreign].map((attachment) =>
      emulator.interact(classifyWith(attachment), { userId: nextUser() }),
    );
    await Promise.all(records.map((record) => answered(record)));
    expectEphemeralError(records[0]!, /big\.png is 300 KiB; the limit is 200 KiB/);
    expectEphemeralError(records[1]!, /over the 200 KiB limit/);
    expectEphemeralError(records[2]!, /not an image/);
    expectEphemeralError(records[3]!, /only download attachments from Discord's own servers.*images\.example\.com/);
    // A private first response, or (when the error came after "thinking…") that reply deleted.
    expect(records.every((record) => record.deleted || record.initial?.flags === 64)).toBe(true);
  });

  it('acknowledges a request not answered within the inline window ("thinking…"), then edits the answer in', async () => {
    const release = emulator.holdDownloads();
    const record = emulator.interact(
      classifyWith(emulator.attachment('held.png', 'image/png', await solidPng([20, 200, 20]))),
      { userId: nextUser() },
    );
    try {
      await until(() => record.initial, 3000, 'the deferral');
      expect(record.initial).toMatchObject({ type: 5, flags: 0 });
      expect(record.edits).toEqual([]);
    } finally {
      release();
    }
    await answered(record);
    expect((finalEdit(record)!.json.embeds as Array<{ title: string }>)[0]!.title).toBe('CNN vs ViT');
    expect(record.edits.length).toBeGreaterThan(0);
  });

  it('answers 20 interactions at once, all within the deadline, none lost', async () => {
    const records = Array.from({ length: 20 }, (_, i) =>
      emulator.interact(
        slash('sentiment', [{ name: 'text', type: 3, value: i % 2 ? `great fun ${i}` : `awful movie ${i}` }]),
        { userId: nextUser() },
      ),
    );
    await Promise.all(records.map((record) => answered(record, 20_000)));
    for (const [i, record] of records.entries()) {
      expect(record.rejections).toEqual([]);
      expect(record.initial!.at - record.createdAt).toBeLessThan(3000);
      const fields = (finalEdit(record)!.json.embeds as Array<{ fields: Array<{ value: string }> }>)[0]!.fields;
      expect(fields[0]!.value).toMatch(i % 2 ? /positive/ : /negative/);
    }
  });

  it('autocompletes /explain topics and answers /ask from the notes', async () => {
    const complete = emulator.interact(
      { name: 'explain', type: 1, options: [{ name: 'topic', type: 3, value: 'quant', focused: true }] },
      { userId: nextUser(), type: 4 },
    );
    await until(() => complete.initial, 3000, 'the autocomplete answer');
    expect(complete.initial).toMatchObject({ type: 8 });
    expect((complete.initial!.data as { choices: Array<{ value: string }> }).choices[0]!.value).toBe('quantization');
    const question = emulator.interact(
      slash('ask', [{ name: 'question', type: 3, value: 'Why is int8 faster on a CPU? @everyone' }]),
      { userId: nextUser() },
    );
    await answered(question);
    const embed = (
      finalEdit(question)!.json.embeds as Array<{ description: string; fields: Array<{ name: string; value: string }> }>
    )[0]!;
    expect(embed.description).toMatch(/\*\*Quantization: why int8 runs faster on CPUs\*\*/);
    expect(embed.fields.find((field) => field.name === 'Sources')!.value).toContain('/explain topic:quantization');
  });

  it('enforces the per-user cooldown with an ephemeral wait message', async () => {
    const user = nextUser();
    const first = emulator.interact(slash('sentiment', [{ name: 'text', type: 3, value: 'good' }]), { userId: user });
    await answered(first);
    const second = emulator.interact(slash('sentiment', [{ name: 'text', type: 3, value: 'good again' }]), {
      userId: user,
    });
    await answered(second);
    expect(second.initial).toMatchObject({ type: 4, flags: 64 });
    expect((second.initial!.data as { content: string }).content).toMatch(/again in \d+ s/);
  });

  it('finishes the request in flight on SIGTERM, then exits 0', async () => {
    const record = emulator.interact(
      classifyWith(emulator.attachment('last.png', 'image/png', await solidPng([9, 9, 200]))),
      { userId: nextUser() },
    );
    await until(() => record.initial, 3000, 'the deferral');
    bot.child.kill('SIGTERM');
    expect(await bot.exited).toBe(0);
    expect(finalEdit(record) ?? record.followUps[0]).toBeDefined();
    expect(bot.logs.some((entry) => entry.msg === 'stopped')).toBe(true);
  });
});
