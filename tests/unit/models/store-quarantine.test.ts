import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../../src/models/manifest.js';
import { ModelStore } from '../../../src/models/store.js';
import { UserFacingError } from '../../../src/util/errors.js';
import { FIXTURES_DIR, ManualClock, recordingLogger, rejectionOf, silentLogger, tempDir } from '../../helpers.js';

// Issue 14 §4 item 2: a file that fails its check may be the only copy there is: it is moved aside,
// never deleted, and the model is reported corrupted (not missing) until a good copy is back.

const model = await readFile(join(FIXTURES_DIR, 'tiny-cnn/model.onnx'));
const sha = createHash('sha256').update(model).digest('hex');

function storeFor(dir: string, clock: ManualClock, logger = silentLogger): ModelStore {
  const manifest = parseManifest(
    {
      $schemaVersion: 1,
      models: [
        {
          id: 'pinned-cnn',
          name: 'Pinned CNN',
          task: 'tokenizer',
          architecture: 'cnn',
          source: { type: 'url' },
          files: [{ path: 'model.onnx', url: 'http://127.0.0.1:9/model.onnx', sha256: sha }],
        },
      ],
    },
    dir,
  );
  return new ModelStore({
    manifest,
    modelsDir: dir,
    hubEndpoint: 'http://127.0.0.1:9',
    allowDownloads: false,
    downloadTimeoutMs: 1000,
    logger,
    clock,
  });
}

const flipped = (bytes: Buffer): Buffer => {
  const copy = Buffer.from(bytes);
  const middle = Math.floor(copy.length / 2);
  copy[middle] = copy[middle]! ^ 0xff;
  return copy;
};

describe('a model file that fails its pinned checksum', () => {
  it('is moved aside with its bytes intact and the model is reported corrupted, with how to get it back', async () => {
    const dir = await tempDir();
    const clock = new ManualClock(Date.UTC(2025, 0, 2, 3, 4, 5));
    const path = join(dir, 'pinned-cnn/model.onnx');
    await mkdir(join(dir, 'pinned-cnn'));
    await writeFile(path, flipped(model));
    const { logger, entries } = recordingLogger();
    const store = storeFor(dir, clock, logger);
    const entry = store.entry('pinned-cnn');

    const first = await rejectionOf(store.ensureFile(entry, entry.files[0]!), UserFacingError);
    expect(first.code).toBe('model_corrupt');
    expect(first.message).toMatch(/corrupted: model\.onnx failed its checksum, so it was moved aside/);
    expect(first.message).toContain('npm run models:pull pinned-cnn');
    expect(first.message).not.toContain(dir);
    const aside = `${path}.corrupt-20250102T030405.000Z`;
    expect((await readFile(aside)).equals(flipped(model))).toBe(true);
    expect(existsSync(path)).toBe(false);
    // The operator learns where it went from the log.
    expect(entries.find((log) => log.movedTo === aside)).toMatchObject({ level: 50, path });

    // Asked again, and after a restart: still corrupted, not "missing".
    const again = await rejectionOf(store.ensureFile(entry, entry.files[0]!), UserFacingError);
    expect(again.code).toBe('model_corrupt');
    const restarted = storeFor(dir, clock);
    const afterRestart = await rejectionOf(restarted.ensureFile(entry, entry.files[0]!), UserFacingError);
    expect(afterRestart.code).toBe('model_corrupt');
    expect(afterRestart.message).toMatch(/corrupted/);

    await writeFile(path, model);
    await expect(restarted.ensureFile(entry, entry.files[0]!)).resolves.toBe(path);
    expect(await readdir(join(dir, 'pinned-cnn'))).toEqual(['model.onnx', 'model.onnx.corrupt-20250102T030405.000Z']);
  });
});
