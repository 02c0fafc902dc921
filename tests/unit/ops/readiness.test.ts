import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureManifest } from '../../../scripts/fixtures/tiny-models.js';
import { MODEL_RECHECK_MS, Services } from '../../../src/app.js';
import { startHealthServer } from '../../../src/discord/health.js';
import { UserFacingError } from '../../../src/util/errors.js';
import {
  FIXTURES_DIR,
  HAS_SHARED,
  ManualClock,
  ROOT,
  SHARED,
  rejectionOf,
  silentLogger,
  solidPng,
  tempDir,
  testConfig,
} from '../../helpers.js';

// Issue 14 §4 item 2, end to end: one flipped byte in the CNN's only copy. The bot must say the CNN
// is corrupted (not missing), keep the file, and report not ready on /healthz until it is fixed.

type ManifestModel = { id: string; source: { type: string; path?: string } } & Record<string, unknown>;

interface CorruptibleCnn {
  name: string;
  id: string;
  /** Writes the manifest and returns the bytes the model file must have. */
  setUp: (dir: string) => Promise<{ manifestModel: ManifestModel; bytes: Buffer; file: string }>;
}

const tinyCnn: CorruptibleCnn = {
  name: 'the tiny CNN fixture with a pinned sha256',
  id: 'pinned-cnn',
  setUp: async () => {
    const bytes = await readFile(join(FIXTURES_DIR, 'tiny-cnn/model.onnx'));
    const tiny = (fixtureManifest() as { models: ManifestModel[] }).models.find((model) => model.id === 'tiny-cnn')!;
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    return {
      manifestModel: {
        ...tiny,
        id: 'pinned-cnn',
        source: { type: 'url' },
        files: [{ path: 'model.onnx', url: 'http://127.0.0.1:9/model.onnx', sha256, precision: 'fp32' }],
      },
      bytes,
      file: 'model.onnx',
    };
  },
};

const mobileNet: CorruptibleCnn = {
  name: 'the real MobileNetV2 from ../shared',
  id: 'mobilenetv2-int8',
  setUp: async (dir) => {
    const real = JSON.parse(await readFile(join(ROOT, 'models/manifest.json'), 'utf8')) as { models: ManifestModel[] };
    await mkdir(join(dir, 'labels'));
    await copyFile(join(ROOT, 'models/labels/imagenet-1k.json'), join(dir, 'labels/imagenet-1k.json'));
    return {
      manifestModel: real.models.find((model) => model.id === 'mobilenetv2-int8')!,
      bytes: await readFile(join(SHARED, 'models/mobilenetv2-12-int8.onnx')),
      file: 'mobilenetv2-12-int8.onnx',
    };
  },
};

let services: Services | undefined;
let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await services?.dispose();
  server = undefined;
  services = undefined;
});

async function healthz(): Promise<{ status: number; body: { status: string; models: Record<string, string> } }> {
  const { port } = server!.address() as AddressInfo;
  const response = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { status: response.status, body: (await response.json()) as never };
}

describe('readiness with a corrupted default model', () => {
  it.each(HAS_SHARED ? [tinyCnn, mobileNet] : [tinyCnn])(
    '/healthz is 503 and names the corrupted CNN until a good copy is back, and /classify says corrupted ($name)',
    async (cnn) => {
      const dir = await tempDir();
      const modelsDir = join(dir, 'models');
      const { manifestModel, bytes, file } = await cnn.setUp(dir);
      // The fixture models as they are, by absolute path, beside the CNN under test.
      const fixtures = (fixtureManifest() as { models: ManifestModel[] }).models.map((model) => ({
        ...model,
        source: { type: 'local', path: join(FIXTURES_DIR, model.source.path ?? '') },
      }));
      await writeFile(
        join(dir, 'manifest.json'),
        JSON.stringify({ $schemaVersion: 1, models: [...fixtures, manifestModel] }),
      );
      const path = join(modelsDir, cnn.id, file);
      await mkdir(join(modelsDir, cnn.id), { recursive: true });
      const corrupted = Buffer.from(bytes);
      corrupted[corrupted.length >> 1] = corrupted[corrupted.length >> 1]! ^ 0x01;
      await writeFile(path, corrupted);

      const clock = new ManualClock();
      const config = testConfig({
        MODELS_MANIFEST: join(dir, 'manifest.json'),
        MODELS_DIR: modelsDir,
        VISION_CNN_MODEL: cnn.id,
      });
      services = new Services(config, silentLogger, { clock });
      const atStart = await services.preload();
      expect(atStart[cnn.id]).toMatch(/^unavailable: .* is corrupted: .* moved aside/);
      expect(atStart[cnn.id]).toContain(`npm run models:pull ${cnn.id}`);
      expect(atStart['tiny-vit']).toBe('loaded');

      const ready = services;
      server = await startHealthServer(0, ready, { loggedIn: () => true, models: () => ready.modelStatus() }, () => 0);
      const broken = await healthz();
      expect(broken.status).toBe(503);
      expect(broken.body.status).toBe('not ready');
      expect(broken.body.models[cnn.id]).toMatch(/corrupted/);

      const image = await solidPng([255, 0, 0]);
      const refused = await rejectionOf(services.vision.classify(image, 'cnn', 3), UserFacingError);
      expect(refused.message).toMatch(/corrupted/);
      expect(refused.message).not.toMatch(/missing/);
      expect(refused.message).not.toContain(dir);

      // The operator puts a good copy back; the next readiness check after the re-check interval loads it.
      await writeFile(path, bytes);
      clock.advance(MODEL_RECHECK_MS - 1);
      expect(services.modelStatus()[cnn.id]).toMatch(/^unavailable/);
      clock.advance(1);
      services.modelStatus();
      // The same shared load the check started: once it settles, the check has recorded it.
      await services.vision.classifier(cnn.id);
      const fixed = await healthz();
      expect(fixed.status).toBe(200);
      expect(fixed.body.status).toBe('ready');
    },
  );
});
