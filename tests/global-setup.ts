import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFixtures } from '../scripts/fixtures/tiny-models.js';
import { openEmbeddedDatabase } from '../src/journal/embedded.js';
import { FIXTURES_DIR, TEST_MODELS_DIR } from './helpers.js';

/**
 * Regenerates the tiny ONNX models before any test runs, so CI proves the generator works; and
 * creates one migrated embedded journal database that the end-to-end tests copy for each bot
 * they start (PGlite's first start, initdb, takes several seconds; a copy opens in about one).
 */
export default async function setup(): Promise<() => Promise<void>> {
  await writeFixtures(FIXTURES_DIR);
  // The fixtures were just written again, maybe changed: a lock left by an earlier run would
  // pin their old hashes and quarantine the new files.
  await rm(TEST_MODELS_DIR, { recursive: true, force: true });
  const template = await mkdtemp(join(tmpdir(), 'sightread-journal-template-'));
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  await (await openEmbeddedDatabase({ dataDir: template, logger: quiet })).close();
  // Read by tests/e2e/bot-process.ts in the test processes, which inherit this environment.
  process.env.SIGHTREAD_TEST_JOURNAL_TEMPLATE = template;
  return () => rm(template, { recursive: true, force: true });
}
