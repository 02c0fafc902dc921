/**
 * One interface over two PostgreSQLs: embedded (PGlite, PostgreSQL compiled to WebAssembly, in
 * DATA_DIR) and a server (DATABASE_URL, through `pg`). Both run the same SQL; the differences
 * that leak through drivers are kept out of this interface: parameters are plain values (JSON is
 * passed as text and cast with `::jsonb`), rows come back as `unknown` and are parsed with zod by
 * whoever reads them, and counts are `rowCount`.
 */

/** A value bound to a `$n` placeholder. Objects are not accepted: serialize JSON and cast it. */
export type SqlValue = string | number | boolean | null;

export interface SqlResult {
  /** Rows as the driver returned them: parse them before use. */
  rows: unknown[];
  /** Rows inserted, updated or deleted (or returned, for a SELECT). */
  rowCount: number;
}

export interface SqlExecutor {
  /** One statement, with `$1…$n` placeholders. */
  query(sql: string, params?: readonly SqlValue[]): Promise<SqlResult>;
  /** A script of several statements without parameters (migrations); returns no rows. */
  exec(script: string): Promise<void>;
}

export type DatabaseBackend = 'embedded' | 'server';

export interface Database extends SqlExecutor {
  readonly backend: DatabaseBackend;
  /** Where the data lives, for logs: a folder, or the server URL without its password. */
  readonly location: string;
  /**
   * True once the schema is migrated and the last attempt to reach the database worked. A
   * server that cannot be reached keeps this false while start-up retries (so /healthz says 503).
   */
  ready(): boolean;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Time, injectable so that tests move it instead of sleeping. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
};

/** The log lines the journal layer writes; pino's Logger fits. */
export interface JournalLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}
