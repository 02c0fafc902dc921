import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEmbeddedDatabase } from '../../../src/journal/embedded.js';
import { MIGRATIONS, migrate } from '../../../src/journal/migrations.js';
import { StorageError } from '../../../src/journal/storage-error.js';
import { rejectionOf } from '../../helpers.js';
import {
  BACKENDS,
  CapturingLogger,
  createServerDatabase,
  openConnected,
  serverBackend,
  tempDataDir,
  type TestDatabase,
} from './support.js';

const LATEST = Math.max(...MIGRATIONS.map((migration) => migration.version));
const LATEST_ROWS = MIGRATIONS.map(({ version }) => ({ version }));
const TABLES = [
  'departed_servers',
  'interaction_journal',
  'quiz_answers',
  'quiz_rounds',
  'quiz_scores',
  'schema_migrations',
  'server_settings',
  'teach_classes',
  'teach_examples',
  'teach_models',
];

const tables = async (db: TestDatabase): Promise<string[]> =>
  (
    await db.raw(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`)
  ).map((row) => (row as { table_name: string }).table_name);

describe('a new DATA_DIR', () => {
  it('is created, migrated once, and opened again without migrating twice', async () => {
    const dataDir = join(await tempDataDir(), 'nested', 'data');
    const logger = new CapturingLogger();
    try {
      const first = await openEmbeddedDatabase({ dataDir, logger });
      const versions = (await first.query('SELECT version, name FROM schema_migrations')).rows;
      expect(versions).toEqual(MIGRATIONS.map(({ version, name }) => ({ version, name })));
      await first.close();
      expect(logger.messages('info')).toEqual(['created the embedded journal database']);
      // The cluster was built aside and renamed into place; nothing else is left in the folder.
      expect((await readdir(dataDir)).sort()).toEqual(['journal']);

      const second = await openEmbeddedDatabase({ dataDir, logger });
      expect((await second.query('SELECT version FROM schema_migrations')).rows).toEqual(LATEST_ROWS);
      expect(await migrate(second)).toEqual({ applied: [], version: LATEST });
      await second.close();
      expect(logger.messages('info')).toHaveLength(1);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip !== undefined)(`migrations on ${backend.name}`, () => {
    let db: TestDatabase;
    // PGlite's first start (initdb) takes seconds, many on a busy machine.
    beforeAll(async () => {
      db = await backend.open();
    }, 180_000);
    afterAll(async () => {
      await db?.dispose();
    });

    it('are applied once: running them again applies nothing', async () => {
      expect(await tables(db)).toEqual(TABLES);
      expect(await migrate(db.database)).toEqual({ applied: [], version: LATEST });
      expect(await migrate(db.database)).toEqual({ applied: [], version: LATEST });
      expect(await db.raw('SELECT version FROM schema_migrations')).toEqual(LATEST_ROWS);
    });

    it('roll back together: a failing migration leaves neither its tables nor its version', async () => {
      const broken = [
        ...MIGRATIONS,
        { version: LATEST + 1, name: 'half done', sql: 'CREATE TABLE half_done (id int); SELECT 1 / 0;' },
        { version: LATEST + 2, name: 'never reached', sql: 'CREATE TABLE never_reached (id int);' },
      ];
      await expect(migrate(db.database, broken)).rejects.toThrow(/division by zero/);
      expect(await tables(db)).toEqual(TABLES);
      expect(await db.raw('SELECT version FROM schema_migrations')).toEqual(LATEST_ROWS);

      const fixed = [...MIGRATIONS, { version: LATEST + 1, name: 'fixed', sql: 'CREATE TABLE half_done (id int);' }];
      try {
        expect(await migrate(db.database, fixed)).toEqual({ applied: [LATEST + 1], version: LATEST + 1 });
        expect(await tables(db)).toContain('half_done');
      } finally {
        await db.raw('DROP TABLE IF EXISTS half_done');
        await db.raw('DELETE FROM schema_migrations WHERE version = $1', [LATEST + 1]);
      }
    });

    it('refuse a schema newer than this release (exit code 78)', async () => {
      await db.raw(`INSERT INTO schema_migrations (version, name) VALUES (99, 'from the future')`);
      try {
        const error = await rejectionOf(migrate(db.database), StorageError);
        expect(error.failure).toBe('schema_too_new');
        expect(error.exitCode).toBe(78);
        expect(error.message).toContain('version 99');
      } finally {
        await db.raw('DELETE FROM schema_migrations WHERE version = 99');
      }
    });
  });
}

describe.skipIf(serverBackend.skip !== undefined)('migrations on a PostgreSQL server shared by processes', () => {
  it('are applied once when two processes start at the same moment', async () => {
    const { url, drop } = await createServerDatabase();
    try {
      const [a, b] = await Promise.all([openConnected(url), openConnected(url)]);
      const check = await openConnected(url);
      expect((await check.query('SELECT version FROM schema_migrations')).rows).toEqual(LATEST_ROWS);
      await Promise.all([a.close(), b.close(), check.close()]);
    } finally {
      await drop();
    }
  });
});
