import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { solidPng } from '../helpers.js';
import { answeredPrivately, finalEdit, startBot, until, type BotProcess } from './bot-process.js';
import { CHANNEL_ID, DiscordEmulator, GUILD_ID, type InteractionRecord } from './emulator.js';

/**
 * Buttons under results: any member may press one, and it runs another command on the input of
 * the reply it sits under, held in memory only; a button whose input is gone says so privately.
 */
const emulator = new DiscordEmulator();
let bot: BotProcess;
let members = 0;
const nextMember = (): string => String(730000000000000000n + BigInt((members += 1)));

beforeAll(async () => {
  await emulator.start();
  bot = await startBot(emulator, { COOLDOWN_SECONDS: '30' });
}, 60_000);

afterAll(async () => {
  if (bot.child.exitCode === null) bot.child.kill('SIGKILL');
  await emulator.stop();
});

type Button = { type: number; style: number; label: string; custom_id: string };
const buttonsOf = (record: InteractionRecord): Button[] =>
  ((finalEdit(record)?.json.components as Array<{ components: Button[] }> | undefined) ?? []).flatMap(
    (row) => row.components,
  );

/** The private message an interaction was answered with at once (type 4, ephemeral). */
const privateAnswer = async (record: InteractionRecord): Promise<string> => {
  const initial = await until(() => record.initial, 5000, 'the answer');
  expect(initial.type).toBe(4);
  expect(initial.flags & 64).toBe(64);
  return String((initial.data as { content?: unknown }).content);
};

describe('buttons under results', () => {
  it('puts buttons under /sentiment that another member can press, running the follow-up on the same text', async () => {
    const sentence = "The geese weren't better than the movie";
    const asked = emulator.interact(
      { name: 'sentiment', type: 1, options: [{ name: 'text', type: 3, value: sentence }] },
      { userId: nextMember() },
    );
    await until(() => finalEdit(asked), 15_000, 'the /sentiment answer');
    const buttons = buttonsOf(asked);
    expect(buttons.map((button) => button.label)).toContain('Classic pipeline');
    for (const button of buttons) {
      expect(button.custom_id).toMatch(/^sr1:[a-z-]+:[A-Za-z0-9_-]{16}$/);
      expect(button.custom_id.length).toBeLessThanOrEqual(100);
    }

    const pipeline = buttons.find((button) => button.label === 'Classic pipeline')!;
    const pressed = emulator.press(asked, pipeline.custom_id, { userId: nextMember() });
    const answer = await until(() => finalEdit(pressed), 15_000, 'the pressed button’s answer');
    // A new public message (deferred, then edited), on the text of the message the button sits under.
    expect(pressed.initial).toMatchObject({ type: 5, flags: 0 });
    expect(JSON.stringify(answer.json.embeds)).toContain('geese');
    expect(JSON.stringify(answer.json.embeds)).toMatch(/goose/);
  });

  it('runs the lab from the buttons under /classify and /sentiment, on the input of the reply they sit under', async () => {
    const image = emulator.attachment('blue.png', 'image/png', await solidPng([10, 20, 230]));
    /** A member's /classify of the image, answered. */
    const classify = async (): Promise<InteractionRecord> => {
      const record = emulator.interactWithImage('classify', image, { userId: nextMember() });
      await until(() => finalEdit(record), 15_000, 'the /classify answer');
      return record;
    };
    const classified = await classify();
    const sentiment = emulator.interact(
      { name: 'sentiment', type: 1, options: [{ name: 'text', type: 3, value: 'The lab was not bad at all' }] },
      { userId: nextMember() },
    );
    await until(() => finalEdit(sentiment), 15_000, 'the /sentiment answer');
    const labels = (record: InteractionRecord): string[] => buttonsOf(record).map((button) => button.label);
    expect(labels(classified)).toEqual(['Where did it look?', 'Stress test', 'Hide patches']);
    expect(labels(sentiment)).toEqual(['Which words mattered?', 'Stress test', 'Mask words', 'Classic pipeline']);

    const press = (on: InteractionRecord, label: string, userId = nextMember()): InteractionRecord =>
      emulator.press(on, buttonsOf(on).find((button) => button.label === label)!.custom_id, { userId });
    /** The pressed button's public answer: its embeds' titles and the files attached. */
    const answered = async (record: InteractionRecord): Promise<{ text: string; files: string[] }> => {
      const edit = await until(() => finalEdit(record), 30_000, 'the pressed button’s answer');
      expect(record.initial?.flags ?? 0).toBe(0);
      return { text: JSON.stringify(edit.json.embeds), files: edit.files.map((file) => file.name) };
    };
    const student = nextMember();
    const pressed = {
      saliency: press(classified, 'Where did it look?'),
      stress: press(classified, 'Stress test', student),
      // Two members press the same button at the same moment: it runs once (one public answer).
      mask: [press(classified, 'Hide patches'), press(classified, 'Hide patches')],
      words: press(sentiment, 'Which words mattered?'),
      stressText: press(sentiment, 'Stress test'),
      maskWords: press(sentiment, 'Mask words'),
    };
    expect((await answered(pressed.saliency)).text).toMatch(/Where did it look\?/);
    // The image of the reply the button sits under, not a new upload: /stress names it.
    const stressed = await answered(pressed.stress);
    expect(stressed.text).toMatch(/blue\.png/);
    expect(stressed.files.length).toBeGreaterThan(0);
    // The same member again under the same reply: sent to their own answer, nothing run.
    const again = press(classified, 'Stress test', student);
    expect(await privateAnswer(again)).toMatch(/\*Stress test\* under this message was answered for you/);
    // Under another reply, at once, within the 30-second cooldown of /stress: refused privately, nothing run.
    const elsewhere = press(await classify(), 'Stress test', student);
    expect(await privateAnswer(elsewhere)).toMatch(/Slow down a little: you can use \/stress again in \d+ s/);
    // The other member is told privately whose run it is, and nothing runs twice.
    const pointed = await until(() => pressed.mask.find(answeredPrivately), 30_000, 'the private pointer');
    const ran = pressed.mask.find((record) => record !== pointed)!;
    expect(await privateAnswer(pointed)).toMatch(
      /\*Hide patches\* under this message (is already running|was answered) for <@\d+>/,
    );
    expect((await answered(ran)).text).toMatch(/Hide patches/);
    // One public answer: the first response itself, or one edit of "thinking…"; none for the pointed press.
    const answers = (record: InteractionRecord): number =>
      (record.initial?.type === 4 && !answeredPrivately(record) ? 1 : 0) +
      record.edits.filter((edit) => edit.json.embeds).length;
    expect([answers(ran), answers(pointed)]).toEqual([1, 0]);
    // Pressed again once answered: a private link to that answer's message, and nothing runs again.
    const later = press(classified, 'Hide patches');
    expect(await privateAnswer(later)).toContain(`was answered for <@${ran.userId}>`);
    expect(await privateAnswer(later)).toContain(
      `https://discord.com/channels/${GUILD_ID}/${CHANNEL_ID}/${ran.messageId}.`,
    );
    const words = await answered(pressed.words);
    expect(words.text).toMatch(/Which words mattered\?/);
    expect(words.text).toMatch(/not bad at all/);
    expect((await answered(pressed.stressText)).text).toMatch(/not bad at all/);
    // A button whose model this bot cannot run (no fill-mask model here): a clear private message, nothing else disturbed.
    // Ready within the inline window it is the private first response; later, a private follow-up to "thinking…".
    const refusal = await until(
      () =>
        ((pressed.maskWords.initial?.type === 4 ? pressed.maskWords.initial.data : undefined) ??
          pressed.maskWords.followUps[0]?.json) as Record<string, unknown> | undefined,
      30_000,
      'the private refusal',
    );
    expect(Number(refusal.flags) & 64).toBe(64);
    expect(String(refusal.content)).toMatch(/Unknown model "bert-base-uncased-mlm"/);
    expect(finalEdit(pressed.maskWords)).toBeUndefined();
  }, 120_000);

  it('says privately that a button has expired when its input is no longer held (after a restart, or 15 minutes)', async () => {
    const asked = emulator.interact(
      { name: 'sentiment', type: 1, options: [{ name: 'text', type: 3, value: 'A fine lesson' }] },
      { userId: nextMember() },
    );
    await until(() => finalEdit(asked), 15_000, 'the /sentiment answer');
    const unknownKey = emulator.press(asked, 'sr1:preprocess:AAAAAAAAAAAAAAAA', { userId: nextMember() });
    expect(await privateAnswer(unknownKey)).toMatch(/This button has expired.*15 minutes, and not across a restart/);
  });

  it('refuses, privately and without work, a custom_id that is not one of its buttons', async () => {
    const asked = emulator.interact(
      { name: 'sentiment', type: 1, options: [{ name: 'text', type: 3, value: 'Hello' }] },
      { userId: nextMember() },
    );
    await until(() => finalEdit(asked), 15_000, 'the /sentiment answer');
    // The reply's real key under commands its buttons do not offer: /tokenize and /sentiment would run on its text.
    const key = buttonsOf(asked)[0]!.custom_id.split(':')[2]!;
    for (const forged of [
      'hello',
      'sr0:preprocess:AAAAAAAAAAAAAAAA',
      'sr1:status:AAAAAAAA',
      'sr1:nope:AAAAAAAAAAAAAAAA',
      `sr1:tokenize:${key}`,
      `sr1:sentiment:${key}`,
    ]) {
      const pressed = emulator.press(asked, forged, { userId: nextMember() });
      expect(await privateAnswer(pressed)).toMatch(/not one I know/);
    }
  });

  it('after a restart, a button under an earlier reply says privately that it expired, and new replies have working buttons', async () => {
    const before = emulator.interact(
      { name: 'sentiment', type: 1, options: [{ name: 'text', type: 3, value: 'Before the restart' }] },
      { userId: nextMember() },
    );
    await until(() => finalEdit(before), 15_000, 'the /sentiment answer');
    const old = buttonsOf(before).find((button) => button.label === 'Classic pipeline')!;
    bot.child.kill('SIGTERM');
    expect(await bot.exited).toBe(0);
    bot = await startBot(emulator, { COOLDOWN_SECONDS: '30' });
    const pressed = emulator.press(before, old.custom_id, { userId: nextMember() });
    expect(await privateAnswer(pressed)).toMatch(/This button has expired.*not across a restart/);

    const after = emulator.interact(
      { name: 'sentiment', type: 1, options: [{ name: 'text', type: 3, value: 'After the restart' }] },
      { userId: nextMember() },
    );
    await until(() => finalEdit(after), 15_000, 'the /sentiment answer');
    const fresh = buttonsOf(after).find((button) => button.label === 'Classic pipeline')!;
    const works = emulator.press(after, fresh.custom_id, { userId: nextMember() });
    expect(JSON.stringify((await until(() => finalEdit(works), 15_000, 'the pressed button’s answer')).json)).toContain(
      'restart',
    );
  }, 90_000);
});
