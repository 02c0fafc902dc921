import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { systemClock, type Clock } from '../util/clock.js';

export type Progress = (received: number, total: number | undefined) => void;

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

export class ChecksumError extends Error {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`sha256 of ${path} is ${actual}, expected ${expected}`);
    this.name = 'ChecksumError';
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** A download that arrived whole but is not the file it should be (an error page, a cut file). */
export class InvalidFileError extends Error {
  constructor(
    readonly url: string,
    /** What is wrong with it, as a phrase: "is not valid JSON (…)". */
    readonly problem: string,
  ) {
    super(`${url} ${problem}`);
    this.name = 'InvalidFileError';
  }
}

/**
 * Downloads `url` to `dest` through `dest.part`, resuming a partial file with a Range request.
 * The file is renamed into place only after its sha256 matches `expectedSha256` (when given) and
 * `inspect` finds nothing wrong with it (when given); a download that fails either is deleted.
 * Returns the file's sha256.
 */
export async function downloadFile(options: {
  url: string;
  dest: string;
  expectedSha256?: string | undefined;
  timeoutMs: number;
  onProgress?: Progress | undefined;
  /** Says what is wrong with the downloaded file, or undefined when it looks whole. */
  inspect?: ((path: string) => Promise<string | undefined>) | undefined;
  /** Times the idle timeout; the wall clock unless a test moves its own. */
  clock?: Clock | undefined;
}): Promise<string> {
  const partial = `${options.dest}.part`;
  await mkdir(dirname(options.dest), { recursive: true });
  const already = await sizeOf(partial);

  const controller = new AbortController();
  const clock = options.clock ?? systemClock;
  // An idle timeout, not a total one: a large file on a slow line is fine as long as bytes arrive.
  let cancelIdle = clock.setTimer(() => controller.abort(), options.timeoutMs);
  const touch = (): void => {
    cancelIdle();
    cancelIdle = clock.setTimer(() => controller.abort(), options.timeoutMs);
  };
  try {
    const response = await fetch(options.url, {
      headers: already > 0 ? { Range: `bytes=${already}-` } : {},
      redirect: 'follow',
      signal: controller.signal,
    });
    if (response.status === 416 && already > 0) {
      // The partial file is already complete (or bogus): verify it below instead of refetching.
      await response.body?.cancel();
    } else if (!response.ok || !response.body) {
      throw new Error(`HTTP ${response.status} ${response.statusText}`);
    } else {
      const resumed = response.status === 206;
      const length = Number(response.headers.get('content-length') ?? Number.NaN);
      const total = Number.isFinite(length) ? length + (resumed ? already : 0) : undefined;
      let received = resumed ? already : 0;
      const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
      body.on('data', (chunk: Buffer) => {
        received += chunk.length;
        touch();
        options.onProgress?.(received, total);
      });
      await pipeline(body, createWriteStream(partial, { flags: resumed ? 'a' : 'w' }));
    }
  } finally {
    cancelIdle();
  }

  const actual = await sha256File(partial);
  if (options.expectedSha256 && actual !== options.expectedSha256) {
    await rm(partial, { force: true });
    throw new ChecksumError(options.url, options.expectedSha256, actual);
  }
  const problem = await options.inspect?.(partial);
  if (problem) {
    await rm(partial, { force: true });
    throw new InvalidFileError(options.url, problem);
  }
  await rename(partial, options.dest);
  return actual;
}

/** A one-line progress bar on a terminal; silent when stderr is not a TTY. */
export function terminalProgress(label: string): Progress | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = 0;
  return (received, total) => {
    const now = Date.now();
    if (now - last < 100 && received !== total) return;
    last = now;
    const mb = (received / 1048576).toFixed(1);
    if (total) {
      const fraction = received / total;
      const bar = '#'.repeat(Math.round(fraction * 30)).padEnd(30, '.');
      process.stderr.write(`\r${label} [${bar}] ${(fraction * 100).toFixed(0)}% ${mb} MiB`);
      if (received >= total) process.stderr.write('\n');
    } else {
      process.stderr.write(`\r${label} ${mb} MiB`);
    }
  };
}
