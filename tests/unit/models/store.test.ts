import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../../src/models/manifest.js';
import { ModelStore } from '../../../src/models/store.js';
import { UserFacingError } from '../../../src/util/errors.js';
import { recordingLogger, rejectionOf, silentLogger, tempDir } from '../../helpers.js';

const payload = Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => (i * 31) % 251));
const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const requests: Array<{ url: string; range: string | undefined }> = [];
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    requests.push({ url: request.url ?? '', range: request.headers.range });
    const body = request.url?.includes('corrupt') ? Buffer.from('not the model') : payload;
    const match = /bytes=(\d+)-/.exec(request.headers.range ?? '');
    if (match) {
      const start = Number(match[1]);
      response.writeHead(206, {
        'content-length': body.length - start,
        'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
      });
      response.end(body.subarray(start));
      return;
    }
    response.writeHead(200, { 'content-length': body.length });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function store(dir: string, file: Record<string, unknown>, allowDownloads = true): ModelStore {
  const manifest = parseManifest(
    {
      $schemaVersion: 1,
      models: [
        {
          id: 'm',
          name: 'm',
          task: 'tokenizer',
          architecture: 'tokenizer',
          source: { type: 'huggingface', repo: 'owner/model', revision: 'abc123' },
          files: [{ path: 'onnx/model.onnx', ...file }],
        },
      ],
    },
    dir,
  );
  return new ModelStore({
    manifest,
    modelsDir: dir,
    hubEndpoint: base,
    allowDownloads,
    downloadTimeoutMs: 5000,
    logger: silentLogger,
  });
}

describe('model store', () => {
  it('downloads a missing file from the hub by pinned revision and verifies its sha256', async () => {
    const dir = await tempDir();
    const s = store(dir, { sha256: sha(payload) });
    const path = await s.ensureFile(s.entry('m'), s.entry('m').files[0]!);
    expect(path).toBe(join(dir, 'm/onnx/model.onnx'));
    expect(sha(await readFile(path))).toBe(sha(payload));
    expect(requests.at(-1)?.url).toBe('/owner/model/resolve/abc123/onnx/model.onnx');
  });

  it('deletes a download whose checksum does not match and never uses it', async () => {
    const dir = await tempDir();
    const s = store(dir, { sha256: sha(payload), url: `${base}/corrupt` });
    await expect(s.ensureFile(s.entry('m'), s.entry('m').files[0]!)).rejects.toThrow(
      /did not match its checksum and was deleted/,
    );
    expect(existsSync(join(dir, 'm/onnx/model.onnx'))).toBe(false);
    expect(existsSync(join(dir, 'm/onnx/model.onnx.part'))).toBe(false);
  });

  it('resumes a partial download with a Range request', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'm/onnx'), { recursive: true });
    await writeFile(join(dir, 'm/onnx/model.onnx.part'), payload.subarray(0, 20_000));
    const s = store(dir, { sha256: sha(payload) });
    const path = await s.ensureFile(s.entry('m'), s.entry('m').files[0]!);
    expect(requests.at(-1)?.range).toBe('bytes=20000-');
    expect((await readFile(path)).equals(payload)).toBe(true);
  });

  it('records the hash of an unpinned download in the lock file and checks it on later loads', async () => {
    const dir = await tempDir();
    // A kind of file the store does not inspect: the payload is not a real model.
    const s = store(dir, { path: 'vocab.txt' });
    const file = s.entry('m').files[0]!;
    const path = await s.ensureFile(s.entry('m'), file);
    const lock = JSON.parse(await readFile(join(dir, 'models.lock.json'), 'utf8')) as Record<
      string,
      { sha256: string }
    >;
    expect(lock['m/vocab.txt']?.sha256).toBe(sha(payload));

    await writeFile(path, 'tampered');
    const later = store(dir, { path: 'vocab.txt' }, false);
    await expect(later.ensureFile(later.entry('m'), file)).rejects.toThrow(/vocab\.txt failed its checksum/);
    expect(existsSync(path)).toBe(false);
  });

  it('uses a file already present without any network access', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'm/onnx'), { recursive: true });
    await writeFile(join(dir, 'm/onnx/model.onnx'), payload);
    const before = requests.length;
    const s = store(dir, { sha256: sha(payload) }, false);
    await s.ensureFile(s.entry('m'), s.entry('m').files[0]!);
    expect(requests.length).toBe(before);
  });

  it('says which model is missing and how to get it when the network is unreachable; the path and address go to the log', async () => {
    const dir = await tempDir();
    const manifest = parseManifest(
      {
        $schemaVersion: 1,
        models: [
          {
            id: 'm',
            name: 'm',
            task: 'tokenizer',
            architecture: 'tokenizer',
            source: { type: 'url' },
            files: [{ path: 'w.onnx', url: 'http://127.0.0.1:9/w.onnx' }],
          },
        ],
      },
      dir,
    );
    const { logger, entries } = recordingLogger();
    const s = new ModelStore({
      manifest,
      modelsDir: dir,
      hubEndpoint: base,
      allowDownloads: true,
      downloadTimeoutMs: 2000,
      logger,
    });
    const error = await rejectionOf(s.ensureFile(s.entry('m'), s.entry('m').files[0]!), UserFacingError);
    expect(error.message).toBe(
      "The tokenizer m isn't installed yet: its download failed (the server could not be reached) (operators: `npm run models:pull m`).",
    );
    expect(
      entries.find((entry) => entry.msg === 'model download failed; remembered, retried after a backoff'),
    ).toMatchObject({
      path: join(dir, 'm/w.onnx'),
      url: 'http://127.0.0.1:9/w.onnx',
    });
  });
});
