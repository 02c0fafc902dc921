import type { SqlExecutor } from '../journal/database.js';
import { quizDataOwner } from '../quiz/store.js';

/**
 * Something that stores rows for a server: /forget, a departure and the retention chore ask each
 * one to delete its own. Every owner keys its rows by guild_id, so no call reaches another server.
 */
export interface ServerDataOwner {
  /** What /forget's reply calls its rows ("teach", "settings", "quiz scores"). */
  name: string;
  /** Deletes everything it stores for the server; returns how many rows. */
  forgetServer(db: SqlExecutor, guildId: string): Promise<number>;
  /** Deletes (or unlinks from the member) what it stores about one member of the server; returns how many rows. */
  forgetMember(db: SqlExecutor, guildId: string, userId: string): Promise<number>;
  /**
   * Deletes rows older than their server's retention; `pastRetention(guild, time)` is the SQL
   * condition to use (its parameters are $1 and $2, passed by the caller: keep them first).
   */
  expire?(
    db: SqlExecutor,
    pastRetention: (guildColumn: string, timeColumn: string) => string,
    params: RetentionParams,
  ): Promise<number>;
}

/** The parameters `pastRetention`'s SQL expects, as $1 (now) and $2 (the default in days). */
export type RetentionParams = readonly [string, number];

/**
 * SQL true for a row whose server keeps data for fewer days than the row's age: the server's own
 * retention_days from /settings, else the default ($2); $1 is now.
 */
export const pastRetention = (guildColumn: string, timeColumn: string): string =>
  `${timeColumn} < $1::timestamptz - make_interval(days => COALESCE(
     (SELECT s.retention_days FROM server_settings s WHERE s.guild_id = ${guildColumn}), $2::integer))`;

/** /teach: the server's classes, the embeddings of its examples and its trained probe. */
export const teachData: ServerDataOwner = {
  name: 'teach',
  async forgetServer(db, guildId) {
    const examples = await db.query('DELETE FROM teach_examples WHERE guild_id = $1', [guildId]);
    const classes = await db.query('DELETE FROM teach_classes WHERE guild_id = $1', [guildId]);
    const models = await db.query('DELETE FROM teach_models WHERE guild_id = $1', [guildId]);
    return examples.rowCount + classes.rowCount + models.rowCount;
  },
  // An example belongs to the server's classes, not to the member who added it: it stays, and
  // forgets who added it.
  async forgetMember(db, guildId, userId) {
    const { rowCount } = await db.query(
      'UPDATE teach_examples SET added_by = NULL WHERE guild_id = $1 AND added_by = $2',
      [guildId, userId],
    );
    return rowCount;
  },
  async expire(db, past, params) {
    const examples = await db.query(`DELETE FROM teach_examples e WHERE ${past('e.guild_id', 'e.created_at')}`, params);
    const models = await db.query(`DELETE FROM teach_models m WHERE ${past('m.guild_id', 'm.trained_at')}`, params);
    const classes = await db.query(
      `DELETE FROM teach_classes c WHERE ${past('c.guild_id', 'c.created_at')}
         AND NOT EXISTS (SELECT 1 FROM teach_examples e WHERE e.guild_id = c.guild_id AND e.class_name = c.name)`,
      params,
    );
    return examples.rowCount + models.rowCount + classes.rowCount;
  },
};

/** /settings: the server's own settings. */
export const settingsData: ServerDataOwner = {
  name: 'settings',
  async forgetServer(db, guildId) {
    return (await db.query('DELETE FROM server_settings WHERE guild_id = $1', [guildId])).rowCount;
  },
  async forgetMember() {
    return 0;
  },
};

/**
 * The journal's finished rows (ids, command, outcome; their text and token are already gone),
 * which it deletes itself after JOURNAL_RETENTION_HOURS. Open rows stay: they are being answered
 * (the /forget itself among them) and are cleared when they finish.
 */
export const journalData: ServerDataOwner = {
  name: 'journal',
  async forgetServer(db, guildId) {
    const { rowCount } = await db.query(
      `DELETE FROM interaction_journal WHERE guild_id = $1 AND state IN ('done', 'failed', 'expired')`,
      [guildId],
    );
    return rowCount;
  },
  async forgetMember(db, guildId, userId) {
    const { rowCount } = await db.query(
      `DELETE FROM interaction_journal
       WHERE guild_id = $1 AND user_id = $2 AND state IN ('done', 'failed', 'expired')`,
      [guildId, userId],
    );
    return rowCount;
  },
};

/** /quiz: a server's rounds, answers and scores; a member's answers and score line. Scores not updated within the retention go. */
export const quizData: ServerDataOwner = {
  ...quizDataOwner,
  async expire(db, pastRetention, params) {
    return (
      await db.query(
        `DELETE FROM quiz_scores WHERE ${pastRetention('quiz_scores.guild_id', 'quiz_scores.updated_at')}`,
        params,
      )
    ).rowCount;
  },
};

/** Every owner of per-server rows. */
export const SERVER_DATA_OWNERS: readonly ServerDataOwner[] = [teachData, settingsData, quizData, journalData];
