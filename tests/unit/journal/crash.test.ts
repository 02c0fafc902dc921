import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { openEmbeddedDatabase } from '../../../src/journal/embedded.js';
import { InteractionJournal } from '../../../src/journal/journal.js';
import { ROOT } from '../../helpers.js';
import { CapturingLogger, FakeClock, MINUTE, copiedDataDir } from './support.js';

describe('the embedded journal across a crash', () => {
  // A first PGlite start (the template cluster), a tsx child process and a reopen: seconds each on a busy machine.
  it('keeps an interaction recorded by a process killed with SIGKILL, for the next start to resume', async () => {
    const dataDir = await copiedDataDir();
    try {
      const child = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', 'tests/unit/journal/record-then-crash.ts', dataDir],
        { cwd: ROOT, timeout: 60_000 },
      ).then(
        () => ({ signal: null, stdout: '' }),
        (error: { signal: NodeJS.Signals | null; stdout: string }) => error,
      );
      expect(child.signal).toBe('SIGKILL');
      const id = child.stdout.trim();
      expect(id).toMatch(/^\d{15,21}$/);

      const logger = new CapturingLogger();
      const database = await openEmbeddedDatabase({ dataDir, logger });
      try {
        // Once the dead worker's lease lapses, the next start finds it and may claim it.
        const clock = new FakeClock(Date.now() + 2 * MINUTE);
        const journal = new InteractionJournal(database, {
          logger,
          clock,
          workerId: 'next-start',
          leaseMs: 2 * MINUTE,
        });
        expect((await journal.unfinished()).map((entry) => entry.id)).toEqual([id]);
        expect(await journal.claim(id)).toMatchObject({ id, attempts: 2 });
      } finally {
        await database.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});
