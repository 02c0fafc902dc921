import { z } from 'zod';
import type { Database, SqlExecutor } from '../journal/database.js';
import { scoreRound, type QuizAnswer, type ScoredAnswer } from './scoring.js';

export const QUIZ_KINDS = ['model', 'tokenizer', 'agree', 'clip'] as const;
export type QuizKind = (typeof QUIZ_KINDS)[number];

/** A question as the channel sees it: plain text, drawn by the front end. */
export interface QuestionView {
  title: string;
  description: string;
  fields: Array<{ name: string; value: string; inline?: boolean }>;
  /** File name of the image the question shows, attached to the message. */
  image?: string | undefined;
}

export interface QuizChoice {
  /** Short and stable: it travels in the button's custom_id. */
  id: string;
  label: string;
}

/** The study note a round teaches: its id in prompts/topics, its title and a short line. */
export interface NoteRef {
  topic: string;
  title: string;
  text: string;
}

export interface RoundContent {
  kind: QuizKind;
  question: QuestionView;
  choices: QuizChoice[];
  /** The id of the right choice. */
  correct: string;
  /** What the models really did, said at the reveal. */
  answer: string;
  note: NoteRef;
}

export interface NewRound extends RoundContent {
  id: string;
  guildId: string;
  channelId: string | null;
  startedBy: string | null;
  startedAt: number;
  deadline: number;
  /** The interaction whose reply is the question: the reveal edits it through this token. */
  applicationId: string;
  token: string;
}

export interface StoredRound extends RoundContent {
  id: string;
  guildId: string;
  startedAt: number;
  deadline: number;
}

export type AnswerOutcome =
  | { status: 'recorded'; deadline: number; label: string }
  | { status: 'already' }
  | { status: 'ended' }
  | { status: 'unknown' }
  | { status: 'invalid_choice' };

/** A round just revealed: its content, the answers that counted with their points, and where to show it. */
export interface RevealedRound {
  round: StoredRound;
  scored: ScoredAnswer[];
  applicationId: string | null;
  token: string | null;
}

export interface BoardEntry {
  rank: number;
  userId: string;
  points: number;
  answered: number;
}

export interface Leaderboard {
  top: BoardEntry[];
  /** The asking member's own line, when they have played. */
  own: BoardEntry | undefined;
  players: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const time = z.union([z.date(), z.string()]).transform((value) => new Date(value).getTime());
const count = z.coerce.number().int();
/** jsonb: parsed by both drivers; text accepted too. */
const json = <T extends z.ZodType>(schema: T) =>
  z.union([z.string().transform((text): unknown => JSON.parse(text)), z.unknown()]).pipe(schema);

const questionSchema = z.object({
  title: z.string(),
  description: z.string(),
  fields: z.array(z.object({ name: z.string(), value: z.string(), inline: z.boolean().optional() })),
  image: z.string().optional(),
});
const choicesSchema = z.array(z.object({ id: z.string(), label: z.string() }));
const noteSchema = z.object({ topic: z.string(), title: z.string(), text: z.string() });

const roundRow = z.object({
  id: z.string(),
  guild_id: z.string(),
  kind: z.enum(QUIZ_KINDS),
  question: json(questionSchema),
  choices: json(choicesSchema),
  correct: z.string(),
  answer: z.string(),
  note: json(noteSchema),
  started_at: time,
  deadline: time,
  application_id: z.string().nullable(),
  token: z.string().nullable(),
  revealed_at: time.nullable(),
});
const ROUND_COLUMNS =
  'id, guild_id, kind, question, choices, correct, answer, note, started_at, deadline, application_id, token, revealed_at';

const toRound = (row: z.output<typeof roundRow>): StoredRound => ({
  id: row.id,
  guildId: row.guild_id,
  kind: row.kind,
  question: row.question,
  choices: row.choices,
  correct: row.correct,
  answer: row.answer,
  note: row.note,
  startedAt: row.started_at,
  deadline: row.deadline,
});

const answerRow = z.object({ user_id: z.string(), choice: z.string(), answered_at: time });
const boardRow = z.object({ rank: count, user_id: z.string(), points: count, answered: count });

/**
 * /quiz's rows: rounds (until revealed, with the token to edit the question), one answer per
 * member per round, and per-server scores. Every query names the server or a round id checked
 * against its server, so a press in one server can never touch another's rounds or scores.
 * Times are passed in from the caller's clock, never read from the database's.
 */
export class QuizStore {
  constructor(private readonly database: Database) {}

  async createRound(round: NewRound): Promise<void> {
    await this.database.query(
      `INSERT INTO quiz_rounds (id, guild_id, channel_id, kind, question, choices, correct, answer, note, started_by,
         started_at, deadline, application_id, token)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8, $9::jsonb, $10, $11, $12, $13, $14)`,
      [
        round.id,
        round.guildId,
        round.channelId,
        round.kind,
        JSON.stringify(round.question),
        JSON.stringify(round.choices),
        round.correct,
        round.answer,
        JSON.stringify(round.note),
        round.startedBy,
        iso(round.startedAt),
        iso(round.deadline),
        round.applicationId,
        round.token,
      ],
    );
  }

  /**
   * Records a member's answer if the round (of this server) still takes answers and they have not
   * answered it yet. The round's row is locked meanwhile, so an answer and the reveal never interleave.
   */
  async answer(request: {
    roundId: string;
    guildId: string;
    userId: string;
    choice: string;
    now: number;
  }): Promise<AnswerOutcome> {
    return this.database.transaction(async (tx) => {
      const { rows } = await tx.query(
        `SELECT ${ROUND_COLUMNS} FROM quiz_rounds WHERE id = $1 AND guild_id = $2 FOR UPDATE`,
        [request.roundId, request.guildId],
      );
      if (rows[0] === undefined) return { status: 'unknown' as const };
      const row = roundRow.parse(rows[0]);
      if (row.revealed_at !== null || request.now >= row.deadline || request.now < row.started_at)
        return { status: 'ended' as const };
      const choice = row.choices.find((entry) => entry.id === request.choice);
      if (!choice) return { status: 'invalid_choice' as const };
      const inserted = await tx.query(
        `INSERT INTO quiz_answers (round_id, guild_id, user_id, choice, answered_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (round_id, user_id) DO NOTHING`,
        [request.roundId, request.guildId, request.userId, request.choice, iso(request.now)],
      );
      if (inserted.rowCount === 0) return { status: 'already' as const };
      return { status: 'recorded' as const, deadline: row.deadline, label: choice.label };
    });
  }

  /** Rounds past their deadline and not yet revealed (any server's: whoever holds the timer reveals). */
  async dueRounds(now: number): Promise<string[]> {
    const { rows } = await this.database.query(
      'SELECT id FROM quiz_rounds WHERE revealed_at IS NULL AND deadline <= $1 ORDER BY deadline',
      [iso(now)],
    );
    return rows.map((row) => z.object({ id: z.string() }).parse(row).id);
  }

  /** The earliest deadline of a round not yet revealed, for the timer. */
  async nextDeadline(): Promise<number | undefined> {
    const { rows } = await this.database.query(
      'SELECT min(deadline) AS deadline FROM quiz_rounds WHERE revealed_at IS NULL',
    );
    return z.object({ deadline: time.nullable() }).parse(rows[0]).deadline ?? undefined;
  }

  /**
   * Ends a round whose deadline has passed: scores its answers, adds the points to the server's
   * board and marks it revealed, clearing its token, in one transaction. Undefined when the round
   * is not due or was already revealed (by this process's timer or another's chore).
   */
  async reveal(roundId: string, now: number): Promise<RevealedRound | undefined> {
    return this.database.transaction(async (tx) => {
      const { rows } = await tx.query(
        `SELECT ${ROUND_COLUMNS} FROM quiz_rounds WHERE id = $1 AND revealed_at IS NULL AND deadline <= $2 FOR UPDATE`,
        [roundId, iso(now)],
      );
      if (rows[0] === undefined) return undefined;
      const row = roundRow.parse(rows[0]);
      const round = toRound(row);
      const answers = await tx.query(
        'SELECT user_id, choice, answered_at FROM quiz_answers WHERE round_id = $1 ORDER BY answered_at, user_id',
        [roundId],
      );
      const given: QuizAnswer[] = answers.rows.map((raw) => {
        const answer = answerRow.parse(raw);
        return { userId: answer.user_id, choice: answer.choice, answeredAt: answer.answered_at };
      });
      const scored = scoreRound(round, given);
      for (const answer of scored) {
        await tx.query(
          `INSERT INTO quiz_scores (guild_id, user_id, points, answered, updated_at) VALUES ($1, $2, $3, 1, $4)
           ON CONFLICT (guild_id, user_id) DO UPDATE SET points = quiz_scores.points + EXCLUDED.points,
             answered = quiz_scores.answered + 1, updated_at = EXCLUDED.updated_at`,
          [round.guildId, answer.userId, answer.points, iso(now)],
        );
      }
      await tx.query('UPDATE quiz_rounds SET revealed_at = $2, token = NULL WHERE id = $1', [roundId, iso(now)]);
      return { round, scored, applicationId: row.application_id, token: row.token };
    });
  }

  /** A server's top `limit` by points (ties share a rank), and the asking member's own line. */
  async leaderboard(guildId: string, userId: string | undefined, limit = 10): Promise<Leaderboard> {
    const { rows } = await this.database.query(
      `SELECT rank() OVER (ORDER BY points DESC) AS rank, user_id, points, answered
         FROM quiz_scores WHERE guild_id = $1 ORDER BY points DESC, answered ASC, user_id`,
      [guildId],
    );
    const board = rows.map((raw) => {
      const row = boardRow.parse(raw);
      return { rank: row.rank, userId: row.user_id, points: row.points, answered: row.answered };
    });
    return {
      top: board.slice(0, limit),
      own: userId === undefined ? undefined : board.find((entry) => entry.userId === userId),
      players: board.length,
    };
  }

  /** Revealed rounds (and their answers) older than `before`: the board keeps the points. */
  async purgeRevealed(before: number): Promise<number> {
    const { rowCount } = await this.database.query(
      'DELETE FROM quiz_rounds WHERE revealed_at IS NOT NULL AND revealed_at < $1',
      [iso(before)],
    );
    return rowCount;
  }
}

/** The shape every module that keeps per-server rows exports, for the server-data commands (src/server-data/owners.ts). */
export interface ServerDataOwner {
  name: string;
  forgetServer(db: SqlExecutor, guildId: string): Promise<number>;
  forgetMember(db: SqlExecutor, guildId: string, userId: string): Promise<number>;
}

/** /quiz's rows: a server's rounds, answers and scores; a member's answers and score line. */
export const quizDataOwner: ServerDataOwner = {
  name: 'quiz',
  async forgetServer(db, guildId) {
    const answers = await db.query('DELETE FROM quiz_answers WHERE guild_id = $1', [guildId]);
    const rounds = await db.query('DELETE FROM quiz_rounds WHERE guild_id = $1', [guildId]);
    const scores = await db.query('DELETE FROM quiz_scores WHERE guild_id = $1', [guildId]);
    return answers.rowCount + rounds.rowCount + scores.rowCount;
  },
  async forgetMember(db, guildId, userId) {
    const answers = await db.query('DELETE FROM quiz_answers WHERE guild_id = $1 AND user_id = $2', [guildId, userId]);
    const scores = await db.query('DELETE FROM quiz_scores WHERE guild_id = $1 AND user_id = $2', [guildId, userId]);
    return answers.rowCount + scores.rowCount;
  },
};
