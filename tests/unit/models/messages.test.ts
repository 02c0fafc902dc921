import { createHash } from 'node:crypto';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { fixtureManifest, SPECIAL_TOKENS, tinyWordPieceTokenizer } from '../../../scripts/fixtures/tiny-models.js';
import { Services } from '../../../src/app.js';
import { parseManifest } from '../../../src/models/manifest.js';
import { ModelStore } from '../../../src/models/store.js';
import { TokenizerRegistry } from '../../../src/text/tokenizers.js';
import { UserFacingError } from '../../../src/util/errors.js';
import { FIXTURES_DIR, recordingLogger, rejectionOf, tempDir, testConfig } from '../../helpers.js';

// Issue 14 §4 item 11: what a model failure tells the channel names the model and what an operator
// runs, never a file path or a download address; those go to the log, where operators look.

const dir = await tempDir();
const modelsDir = join(dir, 'models');
const garbage = Buffer.from('these bytes are pinned, but they are not an ONNX model');
const tinyCnn = (fixtureManifest() as { models: Array<Record<string, unknown>> }).models.find(
  (model) => model.id === 'tiny-cnn',
)!;
const localCnn = (id: string, folder: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  ...tinyCnn,
  id,
  name: `CNN ${id}`,
  source: { type: 'local', path: join(dir, folder) },
  ...extra,
});

await mkdir(join(dir, 'empty'));
await mkdir(join(dir, 'no-labels'));
await copyFile(join(FIXTURES_DIR, 'tiny-cnn/model.onnx'), join(dir, 'no-labels/model.onnx'));
await mkdir(join(dir, 'refused'));
await writeFile(join(dir, 'refused/model.onnx'), garbage);
await writeFile(
  join(dir, 'manifest.json'),
  JSON.stringify({
    $schemaVersion: 1,
    models: [
      {
        ...tinyCnn,
        id: 'vit-base-patch16-224',
        name: 'ViT-B/16 (google/vit-base-patch16-224)',
        architecture: 'vit',
        source: { type: 'huggingface', repo: 'Xenova/vit-base-patch16-224', revision: 'main' },
        files: [{ path: 'onnx/model_quantized.onnx', precision: 'q8' }],
      },
      {
        ...tinyCnn,
        id: 'zoo-cnn',
        name: 'Zoo CNN',
        source: { type: 'url' },
        files: [{ path: 'model.onnx', url: 'http://127.0.0.1:9/zoo/model.onnx', precision: 'fp32' }],
      },
      localCnn('local-cnn', 'empty'),
      localCnn('labels-cnn', 'no-labels', { labels: { fromConfig: 'config.json' } }),
      localCnn('refused-cnn', 'refused', {
        files: [{ path: 'model.onnx', precision: 'fp32', sha256: createHash('sha256').update(garbage).digest('hex') }],
      }),
    ],
  }),
);

/** Services over that manifest, with a log a test can read. */
function servicesFor(downloads: boolean): { services: Services; entries: Array<Record<string, unknown>> } {
  const { logger, entries } = recordingLogger();
  const config = testConfig({
    MODELS_MANIFEST: join(dir, 'manifest.json'),
    MODELS_DIR: modelsDir,
    MODEL_DOWNLOADS: String(downloads),
    DOWNLOAD_TIMEOUT_MS: '2000',
  });
  const services = new Services(config, logger);
  onTestFinished(() => services.dispose());
  return { services, entries };
}

/** What a user must never see: a path on this machine, or where the bot downloads from. */
function expectNothingOperatorsOnly(message: string): void {
  expect(message).not.toContain(dir);
  expect(message).not.toContain(FIXTURES_DIR);
  expect(message).not.toMatch(/https?:\/\/|127\.0\.0\.1|huggingface\.co/);
}

describe('a model that cannot be used', () => {
  it.each([
    {
      id: 'vit-base-patch16-224',
      downloads: false,
      says: /^The ViT-B\/16 \(google\/vit-base-patch16-224\) isn't installed on this bot \(operators: `npm run models:pull vit-base-patch16-224`\)\.$/,
      logs: join(modelsDir, 'vit-base-patch16-224/onnx/model_quantized.onnx'),
    },
    {
      id: 'zoo-cnn',
      downloads: true,
      says: /^The Zoo CNN isn't installed yet: its download failed \(the server could not be reached\) \(operators: `npm run models:pull zoo-cnn`\)\.$/,
      logs: 'http://127.0.0.1:9/zoo/model.onnx',
    },
    {
      id: 'local-cnn',
      downloads: true,
      says: /^The CNN local-cnn isn't installed on this bot: model\.onnx is missing from the local folder/,
      logs: join(dir, 'empty/model.onnx'),
    },
    {
      id: 'labels-cnn',
      downloads: true,
      says: /^The labels of model "labels-cnn" could not be read: labels-cnn\/config\.json is missing\.$/,
      logs: undefined,
    },
    {
      id: 'refused-cnn',
      downloads: true,
      says: /^The CNN refused-cnn could not be loaded: onnxruntime refused its weights \(operators: the log says which file and why\)\.$/,
      logs: join(dir, 'refused/model.onnx'),
    },
  ])(
    '$id: the reply names the model and the fix, the log has the path or address',
    async ({ id, downloads, says, logs }) => {
      const { services, entries } = servicesFor(downloads);
      const error = await rejectionOf(services.vision.classifier(id), UserFacingError);
      expect(error.message).toMatch(says);
      expectNothingOperatorsOnly(error.message);
      if (logs) expect(JSON.stringify(entries)).toContain(logs);
    },
  );

  it('a tokenizer.json that parses but is not a tokenizer: named by model and file, path in the log', async () => {
    const folder = join(dir, 'not-a-tokenizer');
    await mkdir(folder);
    const files = tinyWordPieceTokenizer([...SPECIAL_TOKENS, 'x'], 8);
    await writeFile(join(folder, 'tokenizer.json'), JSON.stringify({ version: '1.0', added_tokens: [] }));
    await writeFile(join(folder, 'tokenizer_config.json'), JSON.stringify(files.config));
    const manifest = parseManifest(
      {
        $schemaVersion: 1,
        models: [
          {
            id: 'odd-bert',
            name: 'odd-bert',
            task: 'tokenizer',
            architecture: 'tokenizer',
            source: { type: 'local', path: folder },
            files: [{ path: 'tokenizer.json' }, { path: 'tokenizer_config.json' }],
          },
        ],
      },
      dir,
    );
    const tokenizerLog = recordingLogger();
    const store = new ModelStore({
      manifest,
      modelsDir,
      hubEndpoint: 'http://127.0.0.1:9',
      allowDownloads: false,
      downloadTimeoutMs: 100,
      logger: tokenizerLog.logger,
    });
    const error = await rejectionOf(new TokenizerRegistry(store, tokenizerLog.logger).get('odd-bert'), UserFacingError);
    expect(error.message).toMatch(
      /^The tokenizer of model "odd-bert" is damaged: odd-bert\/tokenizer\.json has unexpected/,
    );
    expectNothingOperatorsOnly(error.message);
    expect(tokenizerLog.entries.find((entry) => entry.model === 'odd-bert')).toMatchObject({ dir: folder });
  });
});
