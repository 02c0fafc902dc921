/**
 * Run as a child process by crash.test.ts: records one interaction in the embedded journal in
 * DATA_DIR (argv[2]), prints its id, and kills itself with SIGKILL, as a crash or an OOM kill
 * would: no close, no flush, the lock file left behind.
 */
import { openEmbeddedDatabase } from '../../../src/journal/embedded.js';
import { InteractionJournal } from '../../../src/journal/journal.js';
import { CapturingLogger, sampleInteraction } from './samples.js';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: record-then-crash.ts <DATA_DIR>');
const logger = new CapturingLogger();
const database = await openEmbeddedDatabase({ dataDir, logger });
const journal = new InteractionJournal(database, { logger, workerId: 'crashing-worker' });
const interaction = sampleInteraction(Date.now());
await journal.record(interaction);
process.stdout.write(`${interaction.id}\n`, () => process.kill(process.pid, 'SIGKILL'));
