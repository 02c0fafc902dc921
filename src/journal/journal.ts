import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { z } from 'zod';
import { systemClock, type Clock, type Database, type JournalLogger, type SqlValue } from './database.js';
import {
  OPEN_ROW_COLUMNS,
  interactionToRecord,
  openRow,
  snowflakeTime,
  type InteractionToRecord,
  type JournaledInteraction,
} from './entry.js';

/** Discord accepts webhook calls with an interaction token for 15 minutes after the interaction. */
export const TOKEN_LIFETIME_MS = 15 * 60_000;

export interface JournalOptions {
  logger: JournalLogger;
  clock?: Pick<Clock, 'now'>;
  /** Who claims rows; defaults to host:pid:random, unique per process start. */
  workerId?: string;
  /**
   * How long a claim holds before another worker may take the row over. Longer than any run
   * (download and inference deadlines) so that only a dead worker's rows are taken; `renew`
   * extends it for a run that waits long in a queue.
   */
  leaseMs?: number;
  /** Claims per interaction before it is given up (a request that crashes the process must not loop). */
  maxAttempts?: number;
  /** JOURNAL_RETENTION_HOURS: finished rows (ids and outcome only) are deleted after this. */
  retentionHours?: number;
}

/** `record` was handed something it must not store (image bytes) or that is not an interaction. */
export class JournalInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JournalInputError';
  }
}

export interface FinishedByExpiry {
  id: string;
  commandName: string;
  userId: string;
  guildId: string | null;
  createdAt: Date;
  /** expired: its token ran out before an answer; gave_up: it used every attempt. */
  outcome: 'expired' | 'gave_up';
  attempts: number;
}

const expiredRow = z
  .object({
    interaction_id: z.string(),
    command_name: z.string(),
    user_id: z.string(),
    guild_id: z.string().nullable(),
    created_at: z.date(),
    state: z.enum(['expired', 'failed']),
    attempts: z.number().int(),
  })
  .transform((row): FinishedByExpiry => ({
    id: row.interaction_id,
    commandName: row.command_name,
    userId: row.user_id,
    guildId: row.guild_id,
    createdAt: row.created_at,
    outcome: row.state === 'expired' ? 'expired' : 'gave_up',
    attempts: row.attempts,
  }));

const iso = (ms: number): string => new Date(ms).toISOString();

/** Rows per group-committed INSERT (13 parameters each; PostgreSQL allows 65,535). */
const MAX_RECORDS_PER_STATEMENT = 200;
const insertedRow = z.object({ interaction_id: z.string() });

/** A record waiting for its turn in the next group commit. */
interface WaitingRecord {
  entry: InteractionToRecord;
  at: number;
  resolve: (inserted: boolean) => void;
  reject: (error: unknown) => void;
}

/** Where in `options` a value is binary data, if anywhere: those are refused, never stripped. */
function binaryPath(value: unknown, path: string): string | undefined {
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return path;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, inner] of Object.entries(value)) {
    const found = binaryPath(inner, `${path}.${key}`);
    if (found) return found;
  }
  return undefined;
}

/**
 * The interaction journal: every accepted interaction is recorded before it is acknowledged,
 * answered once, and forgotten after the retention period.
 *
 * States: `record` inserts a row already `running` and claimed by this worker (so no replay can
 * take it while it is answered here). `markDone` / `markFailed` finish it and clear its token and
 * options. A worker that dies leaves its rows `running` until their lease lapses; `release` (on a
 * clean shutdown) puts them back to `pending` at once. `unfinished` lists what can be claimed
 * within the token's 15 minutes; `claim` takes one in a single conditional UPDATE, so of two
 * replays racing for a row exactly one gets it; `expire` closes what ran out of time or attempts;
 * `purge` deletes finished rows after the retention period.
 */
export class InteractionJournal {
  readonly workerId: string;
  private readonly logger: JournalLogger;
  private readonly clock: Pick<Clock, 'now'>;
  private readonly leaseMs: number;
  private readonly maxAttempts: number;
  private readonly retentionMs: number;
  private readonly recordsWaiting: WaitingRecord[] = [];
  private writingRecords = false;

  constructor(
    private readonly database: Database,
    options: JournalOptions,
  ) {
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.leaseMs = options.leaseMs ?? 120_000;
    this.maxAttempts = options.maxAttempts ?? 3;
    this.retentionMs = (options.retentionHours ?? 24) * 3_600_000;
  }

  /** How often a worker answering a row should renew its claim: well within the lease. */
  get leaseRenewMs(): number {
    return Math.floor(this.leaseMs / 3);
  }

  /** False while the database cannot be reached (a server that is down): /healthz should say 503. */
  ready(): boolean {
    return this.database.ready();
  }

  /**
   * Records an interaction before it is acknowledged, claimed by this worker. Returns false when
   * it was already recorded (Discord delivered it twice, or another replica has it): then it must
   * not be answered here. Refuses (JournalInputError) options with binary data: an attachment is
   * journaled as a reference (url, name, size, contentType) to download again, never as bytes.
   */
  async record(interaction: InteractionToRecord): Promise<boolean> {
    const binary = binaryPath((interaction as { options?: unknown }).options, 'options');
    if (binary) {
      throw new JournalInputError(
        `${binary} is binary data; the journal stores attachments as references ({ kind: 'attachment', url, name, size, contentType }), never their bytes`,
      );
    }
    const parsed = interactionToRecord.safeParse(interaction);
    if (!parsed.success) {
      const problems = parsed.error.issues.map(
        (issue) => `${issue.path.join('.') || '(interaction)'} ${issue.message}`,
      );
      throw new JournalInputError(`not a journalable interaction: ${problems.join('; ')}`);
    }
    const entry = parsed.data;
    return new Promise<boolean>((resolve, reject) => {
      this.recordsWaiting.push({ entry, at: this.clock.now(), resolve, reject });
      void this.writeRecords();
    });
  }

  /**
   * Group commit: a record arriving while another is being written waits for it and then goes
   * with every other waiting one in a single INSERT. A lone record is written at once, as
   * before; a class's burst costs one statement per round trip instead of one per member
   * (PGlite runs one statement at a time, so forty separate INSERTs queue behind each other).
   */
  private async writeRecords(): Promise<void> {
    if (this.writingRecords) return;
    this.writingRecords = true;
    try {
      while (this.recordsWaiting.length > 0) {
        const batch = this.recordsWaiting.splice(0, MAX_RECORDS_PER_STATEMENT);
        try {
          const inserted = await this.insertRecords(batch);
          // An id twice in one batch (Discord delivered it twice at once): only the first is this process's.
          const answered = new Set<string>();
          for (const item of batch) {
            item.resolve(inserted.has(item.entry.id) && !answered.has(item.entry.id));
            answered.add(item.entry.id);
          }
        } catch (error) {
          for (const item of batch) item.reject(error);
        }
      }
    } finally {
      this.writingRecords = false;
    }
  }

  /** One INSERT for a batch of records; the ids it inserted (those not recorded before). */
  private async insertRecords(batch: readonly WaitingRecord[]): Promise<Set<string>> {
    const values: string[] = [];
    const parameters: SqlValue[] = [];
    for (const { entry, at } of batch) {
      const p = parameters.length;
      values.push(
        `($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5}::jsonb, $${p + 6}, $${p + 7}, $${p + 8}, ` +
          `$${p + 9}::timestamptz, $${p + 10}::timestamptz, 'running', $${p + 11}, $${p + 12}::timestamptz, 1, $${p + 13})`,
      );
      parameters.push(
        entry.id,
        entry.applicationId,
        entry.token,
        entry.commandName,
        JSON.stringify(entry.options),
        entry.guildId,
        entry.channelId,
        entry.userId,
        snowflakeTime(entry.id).toISOString(),
        iso(at),
        this.workerId,
        iso(at + this.leaseMs),
        entry.canManageServer ?? false,
      );
    }
    const { rows } = await this.database.query(
      `INSERT INTO interaction_journal (interaction_id, application_id, token, command_name, options, guild_id,
         channel_id, user_id, created_at, recorded_at, state, claimed_by, lease_until, attempts, can_manage_server)
       VALUES ${values.join(', ')}
       ON CONFLICT (interaction_id) DO NOTHING
       RETURNING interaction_id`,
      parameters,
    );
    return new Set(rows.map((row) => insertedRow.parse(row).interaction_id));
  }

  /**
   * Takes an unfinished interaction for `workerId`: a pending one, or a running one whose lease
   * has lapsed (its worker died), while its token lives and attempts remain. One conditional
   * UPDATE decides, so two claims racing for a row cannot both win: PostgreSQL re-checks the
   * second against the row the first committed. Returns the interaction, or undefined if another
   * worker has it, it is finished or expired, or its row is unreadable (then it is failed and logged).
   */
  async claim(id: string, workerId = this.workerId): Promise<JournaledInteraction | undefined> {
    const now = this.clock.now();
    const { rows } = await this.database.query(
      `UPDATE interaction_journal
       SET state = 'running', claimed_by = $2, lease_until = $3::timestamptz, attempts = attempts + 1
       WHERE interaction_id = $1
         AND created_at > $4::timestamptz
         AND attempts < $5
         AND (state = 'pending' OR (state = 'running' AND lease_until <= $6::timestamptz))
       RETURNING ${OPEN_ROW_COLUMNS}`,
      [id, workerId, iso(now + this.leaseMs), iso(now - TOKEN_LIFETIME_MS), this.maxAttempts, iso(now)],
    );
    const [row] = rows;
    if (row === undefined) return undefined;
    const parsed = openRow.safeParse(row);
    if (parsed.success) return parsed.data;
    await this.quarantine(id, parsed.error);
    return undefined;
  }

  /** Extends this worker's lease on a row it is still answering; false if it is no longer its own. */
  async renew(id: string, workerId = this.workerId): Promise<boolean> {
    const { rowCount } = await this.database.query(
      `UPDATE interaction_journal SET lease_until = $3::timestamptz
       WHERE interaction_id = $1 AND claimed_by = $2 AND state = 'running'`,
      [id, workerId, iso(this.clock.now() + this.leaseMs)],
    );
    return rowCount === 1;
  }

  /**
   * The final reply was sent. Clears the token and options. False if this worker no longer holds
   * the row (its lease lapsed and another took it over): that is worth a warning in the log.
   */
  markDone(id: string, workerId = this.workerId): Promise<boolean> {
    return this.finish(id, workerId, 'done', null);
  }

  /** The interaction was answered with an error, or cannot be answered; `reason` is for operators, not content. */
  markFailed(id: string, reason: string, workerId = this.workerId): Promise<boolean> {
    return this.finish(id, workerId, 'failed', reason.slice(0, 300));
  }

  private async finish(
    id: string,
    workerId: string,
    state: 'done' | 'failed',
    reason: string | null,
  ): Promise<boolean> {
    const { rowCount } = await this.database.query(
      `UPDATE interaction_journal
       SET state = $3, token = NULL, options = NULL, lease_until = NULL, finished_at = $4::timestamptz,
           failure_reason = $5
       WHERE interaction_id = $1 AND claimed_by = $2 AND state = 'running'`,
      [id, workerId, state, iso(this.clock.now()), reason],
    );
    return rowCount === 1;
  }

  /**
   * On a clean shutdown: this worker's rows still running go back to pending, so the next start
   * resumes them at once instead of waiting for their lease. The attempt is not counted.
   */
  async release(workerId = this.workerId): Promise<number> {
    const { rowCount } = await this.database.query(
      `UPDATE interaction_journal
       SET state = 'pending', claimed_by = NULL, lease_until = NULL, attempts = GREATEST(attempts - 1, 0)
       WHERE claimed_by = $1 AND state = 'running'`,
      [workerId],
    );
    return rowCount;
  }

  /**
   * Interactions to resume now: unfinished, inside their token's 15 minutes, with attempts left,
   * and not held by a live lease. Oldest first. A row that fails its schema is logged, marked
   * failed and left out; it never stops the others.
   */
  async unfinished(now = this.clock.now()): Promise<JournaledInteraction[]> {
    const { rows } = await this.database.query(
      `SELECT ${OPEN_ROW_COLUMNS} FROM interaction_journal
       WHERE state IN ('pending', 'running')
         AND created_at > $1::timestamptz
         AND attempts < $2
         AND (state = 'pending' OR lease_until <= $3::timestamptz)
       ORDER BY created_at, interaction_id`,
      [iso(now - TOKEN_LIFETIME_MS), this.maxAttempts, iso(now)],
    );
    const resumable: JournaledInteraction[] = [];
    for (const row of rows) {
      const parsed = openRow.safeParse(row);
      if (parsed.success) resumable.push(parsed.data);
      else await this.quarantine((row as { interaction_id?: unknown }).interaction_id, parsed.error);
    }
    return resumable;
  }

  /**
   * For the embedded database at start-up: this process holds DATA_DIR's lock, so a row still
   * running belongs to a process that is gone (killed, crashed, the machine restarted). They go
   * back to pending at once instead of after their lease; the attempt they used still counts, so
   * a request that crashes the process is not tried for ever. Never for a server database,
   * where the claimant may be another live replica.
   */
  async adoptOrphans(): Promise<number> {
    const { rowCount } = await this.database.query(
      `UPDATE interaction_journal SET state = 'pending', claimed_by = NULL, lease_until = NULL
       WHERE state = 'running' AND claimed_by IS DISTINCT FROM $1`,
      [this.workerId],
    );
    return rowCount;
  }

  /**
   * Interactions that used every attempt and nobody holds, whose token still lives: each is
   * closed as failed in one conditional UPDATE (so of two replicas exactly one gets it) and
   * returned with its token, once, so that its user is told it failed instead of being left on
   * "thinking…".
   */
  async takeExhausted(now = this.clock.now()): Promise<JournaledInteraction[]> {
    const { rows } = await this.database.query(
      `UPDATE interaction_journal AS row
       SET state = 'failed', failure_reason = 'gave up after ' || row.attempts || ' attempts',
           token = NULL, options = NULL, lease_until = NULL, finished_at = $2::timestamptz
       FROM (SELECT interaction_id, token, options, state FROM interaction_journal
             WHERE state IN ('pending', 'running') AND attempts >= $3 AND created_at > $1::timestamptz
               AND (state = 'pending' OR lease_until <= $2::timestamptz)) AS before
       WHERE row.interaction_id = before.interaction_id
         AND row.state IN ('pending', 'running')
         AND (row.state = 'pending' OR row.lease_until <= $2::timestamptz)
       RETURNING row.interaction_id, row.application_id, before.token, row.command_name, before.options,
         row.guild_id, row.channel_id, row.user_id, row.can_manage_server, row.created_at, before.state, row.attempts`,
      [iso(now - TOKEN_LIFETIME_MS), iso(now), this.maxAttempts],
    );
    const taken: JournaledInteraction[] = [];
    for (const row of rows) {
      const parsed = openRow.safeParse(row);
      // Already closed as failed: an unreadable row is only logged.
      if (parsed.success) taken.push(parsed.data);
      else
        this.logger.warn(
          { interactionId: (row as { interaction_id?: unknown }).interaction_id },
          'skipped an unreadable journal row',
        );
    }
    return taken.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  /** Logs an unreadable row (which columns failed, never their values) and fails it so it is not read again. */
  private async quarantine(id: unknown, error: z.ZodError): Promise<void> {
    const problems = error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).slice(0, 5);
    this.logger.warn({ interactionId: id, problems }, 'skipped an unreadable journal row');
    if (typeof id !== 'string') return;
    try {
      await this.database.query(
        `UPDATE interaction_journal
         SET state = 'failed', token = NULL, options = NULL, lease_until = NULL, finished_at = $2::timestamptz,
             failure_reason = $3
         WHERE interaction_id = $1 AND state IN ('pending', 'running')`,
        [id, iso(this.clock.now()), `unreadable journal row: ${problems.join('; ')}`.slice(0, 300)],
      );
    } catch (quarantineError) {
      this.logger.error({ interactionId: id, err: quarantineError }, 'could not mark an unreadable journal row failed');
    }
  }

  /**
   * Closes what can no longer be answered: rows whose token is 15 minutes old (expired) and rows
   * out of attempts that nobody holds (gave_up). Returns them for the log; their content is cleared.
   */
  async expire(now = this.clock.now()): Promise<FinishedByExpiry[]> {
    const { rows } = await this.database.query(
      `UPDATE interaction_journal
       SET state = CASE WHEN created_at <= $1::timestamptz THEN 'expired' ELSE 'failed' END,
           failure_reason = CASE WHEN created_at <= $1::timestamptz THEN 'token expired before an answer'
                                 ELSE 'gave up after ' || attempts || ' attempts' END,
           token = NULL, options = NULL, lease_until = NULL, finished_at = $2::timestamptz
       WHERE state IN ('pending', 'running')
         AND (created_at <= $1::timestamptz
              OR (attempts >= $3 AND (state = 'pending' OR lease_until <= $2::timestamptz)))
       RETURNING interaction_id, command_name, user_id, guild_id, created_at, state, attempts`,
      [iso(now - TOKEN_LIFETIME_MS), iso(now), this.maxAttempts],
    );
    return rows.map((row) => expiredRow.parse(row)).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  /**
   * The periodic chores, for a timer (every minute or so) and for start-up after the replay:
   * closes what ran out of time or attempts, logging each (ids and command, never content), and
   * purges what is past retention.
   */
  async maintain(now = this.clock.now()): Promise<{ expired: FinishedByExpiry[]; purged: number }> {
    const expired = await this.expire(now);
    for (const entry of expired) {
      this.logger.warn(
        {
          interactionId: entry.id,
          command: entry.commandName,
          user: entry.userId,
          guild: entry.guildId,
          createdAt: entry.createdAt.toISOString(),
          attempts: entry.attempts,
          outcome: entry.outcome,
        },
        entry.outcome === 'expired'
          ? 'an interaction expired before it was answered'
          : 'gave up on an interaction after its last attempt',
      );
    }
    const purged = await this.purge(now);
    return { expired, purged };
  }

  /** Deletes finished rows (done, failed, expired) older than the retention period; returns how many. */
  async purge(now = this.clock.now()): Promise<number> {
    const { rowCount } = await this.database.query(
      `DELETE FROM interaction_journal
       WHERE state IN ('done', 'failed', 'expired') AND finished_at <= $1::timestamptz`,
      [iso(now - this.retentionMs)],
    );
    return rowCount;
  }
}
