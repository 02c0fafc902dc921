import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseManifest } from '../../../src/models/manifest.js';
import { DOWNLOAD_RETRY_FIRST_MS, DOWNLOAD_RETRY_MAX_MS, ModelStore } from '../../../src/models/store.js';
import { UserFacingError } from '../../../src/util/errors.js';
import { ManualClock, rejectionOf, silentLogger, tempDir } from '../../helpers.js';

// Issue 14 §4 item 8: a download that hangs is waited on once, not by every request. The failure is
// remembered with a backoff (30 s doubling to 10 min) on a clock the test moves by hand.

const payload = Buffer.from(Array.from({ length: 4096 }, (_, index) => index % 251));
const sha256 = createHash('sha256').update(payload).digest('hex');

/** How the fake hub answers: never (a hung connection), with a server error, or with the file. */
let mode: 'hang' | 'fail' | 'serve' = 'hang';
let requests = 0;
const hung: ServerResponse[] = [];
const waiting: Array<{ count: number; resolve: () => void }> = [];
/** Resolves once the hub has received `count` requests in this test. */
const untilRequests = (count: number): Promise<void> =>
  new Promise((resolve) => (requests >= count ? resolve() : waiting.push({ count, resolve })));
let hub: Server;
let hubUrl: string;
beforeAll(async () => {
  hub = createServer((_request: IncomingMessage, response: ServerResponse) => {
    requests += 1;
    for (const waiter of waiting.filter((entry) => entry.count <= requests)) {
      waiting.splice(waiting.indexOf(waiter), 1);
      waiter.resolve();
    }
    if (mode === 'hang') hung.push(response);
    else if (mode === 'fail') response.writeHead(503).end();
    else response.writeHead(200, { 'content-length': payload.length }).end(payload);
  });
  await new Promise<void>((resolve) => hub.listen(0, '127.0.0.1', resolve));
  hubUrl = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
});
afterAll(() => {
  for (const response of hung) response.destroy();
  hub.closeAllConnections();
  return new Promise<void>((resolve) => hub.close(() => resolve()));
});
beforeEach(() => {
  mode = 'hang';
  requests = 0;
});

/**
 * The download's idle timeout, which is what ends a hung download (30 s by default). It runs on the
 * test's clock, so the test crosses it by hand; short all the same, so that the code before this fix
 * (with wall-clock timers) shows its fault instead of hanging.
 */
const IDLE_TIMEOUT_MS = 150;

function storeFor(dir: string, clock: ManualClock): ModelStore {
  const manifest = parseManifest(
    {
      $schemaVersion: 1,
      models: [
        {
          id: 'vit-base-patch16-224',
          name: 'ViT-B/16 (google/vit-base-patch16-224)',
          task: 'tokenizer',
          architecture: 'vit',
          source: { type: 'huggingface', repo: 'Xenova/vit-base-patch16-224', revision: 'main' },
          files: [{ path: 'onnx/model_quantized.onnx', sha256 }],
        },
      ],
    },
    dir,
  );
  return new ModelStore({
    manifest,
    modelsDir: dir,
    hubEndpoint: hubUrl,
    allowDownloads: true,
    downloadTimeoutMs: IDLE_TIMEOUT_MS,
    logger: silentLogger,
    clock,
  });
}

describe('a download that fails', () => {
  it('is waited on by the first request only; later ones answer at once while it is retried in the background', async () => {
    const clock = new ManualClock();
    const store = storeFor(await tempDir(), clock);
    // What the bot does when it starts (Services.preload).
    store.retryDownloadsInBackground();
    const entry = store.entry('vit-base-patch16-224');
    const file = entry.files[0]!;

    const firstAttempt = rejectionOf(store.ensureFile(entry, file), UserFacingError);
    await untilRequests(1);
    clock.advance(IDLE_TIMEOUT_MS);
    const first = await firstAttempt;
    expect(requests).toBe(1);
    const later = [];
    for (let request = 0; request < 5; request += 1)
      later.push(await rejectionOf(store.ensureFile(entry, file), UserFacingError));
    // None of them asked the server again, so none waited for it to time out.
    expect(requests).toBe(1);
    expect(later.map((error) => error.code)).toEqual(Array(5).fill('model_unavailable'));
    expect(first.code).toBe('model_unavailable');
    expect(first.message).toBe(
      "The ViT-B/16 (google/vit-base-patch16-224) isn't installed yet: its download failed (it timed out); " +
        'retrying in the background, next try in 30 s (operators: `npm run models:pull vit-base-patch16-224`).',
    );

    clock.advance(DOWNLOAD_RETRY_FIRST_MS - 1);
    expect(requests).toBe(1);
    clock.advance(1);
    await untilRequests(2);
    clock.advance(IDLE_TIMEOUT_MS);
    await store.downloadsSettled();
    // Failed again: the wait doubles, and a request is told so at once.
    expect(clock.pending).toEqual([2 * DOWNLOAD_RETRY_FIRST_MS]);
    expect((await rejectionOf(store.ensureFile(entry, file), UserFacingError)).message).toMatch(/next try in 60 s/);

    mode = 'fail';
    const waits: number[] = [];
    for (let attempt = 0; attempt < 6; attempt += 1) {
      clock.advance(clock.pending[0]!);
      await store.downloadsSettled();
      waits.push(clock.pending[0]!);
    }
    expect(waits).toEqual([
      120_000,
      240_000,
      480_000,
      DOWNLOAD_RETRY_MAX_MS,
      DOWNLOAD_RETRY_MAX_MS,
      DOWNLOAD_RETRY_MAX_MS,
    ]);
    expect((await rejectionOf(store.ensureFile(entry, file), UserFacingError)).message).toMatch(
      /\(the server answered HTTP 503\); retrying in the background, next try in 10 min/,
    );
    expect(requests).toBe(8);

    mode = 'serve';
    clock.advance(DOWNLOAD_RETRY_MAX_MS);
    await store.downloadsSettled();
    expect(requests).toBe(9);
    const path = await store.ensureFile(entry, file);
    expect(await readFile(path)).toEqual(payload);
    expect(clock.pending).toEqual([]);
  });

  it('in a one-shot process (the CLI), is not retried by a timer: a request after the backoff tries again itself', async () => {
    mode = 'fail';
    const clock = new ManualClock();
    const store = storeFor(await tempDir(), clock);
    const entry = store.entry('vit-base-patch16-224');
    const file = entry.files[0]!;

    const first = await rejectionOf(store.ensureFile(entry, file), UserFacingError);
    expect(first.message).toMatch(
      /\(the server answered HTTP 503\) \(operators: `npm run models:pull vit-base-patch16-224`\)\.$/,
    );
    expect(clock.pending).toEqual([]);
    clock.advance(DOWNLOAD_RETRY_FIRST_MS - 1);
    await rejectionOf(store.ensureFile(entry, file), UserFacingError);
    expect(requests).toBe(1);

    mode = 'serve';
    clock.advance(1);
    await expect(store.ensureFile(entry, file)).resolves.toMatch(/model_quantized\.onnx$/);
    expect(requests).toBe(2);
  });

  it('stops being retried once the file is put in place by other means', async () => {
    const clock = new ManualClock();
    const dir = await tempDir();
    const store = storeFor(dir, clock);
    store.retryDownloadsInBackground();
    const entry = store.entry('vit-base-patch16-224');
    mode = 'fail';
    await rejectionOf(store.ensureFile(entry, entry.files[0]!), UserFacingError);
    expect(clock.pending).toEqual([DOWNLOAD_RETRY_FIRST_MS]);

    // `npm run models:pull` in another process, or a copy.
    await mkdir(join(dir, 'vit-base-patch16-224/onnx'), { recursive: true });
    await writeFile(join(dir, 'vit-base-patch16-224/onnx/model_quantized.onnx'), payload);
    await store.ensureFile(entry, entry.files[0]!);
    expect(clock.pending).toEqual([]);
    expect(requests).toBe(1);
  });
});
