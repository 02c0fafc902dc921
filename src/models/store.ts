import { existsSync } from 'node:fs';
import { readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { UserFacingError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { ChecksumError, downloadFile, sha256File, terminalProgress } from './download.js';
import { getModel, weightFiles, type Manifest, type ModelEntry, type ModelFile, type Precision } from './manifest.js';

const lockSchema = z.record(
  z.string(),
  z.object({ sha256: z.string().regex(/^[a-f0-9]{64}$/), size: z.number(), source: z.string() }),
);
type Lock = z.infer<typeof lockSchema>;

export interface StoreOptions {
  manifest: Manifest;
  modelsDir: string;
  hubEndpoint: string;
  allowDownloads: boolean;
  downloadTimeoutMs: number;
  logger: Logger;
}

export interface ResolvedModel {
  entry: ModelEntry;
  precision: Precision;
  /** Absolute folder the model's files live in. */
  dir: string;
  /** Absolute paths of the weight files, keyed by `part` (or "model"). */
  weights: Record<string, string>;
}

/**
 * Where model files live and how they get there. A file already on disk is used without any
 * network access once its checksum (pinned in the manifest, or recorded in the lock file on
 * first download) matches; a missing file is downloaded, verified, then renamed into place.
 */
export class ModelStore {
  readonly modelsDir: string;
  readonly lockPath: string;
  private readonly verified = new Map<string, string>();
  private lock: Lock | undefined;

  constructor(private readonly options: StoreOptions) {
    this.modelsDir = resolve(options.modelsDir);
    this.lockPath = join(this.modelsDir, 'models.lock.json');
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

  /** Returns the verified absolute path of one file, downloading it when missing. */
  async ensureFile(entry: ModelEntry, file: ModelFile): Promise<string> {
    const path = join(this.modelDir(entry), file.path);
    const key = `${entry.id}/${file.path}`;
    if (existsSync(path)) {
      await this.verify(entry, file, path, key);
      if (existsSync(path)) return path;
    }
    if (entry.source.type === 'local') {
      throw new UserFacingError(
        `Model "${entry.id}" is missing ${file.path}: expected at ${path} (its manifest entry points at a local folder).`,
        {
          code: 'model_missing',
        },
      );
    }
    const url = this.urlOf(entry, file);
    if (!this.options.allowDownloads) {
      throw this.missingError(entry, file, path, url, 'downloads are off (MODEL_DOWNLOADS=false)');
    }
    const pinned = file.sha256 ?? (await this.readLock())[key]?.sha256;
    this.options.logger.info({ model: entry.id, file: file.path, url }, 'downloading model file');
    let sha256: string;
    try {
      sha256 = await downloadFile({
        url,
        dest: path,
        expectedSha256: pinned,
        timeoutMs: this.options.downloadTimeoutMs,
        onProgress: terminalProgress(`${entry.id}/${file.path}`),
      });
    } catch (error) {
      if (error instanceof ChecksumError) {
        throw new UserFacingError(
          `Downloaded ${key} does not match its checksum (expected ${error.expected}, got ${error.actual}); the file was deleted.`,
          { code: 'checksum_mismatch' },
        );
      }
      throw this.missingError(
        entry,
        file,
        path,
        url,
        (error as Error).cause ? String((error as Error).cause) : (error as Error).message,
      );
    }
    if (!pinned) await this.record(key, sha256, path, url);
    this.verified.set(path, sha256);
    return path;
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

  private missingError(entry: ModelEntry, file: ModelFile, path: string, url: string, reason: string): UserFacingError {
    return new UserFacingError(
      `Model file ${entry.id}/${file.path} is missing: expected at ${path}. It could not be downloaded from ${url} (${reason}). ` +
        `Run \`npm run models:pull ${entry.id}\` where the network is reachable, or copy the file to that path.`,
      { code: 'model_missing' },
    );
  }

  private async verify(entry: ModelEntry, file: ModelFile, path: string, key: string): Promise<void> {
    const expected = file.sha256 ?? (await this.readLock())[key]?.sha256;
    if (!expected) {
      // A file placed by hand with no pin anywhere: trust it, and pin what we found from now on.
      const actual = await sha256File(path);
      await this.record(key, actual, path, 'local file');
      this.verified.set(path, actual);
      return;
    }
    if (this.verified.get(path) === expected) return;
    const actual = await sha256File(path);
    if (actual !== expected) {
      await rm(path, { force: true });
      this.verified.delete(path);
      this.options.logger.warn(
        { model: entry.id, file: file.path, expected, actual },
        'checksum mismatch; deleted the file',
      );
      if (!this.options.allowDownloads || entry.source.type === 'local') {
        throw new UserFacingError(
          `${key} at ${path} does not match its checksum (expected ${expected}, got ${actual}); the file was deleted. ` +
            `Run \`npm run models:pull ${entry.id}\` to fetch it again.`,
          { code: 'checksum_mismatch' },
        );
      }
      return;
    }
    this.verified.set(path, actual);
  }

  private async readLock(): Promise<Lock> {
    if (this.lock) return this.lock;
    try {
      const parsed = lockSchema.safeParse(JSON.parse(await readFile(this.lockPath, 'utf8')));
      this.lock = parsed.success ? parsed.data : {};
      if (!parsed.success) this.options.logger.warn({ lock: this.lockPath }, 'lock file is invalid; ignoring it');
    } catch {
      this.lock = {};
    }
    return this.lock;
  }

  private async record(key: string, sha256: string, path: string, source: string): Promise<void> {
    const lock = await this.readLock();
    lock[key] = { sha256, size: (await stat(path)).size, source };
    await mkdir(dirname(this.lockPath), { recursive: true });
    const sorted = Object.fromEntries(Object.entries(lock).sort(([a], [b]) => a.localeCompare(b)));
    await writeFile(this.lockPath, `${JSON.stringify(sorted, null, 2)}\n`);
  }
}
