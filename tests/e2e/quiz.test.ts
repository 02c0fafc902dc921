import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEmbeddedDatabase } from '../../src/journal/embedded.js';
import { finalEdit, freshDataDir, startBot, until, type BotProcess } from './bot-process.js';
import { DiscordEmulator, type InteractionRecord } from './emulator.js';

/**
 * A /quiz round end to end: the real bot posts a question made from the tiny CNN and ViT, members
 * answer with its buttons (privately acknowledged, one answer each, none after the end), the
 * timer reveals it by editing the question through the token, and the scores are in the database.
 */
const emulator = new DiscordEmulator();
const dataDir = freshDataDir();
let bot: BotProcess;
const member = (n: number): string => String(740000000000000000n + BigInt(n));

beforeAll(async () => {
  await emulator.start();
  bot = await startBot(emulator, { DATA_DIR: dataDir, QUIZ_ROUND_SECONDS: '6' });
}, 60_000);

afterAll(async () => {
  if (bot.child.exitCode === null) bot.child.kill('SIGKILL');
  await emulator.stop();
});

type Button = { label: string; custom_id: string };
type Embed = { title?: string; description?: string; fields?: Array<{ name: string; value: string }> };
const buttonsOf = (json: Record<string, unknown>): Button[] =>
  ((json.components as Array<{ components: Button[] }> | undefined) ?? []).flatMap((row) => row.components);
const embedOf = (json: Record<string, unknown>): Embed => (json.embeds as Embed[])[0]!;

/** The private message a press was answered with at once (type 4, ephemeral). */
const privateAnswer = async (record: InteractionRecord): Promise<string> => {
  const initial = await until(() => record.initial, 5000, 'the answer to a press');
  expect(initial.type).toBe(4);
  expect(initial.flags & 64).toBe(64);
  return String((initial.data as { content?: unknown }).content);
};

describe('/quiz in a channel', () => {
  it('posts a round, takes one answer per member until the end, reveals the answer with its note, and keeps the scores', async () => {
    const asked = emulator.interact(
      { name: 'quiz', type: 1, options: [{ name: 'kind', type: 3, value: 'model' }] },
      { userId: member(1) },
    );
    const question = await until(() => finalEdit(asked), 20_000, 'the question');
    // Public: the question itself as the first response, or "thinking…" edited into it.
    expect(asked.initial).toMatchObject({ type: asked.edits.length === 0 ? 4 : 5, flags: 0 });
    expect(embedOf(question.json).title).toBe('Which model said this: the CNN or the ViT?');
    expect(embedOf(question.json).fields?.map((field) => field.name)).toEqual(['List A', 'List B']);
    const buttons = buttonsOf(question.json);
    expect(buttons.map((button) => button.label)).toEqual(['A is the CNN', 'A is the ViT']);
    for (const button of buttons) expect(button.custom_id).toMatch(/^sr1q:[A-Za-z0-9_-]{16}:a-(cnn|vit)$/);

    // Two members answer differently: exactly one of them is right.
    const [cnnButton, vitButton] = buttons as [Button, Button];
    expect(await privateAnswer(emulator.press(asked, cnnButton.custom_id, { userId: member(2) }))).toMatch(
      /^Your answer is in: A is the CNN\. The answer is revealed when the round ends/,
    );
    expect(await privateAnswer(emulator.press(asked, vitButton.custom_id, { userId: member(3) }))).toMatch(
      /^Your answer is in: A is the ViT/,
    );
    expect(await privateAnswer(emulator.press(asked, vitButton.custom_id, { userId: member(2) }))).toMatch(
      /already answered this round: one answer per member/,
    );

    // A member of another server pressing a copy of the button (a forged press) reaches nothing of this one.
    const foreign = emulator.interact(
      { custom_id: cnnButton.custom_id, component_type: 2 },
      {
        type: 3,
        guildId: '200000000000000099',
        userId: member(5),
        message: { ...emulator.message('a copied question'), components: question.json.components },
      },
    );
    expect(await privateAnswer(foreign)).toMatch(/I do not know this quiz round here/);

    // The timer reveals the round by editing the question: answer, who got it, the note; no more buttons.
    const reveal = await until(
      () => asked.edits.find((edit) => String(embedOf(edit.json)?.title ?? '').endsWith('— answer')),
      20_000,
      'the reveal',
    );
    expect(buttonsOf(reveal.json)).toEqual([]);
    const embed = embedOf(reveal.json);
    const answer = /\*\*Answer: (A is the (?:CNN|ViT))\.\*\*/.exec(embed.description ?? '')?.[1];
    expect(answer).toBeDefined();
    const [right, wrong] = answer === 'A is the CNN' ? [member(2), member(3)] : [member(3), member(2)];
    const field = (prefix: string): string => embed.fields?.find((entry) => entry.name.startsWith(prefix))?.value ?? '';
    expect(field('Right (1)')).toBe(`<@${right}>: ${answer} +2 (first right answer)`);
    expect(field('Wrong (1)')).toMatch(new RegExp(`^<@${wrong}>: A is the`));
    expect(embed.fields?.at(-1)?.name).toMatch(/^📘 /);
    expect(embed.fields?.at(-1)?.value).toMatch(/`\/explain topic:[a-z-]+`/);
    expect(reveal.json.allowed_mentions).toEqual({ parse: [] });

    expect(await privateAnswer(emulator.press(asked, cnnButton.custom_id, { userId: member(4) }))).toMatch(
      /This round has ended/,
    );

    const scores = emulator.interact(
      { name: 'quiz', type: 1, options: [{ name: 'kind', type: 3, value: 'scores' }] },
      { userId: wrong },
    );
    const board = embedOf((await until(() => finalEdit(scores), 15_000, 'the leaderboard')).json).description ?? '';
    expect(board).toContain(`1. <@${right}>: 2 points in 1 rounds`);
    expect(board).toContain(`2. <@${wrong}>: 0 points in 1 rounds`);
    expect(board).toContain('Your rank: 2 of 2');

    // The rows, read from the bot's own database once it has stopped.
    bot.child.kill('SIGTERM');
    expect(await bot.exited).toBe(0);
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const database = await openEmbeddedDatabase({ dataDir, logger: quiet });
    try {
      const rounds = (await database.query('SELECT kind, correct, token, revealed_at FROM quiz_rounds')).rows as Array<{
        kind: string;
        correct: string;
        token: string | null;
        revealed_at: unknown;
      }>;
      expect(rounds).toHaveLength(1);
      expect(rounds[0]).toMatchObject({
        kind: 'model',
        token: null,
        correct: answer === 'A is the CNN' ? 'a-cnn' : 'a-vit',
      });
      expect(rounds[0]!.revealed_at).not.toBeNull();
      const answers = (await database.query('SELECT user_id, choice FROM quiz_answers ORDER BY answered_at')).rows;
      expect(answers).toEqual([
        { user_id: member(2), choice: 'a-cnn' },
        { user_id: member(3), choice: 'a-vit' },
      ]);
      const stored = (await database.query('SELECT user_id, points, answered FROM quiz_scores ORDER BY points DESC'))
        .rows;
      expect(stored).toEqual([
        { user_id: right, points: 2, answered: 1 },
        { user_id: wrong, points: 0, answered: 1 },
      ]);
    } finally {
      await database.close();
    }
  }, 120_000);
});
