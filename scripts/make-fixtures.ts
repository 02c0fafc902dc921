import { resolve } from 'node:path';
import { writeFixtures } from './fixtures/tiny-models.js';

/** Writes the tiny test models (a few KB each) to tests/fixtures/generated, or to the folder given. */
const dir = resolve(process.argv[2] ?? 'tests/fixtures/generated');
await writeFixtures(dir);
console.log(`Wrote tiny ONNX fixture models and manifest to ${dir}`);
