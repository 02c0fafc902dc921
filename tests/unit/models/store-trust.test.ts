import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPECIAL_TOKENS, tinyWordPieceTokenizer } from '../../../scripts/fixtures/tiny-models.js';
import { inspectModelFile } from '../../../src/models/inspect.js';
import { parseManifest } from '../../../src/models/manifest.js';
import { ModelStore } from '../../../src/models/store.js';
import { TokenizerRegistry, tokenizeText } from '../../../src/text/tokenizers.js';
import { UserFacingError } from '../../../src/util/errors.js';
import { FIXTURES_DIR, HAS_SHARED, rejectionOf, SHARED, silentLogger, tempDir } from '../../helpers.js';

// Issue 14 §4 item 1: a file's hash is recorded in models.lock.json only once the file looks whole,
// and a hash the manifest pins beats whatever the lock says.

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
const readLock = async (dir: string): Promise<Record<string, { sha256: string }>> =>
  existsSync(join(dir, 'models.lock.json'))
    ? (JSON.parse(await readFile(join(dir, 'models.lock.json'), 'utf8')) as Record<string, { sha256: string }>)
    : {};

let hub: Server;
let hubUrl: string;
const served = new Map<string, Buffer>();
beforeAll(async () => {
  hub = createServer((request, response) => {
    const body = served.get(request.url ?? '');
    if (!body) return void response.writeHead(404).end();
    response.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => hub.listen(0, '127.0.0.1', resolve));
  hubUrl = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => hub.close(() => resolve())));

/** The store as the bot builds it: bert-base-uncased from the hub, unpinned, as models/manifest.json has it. */
function storeFor(
  dir: string,
  allowDownloads = false,
  files: Array<Record<string, unknown>> = [{ path: 'tokenizer.json' }],
): ModelStore {
  const manifest = parseManifest(
    {
      $schemaVersion: 1,
      models: [
        {
          id: 'bert-base-uncased',
          name: 'BERT uncased WordPiece tokenizer',
          task: 'tokenizer',
          architecture: 'tokenizer',
          source: { type: 'huggingface', repo: 'Xenova/bert-base-uncased', revision: 'main' },
          files: [...files, { path: 'tokenizer_config.json' }],
        },
      ],
    },
    dir,
  );
  return new ModelStore({
    manifest,
    modelsDir: dir,
    hubEndpoint: hubUrl,
    allowDownloads,
    downloadTimeoutMs: 5000,
    logger: silentLogger,
  });
}

const tiny = tinyWordPieceTokenizer([...SPECIAL_TOKENS, 'hello', 'world'], 16);
const tokenizers = [
  { name: 'a tiny WordPiece tokenizer', json: JSON.stringify(tiny.tokenizer), config: JSON.stringify(tiny.config) },
  ...(HAS_SHARED
    ? [
        {
          name: 'the real bert-base-uncased tokenizer from ../shared',
          json: await readFile(join(SHARED, 'tokenizers/bert-base-uncased/tokenizer.json'), 'utf8'),
          config: await readFile(join(SHARED, 'tokenizers/bert-base-uncased/tokenizer_config.json'), 'utf8'),
        },
      ]
    : []),
];

describe('what the model store records as trusted', () => {
  it.each(tokenizers)(
    'a cut-short tokenizer.json is never recorded, so the good file works once it is put back ($name)',
    async ({ json, config }) => {
      const dir = await tempDir();
      const folder = join(dir, 'bert-base-uncased');
      await mkdir(folder);
      await writeFile(join(folder, 'tokenizer.json'), json.slice(0, Math.floor(json.length * 0.6)));
      await writeFile(join(folder, 'tokenizer_config.json'), config);

      const registry = new TokenizerRegistry(storeFor(dir));
      const error = await rejectionOf(registry.get('bert-base-uncased'), UserFacingError);
      expect((await readLock(dir))['bert-base-uncased/tokenizer.json']).toBeUndefined();
      expect(error.code).toBe('model_corrupt');
      expect(error.message).toMatch(/tokenizer\.json is not valid JSON/);
      expect(error.message).toContain('npm run models:pull bert-base-uncased');
      // Moved aside, not deleted: it is evidence, and may be someone's only copy.
      expect((await readdir(folder)).some((name) => name.startsWith('tokenizer.json.corrupt-'))).toBe(true);

      await writeFile(join(folder, 'tokenizer.json'), json);
      // A later process, as after a restart: it reads the lock file from disk.
      const loaded = await new TokenizerRegistry(storeFor(dir)).get('bert-base-uncased');
      expect(tokenizeText(loaded, 'hello world').tokens.map((token) => token.piece)).toContain('hello');
      expect((await readLock(dir))['bert-base-uncased/tokenizer.json']?.sha256).toBe(sha(json));
      expect(existsSync(join(folder, 'tokenizer.json'))).toBe(true);
    },
  );

  it('a cut-short download of an unpinned file is not put in place or recorded', async () => {
    const dir = await tempDir();
    const json = JSON.stringify(tiny.tokenizer);
    served.set('/Xenova/bert-base-uncased/resolve/main/tokenizer.json', Buffer.from(json.slice(0, 200)));
    served.set(
      '/Xenova/bert-base-uncased/resolve/main/tokenizer_config.json',
      Buffer.from(JSON.stringify(tiny.config)),
    );
    const store = storeFor(dir, true);
    const error = await rejectionOf(store.resolve('bert-base-uncased', 'q8'), UserFacingError);
    expect(error.message).toMatch(/the file it got is not valid JSON/);
    expect(existsSync(join(dir, 'bert-base-uncased/tokenizer.json'))).toBe(false);
    expect(existsSync(join(dir, 'bert-base-uncased/tokenizer.json.part'))).toBe(false);
    expect((await readLock(dir))['bert-base-uncased/tokenizer.json']).toBeUndefined();
  });

  it('a cut-short .onnx file placed by hand is moved aside, not recorded', async () => {
    const dir = await tempDir();
    const model = await readFile(join(FIXTURES_DIR, 'tiny-cnn/model.onnx'));
    await mkdir(join(dir, 'bert-base-uncased/onnx'), { recursive: true });
    await writeFile(join(dir, 'bert-base-uncased/onnx/model.onnx'), model.subarray(0, model.length - 100));
    const store = storeFor(dir, false, [{ path: 'onnx/model.onnx' }]);
    const entry = store.entry('bert-base-uncased');
    const error = await rejectionOf(store.ensureFile(entry, entry.files[0]!), UserFacingError);
    expect(error.code).toBe('model_corrupt');
    expect(error.message).toMatch(/onnx\/model\.onnx is cut short/);
    expect(await readLock(dir)).toEqual({});
    expect(existsSync(join(dir, 'bert-base-uncased/onnx/model.onnx'))).toBe(false);
  });

  it('a lock entry that disagrees with the hash the manifest pins loses: the file matching the manifest is used', async () => {
    const dir = await tempDir();
    const json = JSON.stringify(tiny.tokenizer);
    await mkdir(join(dir, 'bert-base-uncased'));
    await writeFile(join(dir, 'bert-base-uncased/tokenizer.json'), json);
    await writeFile(
      join(dir, 'models.lock.json'),
      JSON.stringify({ 'bert-base-uncased/tokenizer.json': { sha256: sha('a damaged copy'), size: 14, source: 'x' } }),
    );
    const store = storeFor(dir, false, [{ path: 'tokenizer.json', sha256: sha(json) }]);
    const entry = store.entry('bert-base-uncased');
    await expect(store.ensureFile(entry, entry.files[0]!)).resolves.toBe(join(dir, 'bert-base-uncased/tokenizer.json'));
    expect(await readFile(join(dir, 'bert-base-uncased/tokenizer.json'), 'utf8')).toBe(json);
  });
});

describe('inspecting a model file before its hash is recorded', () => {
  it('passes whole ONNX models and fails cut, padded or foreign ones', async () => {
    const dir = await tempDir();
    const model = await readFile(join(FIXTURES_DIR, 'tiny-cnn/model.onnx'));
    const write = async (name: string, bytes: Buffer | string): Promise<string> => {
      await writeFile(join(dir, name), bytes);
      return join(dir, name);
    };
    expect(await inspectModelFile(await write('whole.onnx', model))).toBeUndefined();
    expect(await inspectModelFile(await write('cut.onnx', model.subarray(0, 40)))).toMatch(/cut short/);
    expect(await inspectModelFile(await write('padded.onnx', Buffer.concat([model, Buffer.alloc(16)])))).toMatch(
      /not an ONNX model/,
    );
    expect(await inspectModelFile(await write('page.onnx', '<!doctype html><p>Not found</p>'))).toMatch(
      /not an ONNX model/,
    );
    expect(await inspectModelFile(await write('empty.onnx', ''))).toBe('is empty');
    // Other kinds of file are not inspected: vocab.txt, merges.txt.
    expect(await inspectModelFile(await write('vocab.txt', '{'))).toBeUndefined();
  });

  it.skipIf(!HAS_SHARED)('passes the real MobileNetV2 and fails it cut anywhere in its graph', async () => {
    const dir = await tempDir();
    const path = join(dir, 'mobilenet.onnx');
    await copyFile(join(SHARED, 'models/mobilenetv2-12-int8.onnx'), path);
    expect(await inspectModelFile(path)).toBeUndefined();
    const bytes = await readFile(path);
    for (const fraction of [0.1, 0.5, 0.999]) {
      await writeFile(path, bytes.subarray(0, Math.floor(bytes.length * fraction)));
      expect(await inspectModelFile(path)).toMatch(/cut short/);
    }
  });
});
