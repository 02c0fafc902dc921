import pg from 'pg';
import { systemClock, type Clock, type Database, type JournalLogger, type SqlExecutor } from './database.js';
import { migrate } from './migrations.js';
import { StorageError, adviceFor, errnoName } from './storage-error.js';

export interface ServerOptions {
  /** DATABASE_URL: postgres://user:password@host:port/database */
  url: string;
  logger: JournalLogger;
  clock?: Clock;
  /** Backoff between attempts to reach the server: doubles from `initialMs` up to `maxMs`. */
  retry?: { initialMs: number; maxMs: number };
  /** Give up one connection attempt after this long (a server that drops packets never refuses). */
  connectTimeoutMs?: number;
  poolSize?: number;
}

export interface ServerDatabase extends Database {
  /**
   * Resolves once the server answered and the schema is migrated. Never rejects because the
   * server is unreachable (start-up keeps retrying); rejects only when retrying cannot help
   * (the schema is newer than this release), or resolves early when the database is closed.
   */
  readonly connected: Promise<void>;
}

const DEFAULT_RETRY = { initialMs: 1000, maxMs: 30_000 };

/** Network errors and PostgreSQL's class 08 (connection exception) and 57P0x (shutting down). */
export function isConnectionError(error: unknown): boolean {
  const code = errnoName(error) ?? (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EPIPE)$/.test(code))
      return true;
    if (/^08/.test(code) || /^57P0[123]$/.test(code)) return true;
  }
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
    message,
  );
}

/** The URL without its password, for logs and messages. */
export function describeServer(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    return parsed.toString();
  } catch {
    return 'DATABASE_URL (unparsable)';
  }
}

function reasonOf(error: unknown): string {
  const code = errnoName(error) ?? (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}

function executor(client: pg.Pool | pg.PoolClient): SqlExecutor {
  return {
    query: async (sql, params = []) => {
      const result = await client.query(sql, [...params]);
      return { rows: result.rows as unknown[], rowCount: result.rowCount ?? result.rows.length };
    },
    exec: async (script) => {
      // Without parameters pg uses the simple query protocol, which runs several statements.
      await client.query(script);
    },
  };
}

/**
 * A PostgreSQL server through a `pg` pool. It returns at once and connects in the background:
 * while the server cannot be reached it logs each failed attempt with the time to the next
 * (doubling, capped), `ready()` stays false and every query fails fast with a StorageError
 * ('unreachable'), so the bot can start, say 503 on /healthz and refuse or degrade clearly.
 * A connection lost later flips `ready()` back to false and starts the same loop again.
 */
export function openServerDatabase(options: ServerOptions): ServerDatabase {
  const clock = options.clock ?? systemClock;
  const retry = options.retry ?? DEFAULT_RETRY;
  const location = describeServer(options.url);
  const { logger } = options;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    application_name: 'sightread',
  });
  const stop = new AbortController();
  let ready = false;
  let reconnecting: Promise<void> | undefined;

  // An idle client whose server went away emits 'error' on the pool; unhandled, it would end the process.
  pool.on('error', (error) => lost(error));

  function lost(error: unknown): void {
    if (stop.signal.aborted) return;
    if (ready) logger.warn({ location, reason: reasonOf(error) }, `lost the journal database at ${location}`);
    ready = false;
    reconnecting ??= connectLoop()
      .catch((fatal: unknown) => logger.error({ location, err: fatal }, 'the journal database cannot be used'))
      .finally(() => {
        reconnecting = undefined;
      });
  }

  async function connectLoop(): Promise<void> {
    let delayMs = retry.initialMs;
    for (let attempt = 1; !stop.signal.aborted; attempt += 1) {
      try {
        const outcome = await migrate({ transaction: (work) => inTransaction(work) });
        if (stop.signal.aborted) return;
        ready = true;
        logger.info(
          { location, attempt, schemaVersion: outcome.version, migrated: outcome.applied },
          'connected to the journal database',
        );
        return;
      } catch (error) {
        if (error instanceof StorageError) throw error;
        if (stop.signal.aborted) return;
        const reason = reasonOf(error);
        logger.warn(
          { location, attempt, retryInMs: delayMs, reason },
          `journal database at ${location} is unreachable (${reason}); retrying in ${delayMs / 1000} s; ${adviceFor('unreachable')}`,
        );
        await clock.sleep(delayMs, stop.signal);
        delayMs = Math.min(delayMs * 2, retry.maxMs);
      }
    }
  }

  async function inTransaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(executor(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      if (isConnectionError(error)) broken = error instanceof Error ? error : new Error(String(error));
      else await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      // A client whose connection broke is destroyed instead of going back to the pool.
      client.release(broken);
    }
  }

  function unreachable(cause?: unknown): StorageError {
    return new StorageError(
      'unreachable',
      `The journal database at ${location} is unreachable${cause === undefined ? '' : ` (${reasonOf(cause)})`}.`,
      { cause },
    );
  }

  /** Runs a statement or transaction when ready; a connection failure becomes 'unreachable' and starts reconnecting. */
  async function guarded<T>(run: () => Promise<T>): Promise<T> {
    if (!ready) throw unreachable();
    try {
      return await run();
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      lost(error);
      throw unreachable(error);
    }
  }

  reconnecting = connectLoop().finally(() => {
    reconnecting = undefined;
  });
  const connected = reconnecting;
  const direct = executor(pool);

  return {
    backend: 'server',
    location,
    connected,
    ready: () => ready,
    query: (sql, params) => guarded(() => direct.query(sql, params)),
    exec: (script) => guarded(() => direct.exec(script)),
    transaction: (work) => guarded(() => inTransaction(work)),
    close: async () => {
      stop.abort();
      ready = false;
      await reconnecting?.catch(() => undefined);
      await pool.end();
    },
  };
}
