import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);

/** The checkout's root (where package.json is), whether this runs from src/ under tsx or compiled from dist/src/. */
export const PROJECT_ROOT = ((): string => {
  for (let dir = dirname(here); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${here}`);
  }
})();

/** Whether this process runs the compiled JavaScript (npm start) rather than the TypeScript sources (tsx). */
export const COMPILED = here.endsWith('.js');
