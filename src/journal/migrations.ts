import { z } from 'zod';
import type { SqlExecutor } from './database.js';
import { StorageError } from './storage-error.js';

export interface Migration {
  /** Applied in increasing order; never renumber or edit one that has shipped, add a new one. */
  version: number;
  name: string;
  sql: string;
}

/**
 * The whole schema, for both backends. Rows that are still open (pending, running) hold what a
 * replay needs to answer (the token, the options); the constraints make a finished row unable to
 * keep either, so privacy does not depend on every code path remembering to clear them.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'interaction journal',
    sql: `
      CREATE TABLE interaction_journal (
        interaction_id text PRIMARY KEY,
        application_id text NOT NULL,
        token text,
        command_name text NOT NULL,
        options jsonb,
        guild_id text,
        channel_id text,
        user_id text NOT NULL,
        created_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL,
        state text NOT NULL,
        claimed_by text,
        lease_until timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        finished_at timestamptz,
        failure_reason text,
        CONSTRAINT interaction_journal_known_state
          CHECK (state IN ('pending', 'running', 'done', 'failed', 'expired')),
        CONSTRAINT interaction_journal_open_rows_can_be_answered
          CHECK (state NOT IN ('pending', 'running') OR (token IS NOT NULL AND options IS NOT NULL)),
        CONSTRAINT interaction_journal_finished_rows_keep_no_content
          CHECK (state IN ('pending', 'running') OR (token IS NULL AND options IS NULL AND finished_at IS NOT NULL))
      );
      CREATE INDEX interaction_journal_open ON interaction_journal (created_at)
        WHERE state IN ('pending', 'running');
      CREATE INDEX interaction_journal_finished ON interaction_journal (finished_at)
        WHERE state IN ('done', 'failed', 'expired');
    `,
  },
  {
    version: 2,
    name: 'teach classes',
    // /teach: each server's own classes, the embeddings of its examples (never the images) and
    // its trained probe. Everything is keyed by guild_id, so one server's data is deleted with
    // one statement and no query can reach another's.
    sql: `
      CREATE TABLE teach_classes (
        guild_id text NOT NULL,
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (guild_id, name)
      );
      CREATE TABLE teach_examples (
        id bigserial PRIMARY KEY,
        guild_id text NOT NULL,
        class_name text NOT NULL,
        embedder text NOT NULL,
        embedding float4[] NOT NULL,
        image_sha256 text NOT NULL,
        image_name text NOT NULL,
        width integer NOT NULL,
        height integer NOT NULL,
        added_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        FOREIGN KEY (guild_id, class_name) REFERENCES teach_classes (guild_id, name) ON DELETE CASCADE,
        CONSTRAINT teach_examples_one_image_once UNIQUE (guild_id, embedder, image_sha256)
      );
      CREATE INDEX teach_examples_by_class ON teach_examples (guild_id, class_name);
      CREATE TABLE teach_models (
        guild_id text PRIMARY KEY,
        embedder text NOT NULL,
        classes jsonb NOT NULL,
        dimensions integer NOT NULL,
        mean float4[] NOT NULL,
        std float4[] NOT NULL,
        weights float4[] NOT NULL,
        bias float4[] NOT NULL,
        examples integer NOT NULL,
        trained_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    version: 3,
    name: 'server settings, departures and the member permission',
    // /settings: one row per server, a NULL column meaning "the default" (so a changed default
    // reaches every server that never set its own). departed_servers: servers the bot was
    // removed from, whose data a chore deletes after FORGET_GRACE_HOURS unless it is invited
    // back. can_manage_server: whether the member had Manage Server when the interaction
    // arrived, so a request resumed after a restart is checked as the live one was.
    sql: `
      ALTER TABLE interaction_journal ADD COLUMN can_manage_server boolean NOT NULL DEFAULT false;
      CREATE TABLE server_settings (
        guild_id text PRIMARY KEY,
        image_model text,
        cooldown_seconds integer,
        buttons boolean,
        quiz_channel_id text,
        retention_days integer,
        updated_by text,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT server_settings_known_model CHECK (image_model IN ('cnn', 'vit', 'both')),
        CONSTRAINT server_settings_cooldown_range CHECK (cooldown_seconds BETWEEN 0 AND 300),
        CONSTRAINT server_settings_retention_range CHECK (retention_days BETWEEN 1 AND 365)
      );
      CREATE TABLE departed_servers (
        guild_id text PRIMARY KEY,
        left_at timestamptz NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'quiz rounds and scores',
    // /quiz: rounds held until their reveal (with the interaction's token to edit the question
    // message; the reveal clears it), each member's one answer per round, and each server's
    // scores. Keyed by guild_id like /teach's rows. Self-contained: it needs no other version's tables.
    sql: `
      CREATE TABLE quiz_rounds (
        id text PRIMARY KEY,
        guild_id text NOT NULL,
        channel_id text,
        kind text NOT NULL,
        question jsonb NOT NULL,
        choices jsonb NOT NULL,
        correct text NOT NULL,
        answer text NOT NULL,
        note jsonb NOT NULL,
        started_by text,
        started_at timestamptz NOT NULL,
        deadline timestamptz NOT NULL,
        application_id text,
        token text,
        revealed_at timestamptz,
        CONSTRAINT quiz_rounds_revealed_keep_no_token CHECK (revealed_at IS NULL OR token IS NULL)
      );
      CREATE INDEX quiz_rounds_due ON quiz_rounds (deadline) WHERE revealed_at IS NULL;
      CREATE INDEX quiz_rounds_by_guild ON quiz_rounds (guild_id);
      CREATE TABLE quiz_answers (
        round_id text NOT NULL REFERENCES quiz_rounds (id) ON DELETE CASCADE,
        guild_id text NOT NULL,
        user_id text NOT NULL,
        choice text NOT NULL,
        answered_at timestamptz NOT NULL,
        PRIMARY KEY (round_id, user_id)
      );
      CREATE INDEX quiz_answers_by_member ON quiz_answers (guild_id, user_id);
      CREATE TABLE quiz_scores (
        guild_id text NOT NULL,
        user_id text NOT NULL,
        points integer NOT NULL DEFAULT 0,
        answered integer NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (guild_id, user_id)
      );
      CREATE INDEX quiz_scores_board ON quiz_scores (guild_id, points DESC);
    `,
  },
];

/** Any constant: the advisory lock that keeps two processes starting at once from migrating together. */
const MIGRATION_LOCK_KEY = 7_140_314;

const appliedRow = z.object({ version: z.number().int() });

export interface MigrationOutcome {
  /** Versions this call applied (empty when the schema was already current). */
  applied: number[];
  /** The schema version afterwards. */
  version: number;
}

/**
 * Brings the schema up to date in one transaction: either every missing migration is applied
 * and recorded in `schema_migrations`, or (on any error) none is. Safe to run on every start and
 * from several processes at once (an advisory lock serialises them; the second finds nothing to do).
 */
export async function migrate(
  database: { transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> },
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationOutcome> {
  const latest = Math.max(0, ...migrations.map((migration) => migration.version));
  return database.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    await tx.query(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const { rows } = await tx.query('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((row) => appliedRow.parse(row).version));
    const newest = Math.max(0, ...done);
    if (newest > latest) {
      throw new StorageError(
        'schema_too_new',
        `The journal's schema is at version ${newest}, newer than this release knows (${latest}).`,
      );
    }
    const applied: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue;
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    return { applied, version: Math.max(newest, latest) };
  });
}
