import { z } from 'zod';
import type { Database, SqlValue } from './database.js';
import { JOURNAL_STATES } from './entry.js';

const nullableDate = z.date().nullable();

/** Every column of a journal row, as both drivers return it. */
const journalRow = z.object({
  interaction_id: z.string(),
  application_id: z.string(),
  token: z.string().nullable(),
  command_name: z.string(),
  options: z.json().nullable(),
  guild_id: z.string().nullable(),
  channel_id: z.string().nullable(),
  user_id: z.string(),
  created_at: z.date(),
  recorded_at: z.date(),
  state: z.enum(JOURNAL_STATES),
  claimed_by: z.string().nullable(),
  lease_until: nullableDate,
  attempts: z.number().int(),
  finished_at: nullableDate,
  failure_reason: z.string().nullable(),
  can_manage_server: z.boolean(),
});

type JournalRow = z.infer<typeof journalRow>;
const COLUMNS = Object.keys(journalRow.shape);

/** A column's value as a query parameter: dates as ISO text, the options as JSON text (cast to jsonb). */
function toParameter(column: string, value: JournalRow[keyof JournalRow]): SqlValue {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (column === 'options') return JSON.stringify(value);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return JSON.stringify(value);
}

export interface CopyOutcome {
  /** Rows read from the source. */
  read: number;
  /** Rows written to the target (the rest were already there, by interaction id). */
  copied: number;
}

/**
 * Copies the journal from one database to another (embedded → server when moving to a server,
 * or back), in one transaction on the target; rows already there are kept. Run it with the bot
 * stopped: rows written to the source meanwhile would be left behind. Both schemas must be at
 * the same version (opening each migrates it).
 */
export async function copyJournal(source: Database, target: Database): Promise<CopyOutcome> {
  const { rows } = await source.query(`SELECT ${COLUMNS.join(', ')} FROM interaction_journal ORDER BY created_at`);
  const parsed = rows.map((row) => journalRow.parse(row));
  const placeholders = COLUMNS.map((column, index) =>
    column === 'options' ? `$${index + 1}::jsonb` : `$${index + 1}`,
  );
  const copied = await target.transaction(async (tx) => {
    let written = 0;
    for (const row of parsed) {
      const values = COLUMNS.map((column) => toParameter(column, row[column as keyof JournalRow]));
      const { rowCount } = await tx.query(
        `INSERT INTO interaction_journal (${COLUMNS.join(', ')}) VALUES (${placeholders.join(', ')})
         ON CONFLICT (interaction_id) DO NOTHING`,
        values,
      );
      written += rowCount;
    }
    return written;
  });
  return { read: parsed.length, copied };
}
