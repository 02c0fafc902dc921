import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Services } from '../../src/app.js';
import { parseConfig } from '../../src/config/config.js';
import { HAS_SHARED, ROOT, SHARED, silentLogger, tempDir } from '../helpers.js';

/** Real pretrained MobileNetV2 on real photos from ../shared (skipped with a message when absent). */
describe.skipIf(!HAS_SHARED)('real MobileNetV2 on real photos', () => {
  let services: Services;
  afterAll(() => services?.dispose());

  it('sees an espresso in coffee.png and a cat in chelsea.png', async () => {
    const modelsDir = await tempDir();
    await mkdir(join(modelsDir, 'mobilenetv2-int8'));
    await copyFile(
      join(SHARED, 'models/mobilenetv2-12-int8.onnx'),
      join(modelsDir, 'mobilenetv2-int8/mobilenetv2-12-int8.onnx'),
    );
    services = new Services(
      parseConfig({
        MODELS_DIR: modelsDir,
        MODELS_MANIFEST: join(ROOT, 'models/manifest.json'),
        MODEL_DOWNLOADS: 'false',
        EXECUTION_PROVIDER: 'cpu',
      }),
      silentLogger,
    );
    const vision = services.vision;
    const classify = async (bytes: Buffer) => (await vision.classify(bytes, 'mobilenetv2-int8', 5)).results[0]!;
    const { readFile } = await import('node:fs/promises');
    const coffee = await classify(await readFile(join(SHARED, 'images/coffee.png')));
    expect(coffee.predictions[0]).toMatchObject({ index: 967, label: 'espresso' });
    const chelsea = await classify(await readFile(join(SHARED, 'images/chelsea.png')));
    // ImageNet's domestic cats are classes 281-285 (tabby, tiger cat, Persian, Siamese, Egyptian cat).
    expect(chelsea.predictions[0]!.index).toBeGreaterThanOrEqual(281);
    expect(chelsea.predictions[0]!.index).toBeLessThanOrEqual(285);
  });
});
