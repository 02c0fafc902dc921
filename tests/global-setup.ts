import { writeFixtures } from '../scripts/fixtures/tiny-models.js';
import { FIXTURES_DIR } from './helpers.js';

/** Regenerates the tiny ONNX models before any test runs, so CI proves the generator works. */
export default async function setup(): Promise<void> {
  await writeFixtures(FIXTURES_DIR);
}
