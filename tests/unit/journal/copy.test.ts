import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { copyJournal } from '../../../src/journal/copy.js';
import { openEmbeddedDatabase } from '../../../src/journal/embedded.js';
import { InteractionJournal } from '../../../src/journal/journal.js';
import { ROOT } from '../../helpers.js';
import {
  CapturingLogger,
  FakeClock,
  T0,
  copiedDataDir,
  createServerDatabase,
  openConnected,
  sampleInteraction,
  serverBackend,
  tempDataDir,
} from './support.js';

interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs scripts/journal-copy.ts as an operator would. */
async function copyScript(args: string[]): Promise<ScriptResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'scripts/journal-copy.ts', ...args],
      { cwd: ROOT, timeout: 120_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as ScriptResult;
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** A journal with one open and one finished interaction in `dataDir`. */
async function journalWithTwoRows(dataDir: string): Promise<{ open: string; finished: string }> {
  const logger = new CapturingLogger();
  const database = await openEmbeddedDatabase({ dataDir, logger });
  const journal = new InteractionJournal(database, { logger, clock: new FakeClock(T0 + 1000), workerId: 'w' });
  const open = sampleInteraction(T0, {
    commandName: 'classify',
    options: {
      image: {
        kind: 'attachment',
        url: 'https://cdn.discordapp.com/a/b/c.png',
        name: 'c.png',
        size: 10,
        contentType: null,
      },
    },
  });
  const finished = sampleInteraction(T0 + 1);
  await journal.record(open);
  await journal.record(finished);
  await journal.markDone(finished.id);
  await database.close();
  return { open: open.id, finished: finished.id };
}

const everyRow = 'SELECT * FROM interaction_journal ORDER BY interaction_id';

describe('moving the journal between databases', () => {
  it('copies every row, column for column, and keeps rows the target already has', async () => {
    const [fromDir, toDir] = await Promise.all([copiedDataDir(), copiedDataDir()]);
    try {
      const ids = await journalWithTwoRows(fromDir);
      const logger = new CapturingLogger();
      const source = await openEmbeddedDatabase({ dataDir: fromDir, logger });
      const target = await openEmbeddedDatabase({ dataDir: toDir, logger });
      try {
        expect(await copyJournal(source, target)).toEqual({ read: 2, copied: 2 });
        expect((await target.query(everyRow)).rows).toEqual((await source.query(everyRow)).rows);
        expect(await copyJournal(source, target)).toEqual({ read: 2, copied: 0 });
        const resumable = await new InteractionJournal(target, {
          logger,
          clock: new FakeClock(T0 + 5 * 60_000),
        }).unfinished();
        expect(resumable.map((entry) => entry.id)).toEqual([ids.open]);
      } finally {
        await Promise.all([source.close(), target.close()]);
      }
    } finally {
      await Promise.all([rm(fromDir, { recursive: true, force: true }), rm(toDir, { recursive: true, force: true })]);
    }
  }, 180_000);

  it('stops with exit code 78 and the reason when DATA_DIR cannot be used', async () => {
    const parent = join(await tempDataDir(), 'a-file');
    await writeFile(parent, 'not a folder');
    const result = await copyScript(['--from', join(parent, 'data'), '--to', join(parent, 'other')]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('cannot write there (ENOTDIR)');
    expect(result.stdout).toBe('');
  }, 120_000);

  it.skipIf(serverBackend.skip !== undefined)(
    'moves an embedded journal to a PostgreSQL server with the script',
    async () => {
      const fromDir = await copiedDataDir();
      const server = await createServerDatabase();
      try {
        await journalWithTwoRows(fromDir);
        const result = await copyScript(['--from', fromDir, '--to', server.url]);
        expect(result.code).toBe(0);
        expect(JSON.parse(result.stdout)).toMatchObject({ read: 2, copied: 2 });

        const logger = new CapturingLogger();
        const source = await openEmbeddedDatabase({ dataDir: fromDir, logger });
        const target = await openConnected(server.url);
        try {
          expect((await target.query(everyRow)).rows).toEqual((await source.query(everyRow)).rows);
        } finally {
          await Promise.all([source.close(), target.close()]);
        }
      } finally {
        await server.drop();
        await rm(fromDir, { recursive: true, force: true });
      }
    },
    180_000,
  );
});
