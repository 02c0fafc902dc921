import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { formatDelay, systemClock, type Clock } from '../util/clock.js';
import { UserFacingError, type ErrorCode } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { ChecksumError, downloadFile, InvalidFileError, sha256File, terminalProgress } from './download.js';
import { inspectModelFile } from './inspect.js';
import {
  describeModel,
  getModel,
  weightFiles,
  type Manifest,
  type ModelEntry,
  type ModelFile,
  type Precision,
} from './manifest.js';

const lockSchema = z.record(
  z.string(),
  z.object({ sha256: z.string().regex(/^[a-f0-9]{64}$/), size: z.number(), source: z.string() }),
);
type Lock = z.infer<typeof lockSchema>;

/** The wait before retrying a failed download; it doubles with each further failure, up to the maximum. */
export const DOWNLOAD_RETRY_FIRST_MS = 30_000;
export const DOWNLOAD_RETRY_MAX_MS = 10 * 60_000;

export interface StoreOptions {
  manifest: Manifest;
  modelsDir: string;
  hubEndpoint: string;
  allowDownloads: boolean;
  downloadTimeoutMs: number;
  logger: Logger;
  /** For the download backoff and the names of quarantined files; the wall clock unless a test moves its own. */
  clock?: Clock;
}

export interface ResolvedModel {
  entry: ModelEntry;
  precision: Precision;
  /** Absolute folder the model's files live in. */
  dir: string;
  /** Absolute paths of the weight files, keyed by `part` (or "model"). */
  weights: Record<string, string>;
}

/** A download that failed, remembered so that requests answer at once instead of each waiting on it again. */
interface DownloadFailure {
  attempts: number;
  retryAt: number;
  code: ErrorCode;
  /** What went wrong, fit for a reply: no address, no path. */
  reason: string;
  /** Starts the next attempt in the background. */
  retry: () => void;
  cancelTimer?: (() => void) | undefined;
}

/** A file found corrupted. Where it could not be moved aside (a read-only volume) it stays, never used again while unchanged. */
interface Corruption {
  problem: string;
  leftInPlace?: { size: number; mtimeMs: number } | undefined;
}

/** A file system error's code (ENOENT, EROFS, ENOSPC…), if it has one. */
function errorCode(error: unknown): string | undefined {
  const code: unknown = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Why a download failed, in words fit for a reply: the log has the address and the full error. */
function downloadProblem(error: unknown): { code: ErrorCode; reason: string } {
  if (error instanceof ChecksumError) {
    return { code: 'checksum_mismatch', reason: 'the file it got did not match its checksum and was deleted' };
  }
  if (error instanceof InvalidFileError)
    return { code: 'model_unavailable', reason: `the file it got ${error.problem}` };
  const name = error instanceof Error ? error.name : '';
  if (name === 'AbortError' || name === 'TimeoutError') return { code: 'model_unavailable', reason: 'it timed out' };
  const status = error instanceof Error ? /^HTTP (\d{3})/.exec(error.message) : null;
  if (status) return { code: 'model_unavailable', reason: `the server answered HTTP ${status[1]}` };
  const code = errorCode(error);
  if (code && code !== 'ECONNREFUSED' && code !== 'ENOTFOUND') {
    return { code: 'model_unavailable', reason: `the file could not be written (${code})` };
  }
  return { code: 'model_unavailable', reason: 'the server could not be reached' };
}

/** A time for a file name: sortable, without the colons some file systems refuse. */
const fileTimestamp = (ms: number): string => new Date(ms).toISOString().replace(/[-:]/g, '');

/**
 * Where model files live and how they get there. A file already on disk is used without any
 * network access once its checksum (pinned in the manifest, or recorded in the lock file the first
 * time a whole file was seen) matches; a missing file is downloaded, verified, then renamed into
 * place. A file that fails its check is moved aside, never deleted: it may be the only copy.
 */
export class ModelStore {
  readonly modelsDir: string;
  readonly lockPath: string;
  private readonly clock: Clock;
  private readonly verified = new Map<string, string>();
  private readonly corruption = new Map<string, Corruption>();
  private readonly downloads = new Map<string, Promise<string>>();
  private readonly failures = new Map<string, DownloadFailure>();
  private retryingInBackground = false;
  private lockLoad: Promise<Lock> | undefined;
  private lockWrites: Promise<void> = Promise.resolve();
  private readonly lockConflictsLogged = new Set<string>();

  constructor(private readonly options: StoreOptions) {
    this.modelsDir = resolve(options.modelsDir);
    this.lockPath = join(this.modelsDir, 'models.lock.json');
    this.clock = options.clock ?? systemClock;
  }

  get manifest(): Manifest {
    return this.options.manifest;
  }

  entry(id: string): ModelEntry {
    return getModel(this.options.manifest, id);
  }

  /** The folder holding a model's files: its local source, or `<MODELS_DIR>/<id>`. */
  modelDir(entry: ModelEntry): string {
    return entry.source.type === 'local'
      ? resolve(this.options.manifest.baseDir, entry.source.path)
      : join(this.modelsDir, entry.id);
  }

  /** Makes sure every file the model needs at this precision is present and verified. */
  async resolve(id: string, precision: Precision): Promise<ResolvedModel> {
    const entry = this.entry(id);
    const chosen = weightFiles(entry, precision);
    const always = entry.files.filter((file) => file.precision === undefined);
    for (const file of [...always, ...chosen.files]) await this.ensureFile(entry, file);
    const dir = this.modelDir(entry);
    const weights = Object.fromEntries(chosen.files.map((file) => [file.part ?? 'model', join(dir, file.path)]));
    return { entry, precision: chosen.precision, dir, weights };
  }

  /**
   * From now on, a failed download is retried by a timer after its backoff, and requests in the
   * meantime answer at once. A long-running process (the bot) turns this on; a one-shot command
   * (the CLI) leaves it off, so it never promises a retry it will not be running to make.
   */
  retryDownloadsInBackground(): void {
    this.retryingInBackground = true;
    for (const failure of this.failures.values()) {
      if (!failure.cancelTimer) this.scheduleRetry(failure, Math.max(0, failure.retryAt - this.clock.now()));
    }
  }

  /** Cancels the background retries (downloads already running finish on their own). */
  close(): void {
    this.retryingInBackground = false;
    for (const failure of this.failures.values()) {
      failure.cancelTimer?.();
      failure.cancelTimer = undefined;
    }
  }

  /** Resolves once the downloads running now have finished, whether they succeeded or not. */
  async downloadsSettled(): Promise<void> {
    await Promise.allSettled([...this.downloads.values()]);
  }

  /** Returns the verified absolute path of one file, downloading it when missing. */
  async ensureFile(entry: ModelEntry, file: ModelFile): Promise<string> {
    const path = join(this.modelDir(entry), file.path);
    const key = `${entry.id}/${file.path}`;
    if (existsSync(path) && (await this.verify(entry, file, path, key))) {
      // Someone put it in place (npm run models:pull, a copy): no retry should overwrite it.
      this.clearFailure(key);
      return path;
    }
    const where = { model: entry.id, file: file.path, path };
    const corruption = await this.corruptionOf(path);
    if (entry.source.type === 'local') {
      this.options.logger.warn(where, 'model file missing from the local folder its manifest entry names');
      throw corruption
        ? this.corruptError(entry, file, corruption)
        : new UserFacingError(
            `${describeModel(entry)} isn't installed on this bot: ${file.path} is missing from the local folder ` +
              `its manifest entry names (operators: the log says where it was expected).`,
            { code: 'model_missing' },
          );
    }
    const url = this.urlOf(entry, file);
    if (!this.options.allowDownloads) {
      this.options.logger.warn({ ...where, url }, 'model file missing and downloads are off (MODEL_DOWNLOADS=false)');
      throw corruption
        ? this.corruptError(entry, file, corruption)
        : new UserFacingError(
            `${describeModel(entry)} isn't installed on this bot (operators: \`npm run models:pull ${entry.id}\`).`,
            { code: 'model_missing' },
          );
    }
    const failure = this.failures.get(key);
    if (failure && (this.retryingInBackground || this.clock.now() < failure.retryAt)) {
      throw this.downloadFailedError(entry, failure, corruption !== undefined);
    }
    return this.download(entry, file, path, key, url);
  }

  private urlOf(entry: ModelEntry, file: ModelFile): string {
    if (file.url) return file.url;
    if (entry.source.type === 'huggingface') {
      const base = this.options.hubEndpoint.replace(/\/+$/, '');
      return `${base}/${entry.source.repo}/resolve/${encodeURIComponent(entry.source.revision)}/${file.path}`;
    }
    throw new UserFacingError(`Model "${entry.id}" has no download address for ${file.path}.`, {
      code: 'model_missing',
    });
  }

  /** One download per file at a time: callers asking while it runs share it. */
  private download(entry: ModelEntry, file: ModelFile, path: string, key: string, url: string): Promise<string> {
    let pending = this.downloads.get(key);
    if (!pending) {
      pending = this.attemptDownload(entry, file, path, key, url).finally(() => this.downloads.delete(key));
      this.downloads.set(key, pending);
    }
    return pending;
  }

  private async attemptDownload(
    entry: ModelEntry,
    file: ModelFile,
    path: string,
    key: string,
    url: string,
  ): Promise<string> {
    const pinned = this.expectedHash(file, key, await this.readLock());
    this.options.logger.info({ model: entry.id, file: file.path, url }, 'downloading model file');
    let sha256: string;
    try {
      sha256 = await downloadFile({
        url,
        dest: path,
        expectedSha256: pinned,
        timeoutMs: this.options.downloadTimeoutMs,
        onProgress: terminalProgress(key),
        // A pinned hash vouches for the file; an unpinned one is about to be recorded, so it must look whole first.
        inspect: pinned ? undefined : (partial) => inspectModelFile(partial, file.path),
        clock: this.clock,
      });
    } catch (error) {
      const failure = this.rememberFailure(entry, file, path, key, url, error);
      throw this.downloadFailedError(entry, failure, (await this.corruptionOf(path)) !== undefined);
    }
    this.clearFailure(key);
    this.corruption.delete(path);
    if (!pinned) await this.record(key, sha256, path, url);
    this.verified.set(path, sha256);
    this.options.logger.info({ model: entry.id, file: file.path, path }, 'model file downloaded and verified');
    return path;
  }

  private rememberFailure(
    entry: ModelEntry,
    file: ModelFile,
    path: string,
    key: string,
    url: string,
    error: unknown,
  ): DownloadFailure {
    const previous = this.failures.get(key);
    previous?.cancelTimer?.();
    const attempts = (previous?.attempts ?? 0) + 1;
    const delay = Math.min(DOWNLOAD_RETRY_FIRST_MS * 2 ** (attempts - 1), DOWNLOAD_RETRY_MAX_MS);
    const failure: DownloadFailure = {
      attempts,
      retryAt: this.clock.now() + delay,
      ...downloadProblem(error),
      retry: () => {
        if (existsSync(path)) {
          this.clearFailure(key);
          return;
        }
        // Nobody awaits a background attempt: its failure is remembered (and logged) instead.
        this.download(entry, file, path, key, url).catch(() => undefined);
      },
    };
    this.failures.set(key, failure);
    if (this.retryingInBackground) this.scheduleRetry(failure, delay);
    this.options.logger.warn(
      { model: entry.id, file: file.path, url, path, err: error, attempts, retryInMs: delay },
      'model download failed; remembered, retried after a backoff',
    );
    return failure;
  }

  private scheduleRetry(failure: DownloadFailure, delayMs: number): void {
    failure.cancelTimer = this.clock.setTimer(() => {
      failure.cancelTimer = undefined;
      failure.retry();
    }, delayMs);
  }

  private clearFailure(key: string): void {
    this.failures.get(key)?.cancelTimer?.();
    this.failures.delete(key);
  }

  private downloadFailedError(entry: ModelEntry, failure: DownloadFailure, corrupt: boolean): UserFacingError {
    const wait = formatDelay(Math.max(0, failure.retryAt - this.clock.now()));
    // Only a process that keeps running retries; a one-shot command promises nothing it will not do.
    const next = this.retryingInBackground ? `; retrying in the background, next try in ${wait}` : '';
    const what = corrupt
      ? 'is corrupted and downloading a fresh copy failed'
      : "isn't installed yet: its download failed";
    return new UserFacingError(
      `${describeModel(entry)} ${what} (${failure.reason})${next} (operators: \`npm run models:pull ${entry.id}\`).`,
      { code: failure.code },
    );
  }

  private corruptError(entry: ModelEntry, file: ModelFile, corruption: Corruption): UserFacingError {
    const where = corruption.leftInPlace ? 'it is not used' : 'it was moved aside';
    // A local folder is the operator's own copy: there is nothing to download it from.
    const fix =
      entry.source.type === 'local'
        ? 'put a good copy back in its local folder (the log says where)'
        : `re-download it with \`npm run models:pull ${entry.id}\``;
    return new UserFacingError(
      `${describeModel(entry)} on this bot is corrupted: ${file.path} ${corruption.problem}, so ${where}. Operators: ${fix}.`,
      { code: 'model_corrupt' },
    );
  }

  /** The hash a file must have: the manifest's pin wins over the lock file's record. */
  private expectedHash(file: ModelFile, key: string, lock: Lock): string | undefined {
    const recorded = lock[key]?.sha256;
    if (file.sha256 && recorded && recorded !== file.sha256 && !this.lockConflictsLogged.has(key)) {
      this.lockConflictsLogged.add(key);
      this.options.logger.warn(
        { file: key, manifest: file.sha256, lock: recorded, lockPath: this.lockPath },
        'models.lock.json disagrees with the sha256 the manifest pins; the manifest wins',
      );
    }
    return file.sha256 ?? recorded;
  }

  /** Whether the file at `path` may be used; a file that may not is moved aside (or, if it cannot be, left unused). */
  private async verify(entry: ModelEntry, file: ModelFile, path: string, key: string): Promise<boolean> {
    const expected = this.expectedHash(file, key, await this.readLock());
    if (expected && this.verified.get(path) === expected) return true;
    const known = this.corruption.get(path)?.leftInPlace;
    if (known) {
      const now = await stat(path).catch(() => undefined);
      if (now?.size === known.size && now.mtimeMs === known.mtimeMs) return false;
    }
    const actual = await sha256File(path);
    if (expected) {
      if (actual === expected) {
        this.verified.set(path, actual);
        this.corruption.delete(path);
        return true;
      }
      await this.quarantine(entry, file, path, 'failed its checksum', {
        expected,
        actual,
        pinnedBy: file.sha256
          ? 'manifest'
          : `models.lock.json (remove its "${key}" entry if you replaced the file on purpose)`,
      });
      return false;
    }
    // Nothing pins this file yet: its hash is about to become the pin, so it must look whole first.
    const problem = await inspectModelFile(path);
    if (problem) {
      await this.quarantine(entry, file, path, problem, {});
      return false;
    }
    await this.record(key, actual, path, 'local file');
    this.verified.set(path, actual);
    this.corruption.delete(path);
    return true;
  }

  /** Moves a bad file aside as `<file>.corrupt-<time>`: never deleted, it may be the only copy someone has. */
  private async quarantine(
    entry: ModelEntry,
    file: ModelFile,
    path: string,
    problem: string,
    detail: Record<string, string>,
  ): Promise<void> {
    this.verified.delete(path);
    const aside = `${path}.corrupt-${fileTimestamp(this.clock.now())}`;
    const where = { model: entry.id, file: file.path, path, problem, ...detail };
    try {
      await rename(path, aside);
      this.corruption.set(path, { problem });
      this.options.logger.error(
        { ...where, movedTo: aside },
        `model file is corrupted; moved it aside (npm run models:pull ${entry.id} fetches it again)`,
      );
    } catch (error) {
      const left = await stat(path).catch(() => undefined);
      this.corruption.set(path, { problem, leftInPlace: left && { size: left.size, mtimeMs: left.mtimeMs } });
      this.options.logger.error(
        { ...where, err: error },
        'model file is corrupted and could not be moved aside (read-only volume?); it will not be used',
      );
    }
  }

  /** How a missing (or unusable) file was found corrupted, in this run or, moved aside, in an earlier one. */
  private async corruptionOf(path: string): Promise<Corruption | undefined> {
    const known = this.corruption.get(path);
    if (known) return known;
    const prefix = `${basename(path)}.corrupt-`;
    const names = await readdir(dirname(path)).catch(() => [] as string[]);
    return names.some((name) => name.startsWith(prefix)) ? { problem: 'was found corrupted earlier' } : undefined;
  }

  private readLock(): Promise<Lock> {
    this.lockLoad ??= this.loadLock();
    return this.lockLoad;
  }

  private async loadLock(): Promise<Lock> {
    let text: string;
    try {
      text = await readFile(this.lockPath, 'utf8');
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') {
        this.options.logger.warn({ lock: this.lockPath, err: error }, 'lock file unreadable; ignoring it');
      }
      return {};
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      this.options.logger.warn({ lock: this.lockPath }, 'lock file is not valid JSON; ignoring it');
      return {};
    }
    const parsed = lockSchema.safeParse(json);
    if (!parsed.success) this.options.logger.warn({ lock: this.lockPath }, 'lock file is invalid; ignoring it');
    return parsed.success ? parsed.data : {};
  }

  /** Records a file's hash; the lock file is written only when that changes it. */
  private async record(key: string, sha256: string, path: string, source: string): Promise<void> {
    const lock = await this.readLock();
    const { size } = await stat(path);
    const previous = lock[key];
    if (previous?.sha256 === sha256 && previous.size === size && previous.source === source) return;
    lock[key] = { sha256, size, source };
    // One write at a time, each of the lock as it is by then: two renames of one temporary file would race.
    const write = this.lockWrites.then(() => this.writeLock(lock));
    this.lockWrites = write;
    await write;
  }

  /**
   * Writes a temporary file and renames it over the lock, so a full disk or a crash leaves the old
   * lock whole instead of an empty one. A read-only or full volume is no reason to refuse a verified
   * model: the hash stays recorded in memory for this run, and the next run tries to write it again.
   */
  private async writeLock(lock: Lock): Promise<void> {
    const sorted = Object.fromEntries(Object.entries(lock).sort(([a], [b]) => a.localeCompare(b)));
    const temporary = `${this.lockPath}.${process.pid}.tmp`;
    try {
      await mkdir(dirname(this.lockPath), { recursive: true });
      await writeFile(temporary, `${JSON.stringify(sorted, null, 2)}\n`);
      await rename(temporary, this.lockPath);
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => undefined);
      this.options.logger.warn(
        { lock: this.lockPath, err: error },
        'could not write the lock file (read-only or full volume?); the hashes stay recorded in memory until restart',
      );
    }
  }
}
