import type { Config } from '../config/config.js';
import type { Clock, Database, JournalLogger } from './database.js';
import { openEmbeddedDatabase, type EmbeddedOptions } from './embedded.js';
import { InteractionJournal } from './journal.js';
import { openServerDatabase } from './server.js';
import { StorageError } from './storage-error.js';

export type JournalConfig = Pick<Config, 'DATA_DIR' | 'DATABASE_URL' | 'JOURNAL_RETENTION_HOURS'>;

export interface OpenDependencies {
  logger: JournalLogger;
  clock?: Clock;
  /** Test seams for the embedded database's files and PGlite. */
  embedded?: Pick<EmbeddedOptions, 'fs' | 'openPGlite'>;
}

/**
 * The configured database: a PostgreSQL server when DATABASE_URL is set (returned at once; it
 * connects and migrates in the background, `ready()` false until then), else PGlite in DATA_DIR
 * (opened and migrated before this resolves). Throws a StorageError whose `exitCode` says how
 * to stop when DATA_DIR is unusable, or when the server's schema is newer than this release.
 */
export async function openDatabase(config: JournalConfig, dependencies: OpenDependencies): Promise<Database> {
  if (config.DATABASE_URL) {
    const server = openServerDatabase({
      url: config.DATABASE_URL,
      logger: dependencies.logger,
      ...(dependencies.clock ? { clock: dependencies.clock } : {}),
    });
    // Only a schema newer than this release ends the retries; say so loudly (the process decides).
    server.connected.catch((error: unknown) =>
      dependencies.logger.error({ err: error, location: server.location }, 'the journal database cannot be used'),
    );
    return server;
  }
  return openEmbeddedDatabase({ dataDir: config.DATA_DIR, logger: dependencies.logger, ...dependencies.embedded });
}

export async function openJournal(
  config: JournalConfig,
  dependencies: OpenDependencies,
): Promise<{ database: Database; journal: InteractionJournal }> {
  const database = await openDatabase(config, dependencies);
  const journal = new InteractionJournal(database, {
    logger: dependencies.logger,
    retentionHours: config.JOURNAL_RETENTION_HOURS,
    ...(dependencies.clock ? { clock: dependencies.clock } : {}),
  });
  return { database, journal };
}

export interface ExitSeams {
  /** Where the one-paragraph reason goes (stderr). */
  write: (text: string) => void;
  exit: (code: number) => never;
}

const processExit: ExitSeams = {
  write: (text) => process.stderr.write(text),
  exit: (code) => process.exit(code),
};

/**
 * For entry points: opens the journal, or ends the process like an invalid configuration does:
 * the reason on stderr, no stack, and the StorageError's exit code (78 DATA_DIR unusable, 74 disk
 * full or failing). Nothing is left half-written (see openEmbeddedDatabase).
 */
export async function openJournalOrExit(
  config: JournalConfig,
  dependencies: OpenDependencies,
  seams: ExitSeams = processExit,
): Promise<{ database: Database; journal: InteractionJournal }> {
  try {
    return await openJournal(config, dependencies);
  } catch (error) {
    if (!(error instanceof StorageError)) throw error;
    seams.write(`Cannot start the interaction journal:\n  - ${error.message}\n`);
    return seams.exit(error.exitCode);
  }
}
