import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import quiz, { type QuizReport } from '../../../commands/quiz.js';
import { Services } from '../../../src/app.js';
import type { CommandPlace } from '../../../src/command/definition.js';
import { runCommand } from '../../../src/command/run.js';
import { revealView } from '../../../src/quiz/service.js';
import { quizDataOwner, type RevealedRound } from '../../../src/quiz/store.js';
import { UserFacingError } from '../../../src/util/errors.js';
import { seededRandom } from '../../../src/util/random.js';
import { quoteUserText } from '../../../src/util/user-text.js';
import { noiseRgb, rawToPng } from '../../fixtures/images.js';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { HAS_SHARED, ManualClock, SHARED, rejectionOf, silentLogger, tempDir, testConfig } from '../../helpers.js';
import { BACKENDS, type TestDatabase } from '../journal/support.js';

type Round = Extract<QuizReport, { action: 'round' }>;
const live = (guildId: string, token: string): CommandPlace => ({
  guildId,
  userId: 'starter',
  channelId: 'c1',
  reply: { applicationId: 'app-1', token },
});

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip !== undefined)(`/quiz on ${backend.name}`, () => {
    let db: TestDatabase;
    let services: Services;
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 9));
    const revealed: RevealedRound[] = [];
    let picture: Buffer;
    const run = (raw: Record<string, unknown>, place: CommandPlace): Promise<QuizReport> =>
      runCommand(quiz, raw, services, undefined, undefined, place) as Promise<QuizReport>;

    beforeAll(async () => {
      db = await backend.open();
      services = new Services(testConfig({ QUIZ_ROUND_SECONDS: '30' }), silentLogger, {
        database: db.database,
        clock,
        random: seededRandom(11),
      });
      services.quiz.onReveal(async (round) => {
        revealed.push(round);
      });
      picture = await rawToPng(noiseRgb(40, 30, 3), 40, 30);
    }, 180_000);
    afterAll(async () => {
      await services?.dispose();
      await db?.dispose();
    });

    it('runs a model round from the real CNN and ViT lists: one answer per member, late answers refused, revealed and scored at the deadline', async () => {
      const report = (await run(
        { kind: 'model', image: { name: 'noise.png', bytes: picture } },
        live('g1', 'tok-1'),
      )) as Round;
      expect(report.action).toBe('round');
      const { content } = report;
      // The lists are the models' real top-5 on this picture, A and B in the order the answer says.
      const real = await services.vision.classify(picture, 'both', 5);
      const list = (index: number): string =>
        real.results[index]!.predictions.map(
          (p, rank) => `${rank + 1}. ${p.label} — ${(p.score * 100).toFixed(1)}%`,
        ).join('\n');
      const [cnnList, vitList] = [list(0), list(1)];
      const [a, b] = content.question.fields.map((field) => field.value);
      expect(content.correct === 'a-cnn' ? [a, b] : [b, a]).toEqual([cnnList, vitList]);
      expect(content.choices.map((choice) => choice.id)).toEqual(['a-cnn', 'a-vit']);
      expect(content.note.topic).toMatch(/^(cnn-vs-vit|softmax-confidence|pixels-vs-tokens)$/);
      expect(report.deadline).toBe(clock.now() + 30_000);
      const buttons = quiz.answerButtons!(report)!;
      expect(buttons.map((button) => button.customId)).toEqual([`sr1q:${report.id}:a-cnn`, `sr1q:${report.id}:a-vit`]);

      const roundId = report.id!;
      const right = content.correct;
      const wrong = right === 'a-cnn' ? 'a-vit' : 'a-cnn';
      const press = (guildId: string, userId: string, choice: string) =>
        services.quiz.answer({ roundId, guildId, userId, choice });
      clock.advance(2_000);
      expect(await press('g1', 'u-right', right)).toMatchObject({ status: 'recorded', deadline: report.deadline });
      clock.advance(3_000);
      expect(await press('g1', 'u-wrong', wrong)).toMatchObject({ status: 'recorded' });
      expect(await press('g1', 'u-right', wrong)).toEqual({ status: 'already' });
      // Another server cannot answer (or see) this round; a forged choice is refused.
      expect(await press('g2', 'u-other', right)).toEqual({ status: 'unknown' });
      expect(await press('g1', 'u-forger', 'zzz')).toEqual({ status: 'invalid_choice' });
      expect(await db.raw('SELECT token, revealed_at FROM quiz_rounds WHERE id = $1', [roundId])).toEqual([
        { token: 'tok-1', revealed_at: null },
      ]);

      // The timer is set for the deadline, 25 s from now; when it fires the round is revealed, scored, and its token cleared.
      expect(clock.pending).toEqual([25_000]);
      clock.advance(25_000);
      await services.quiz.revealDue();
      expect(await press('g1', 'u-late', right)).toEqual({ status: 'ended' });
      expect(revealed).toHaveLength(1);
      const [done] = revealed;
      expect(done!.token).toBe('tok-1');
      expect(done!.scored.map(({ userId, points }) => ({ userId, points }))).toEqual([
        { userId: 'u-right', points: 2 },
        { userId: 'u-wrong', points: 0 },
      ]);
      const rounds = (await db.raw('SELECT token, revealed_at FROM quiz_rounds WHERE id = $1', [roundId])) as Array<{
        token: string | null;
        revealed_at: unknown;
      }>;
      expect(rounds[0]!.token).toBeNull();
      expect(rounds[0]!.revealed_at).not.toBeNull();
      expect(
        await db.raw("SELECT user_id, points, answered FROM quiz_scores WHERE guild_id = 'g1' ORDER BY user_id"),
      ).toEqual([
        { user_id: 'u-right', points: 2, answered: 1 },
        { user_id: 'u-wrong', points: 0, answered: 1 },
      ]);
      // Revealing again does nothing: the round is scored once.
      expect(await services.quiz.revealDue()).toBe(0);

      const view = revealView(done!);
      const label = content.choices.find((choice) => choice.id === right)!.label;
      expect(view.description).toContain(`**Answer: ${label}.**`);
      expect(view.fields.find((field) => field.name === 'Right (1)')?.value).toBe(
        `<@u-right>: ${label} +2 (first right answer)`,
      );
      expect(view.fields.find((field) => field.name === 'Wrong (1)')?.value).toMatch(/^<@u-wrong>: A is the/);
      expect(view.fields.at(-1)?.name).toBe(`📘 ${content.note.title}`);

      const board = (await run({ kind: 'scores' }, { guildId: 'g1', userId: 'u-wrong' })) as Extract<
        QuizReport,
        { action: 'scores' }
      >;
      expect(board.board.top.map(({ rank, userId, points }) => ({ rank, userId, points }))).toEqual([
        { rank: 1, userId: 'u-right', points: 2 },
        { rank: 2, userId: 'u-wrong', points: 0 },
      ]);
      expect(board.board.own).toMatchObject({ rank: 2, answered: 1 });
      expect(quiz.toText(board)).toContain('Your rank: 2 of 2');
      const otherBoard = (await run({ kind: 'scores' }, { guildId: 'g2', userId: 'u-right' })) as Extract<
        QuizReport,
        { action: 'scores' }
      >;
      expect(otherBoard.board.players).toBe(0);
    });

    it('says which kinds cannot run, and refuses DMs, mismatched input and live rounds without a database', async () => {
      const refused = async (promise: Promise<unknown>): Promise<string> =>
        (await rejectionOf(promise, UserFacingError)).message;
      // The fixture manifest has one tokenizer (the tiny CLIP's): a tokenizer round needs two.
      expect(await refused(run({ kind: 'tokenizer' }, live('g1', 'tok-2')))).toMatch(
        /tokenizer round cannot run here: it needs at least two/,
      );
      expect(await refused(run({ kind: 'scores' }, { userId: 'u1' }))).toMatch(/works in a server/);
      expect(
        await refused(run({ kind: 'agree' }, { userId: 'u1', reply: { applicationId: 'a', token: 't' } })),
      ).toMatch(/works in a server/);
      expect(await refused(run({ kind: 'agree', image: { name: 'x.png', bytes: picture } }, live('g1', 't')))).toMatch(
        /about a sentence/,
      );
      expect(await refused(run({ kind: 'model', text: 'hello' }, live('g1', 't')))).toMatch(/about a picture/);
      // Without CLIP installed, the CLIP round says so (and a random kind for a picture, CLIP drawn first, falls back to the model round).
      const noClip = new Services(testConfig({ CLIP_MODEL: 'absent-clip' }), silentLogger, { random: () => 0 });
      try {
        const image = { name: 'noise.png', bytes: picture };
        expect(await refused(runCommand(quiz, { kind: 'clip', image }, noClip))).toMatch(
          /^The clip round cannot run here: CLIP is not installed \(.+\)/,
        );
        const fallback = (await runCommand(quiz, { image }, noClip)) as Round;
        expect(fallback.content.kind).toBe('model');
      } finally {
        await noClip.dispose();
      }
      const noDatabase = new Services(testConfig(), silentLogger);
      try {
        expect(
          await refused(runCommand(quiz, { kind: 'agree' }, noDatabase, undefined, undefined, live('g1', 't'))),
        ).toMatch(/needs|keeps rounds and scores in the database/);
      } finally {
        await noDatabase.dispose();
      }
    });

    it("runs a server's rounds only in the quiz channel its /settings chose", async () => {
      await services.settings.update('g-channel', { quizChannelId: 'c-quiz' }, 'manager');
      const message = (await rejectionOf(run({ kind: 'agree' }, live('g-channel', 'ch-1')), UserFacingError)).message;
      expect(message).toBe('Quiz rounds in this server run in <#c-quiz>: start one there.');
      const round = await run({ kind: 'agree' }, { ...live('g-channel', 'ch-2'), channelId: 'c-quiz' });
      expect(round.action).toBe('round');
    });

    it('asks an agree round whose answer is what VADER and the transformer really do, shown at once without a live round', async () => {
      const sentence = "The movie wasn't bad at all.";
      const report = (await run({ kind: 'agree', text: sentence }, { guildId: 'g1', userId: 'u1' })) as Round;
      const real = await services.text.sentiment(sentence);
      expect(report.id).toBeUndefined();
      expect(report.content.correct).toBe(real.comparison!.agree ? 'yes' : 'no');
      expect(report.content.answer).toContain(`VADER: ${real.vader.label}`);
      // Practice: the answer comes with the question, and there are no buttons.
      expect(quiz.answerButtons!(report)).toBeUndefined();
      expect((await quiz.toEmbeds(report)).embeds[0]!.description).toContain('**Answer:');
      // Without a kind, text picks a sentence kind: the tokenizer one cannot run here, so it is an agree round.
      const any = (await run({ text: 'Great food, terrible service.' }, { guildId: 'g1', userId: 'u1' })) as Round;
      expect(any.content.kind).toBe('agree');
    });

    it('asks a CLIP round whose answer is the label CLIP really ranks first', async () => {
      const report = (await run(
        { kind: 'clip', image: { name: 'noise.png', bytes: picture } },
        live('g3', 'tok-3'),
      )) as Round;
      const labels = report.content.choices.map((choice) => choice.label);
      expect(labels).toHaveLength(4);
      const real = await services.vision.match(picture, labels);
      expect(report.content.choices.find((choice) => choice.id === report.content.correct)?.label).toBe(
        real.matches[0]!.label,
      );
    });

    it('keeps a round across a restart: the next process reveals it once its deadline has passed, not before', async () => {
      const before = new ManualClock(Date.UTC(2026, 0, 2, 9));
      const first = new Services(testConfig({ QUIZ_ROUND_SECONDS: '30' }), silentLogger, {
        database: db.database,
        clock: before,
        random: seededRandom(3),
      });
      const report = (await runCommand(
        quiz,
        { kind: 'agree' },
        first,
        undefined,
        undefined,
        live('g4', 'tok-4'),
      )) as Round;
      expect(
        await first.quiz.answer({ roundId: report.id!, guildId: 'g4', userId: 'u1', choice: report.content.correct }),
      ).toMatchObject({ status: 'recorded' });
      // The process stops before the deadline: its timer goes with it.
      first.quiz.close();
      const after = new ManualClock(before.now() + 10_000);
      const second = new Services(testConfig({ QUIZ_ROUND_SECONDS: '30' }), silentLogger, {
        database: db.database,
        clock: after,
      });
      const shown: RevealedRound[] = [];
      second.quiz.onReveal(async (round) => {
        shown.push(round);
      });
      try {
        // The start-up chore finds it still running and sets a timer for its deadline.
        // (Rounds earlier tests left open elsewhere are past their deadline on this clock and revealed now.)
        await second.quiz.revealDue();
        const g4 = (): RevealedRound[] => shown.filter((round) => round.round.guildId === 'g4');
        expect(g4()).toEqual([]);
        expect(after.pending).toEqual([20_000]);
        after.advance(20_000);
        await second.quiz.revealDue();
        expect(g4().map((round) => [round.round.id, round.token, round.scored.map((answer) => answer.points)])).toEqual(
          [[report.id, 'tok-4', [2]]],
        );
      } finally {
        await first.dispose();
        await second.dispose();
      }
    });

    it('forgets a member (answers and score) and a server (rounds, answers, scores) without touching another server', async () => {
      const count = async (table: string, guildId: string): Promise<number> =>
        Number(
          (
            (await db.raw(`SELECT count(*) AS n FROM ${table} WHERE guild_id = $1`, [guildId])) as Array<{ n: unknown }>
          )[0]!.n,
        );
      const g3Rounds = await count('quiz_rounds', 'g3');
      expect(g3Rounds).toBe(1);
      // g1: u-right and u-wrong each have one answer and one score line.
      expect(await quizDataOwner.forgetMember(db.database, 'g1', 'u-wrong')).toBe(2);
      expect(await count('quiz_scores', 'g1')).toBe(1);
      const rounds = await count('quiz_rounds', 'g1');
      expect(await quizDataOwner.forgetServer(db.database, 'g1')).toBe(1 + rounds + 1);
      for (const table of ['quiz_rounds', 'quiz_answers', 'quiz_scores']) expect(await count(table, 'g1')).toBe(0);
      expect(await count('quiz_rounds', 'g3')).toBe(g3Rounds);
    });
  });
}

describe('/quiz tokenizer round', () => {
  it.skipIf(!HAS_SHARED)('shows the pieces the real tokenizer it names made, special tokens left out', async () => {
    const dir = await tempDir();
    const manifest = join(dir, 'manifest.json');
    const entry = (id: string): object => ({
      id,
      name: id,
      task: 'tokenizer',
      architecture: 'tokenizer',
      source: { type: 'local', path: join(SHARED, 'tokenizers', id) },
      files: [{ path: 'tokenizer.json' }, { path: 'tokenizer_config.json' }],
    });
    await writeFile(
      manifest,
      JSON.stringify({ $schemaVersion: 1, models: ['bert-base-uncased', 'gpt2', 'clip-vit-base-patch32'].map(entry) }),
    );
    const services = new Services(
      testConfig({ MODELS_MANIFEST: manifest, CLIP_MODEL: 'clip-vit-base-patch32', VISION_VIT_MODEL: 'none' }),
      silentLogger,
      { random: seededRandom(5) },
    );
    try {
      const sentence = 'The unaffable barista served a café crème anyway.';
      const report = (await runCommand(quiz, { kind: 'tokenizer', text: sentence }, services, undefined, undefined, {
        guildId: 'g1',
      })) as Round;
      expect(report.content.choices.map((choice) => choice.id)).toEqual(['bert', 'gpt2', 'clip']);
      const correct = report.content.correct as 'bert' | 'gpt2' | 'clip';
      const [real] = await services.text.tokenize(sentence, [correct]);
      const pieces = real!.tokens.filter((token) => !token.special);
      expect(report.content.question.fields[0]!.name).toBe(`${pieces.length} pieces (special tokens left out)`);
      expect(report.content.question.fields[0]!.value).toBe(
        pieces.map((token) => quoteUserText(token.piece, 'code')).join(' '),
      );
    } finally {
      await services.dispose();
    }
  });
});
