import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type * as FileSystem from 'node:fs/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SPECIAL_TOKENS, tinyWordPieceTokenizer } from '../../../scripts/fixtures/tiny-models.js';
import { parseManifest } from '../../../src/models/manifest.js';
import { ModelStore } from '../../../src/models/store.js';
import { TokenizerRegistry, tokenizeText } from '../../../src/text/tokenizers.js';
import { recordingLogger, tempDir } from '../../helpers.js';

// Issue 14 §4 item 9: a read-only or full MODELS_DIR must not break a model whose files are all there.
//
// The tests run as root, and root writes through a chmod 0555 directory, so the permission bits
// cannot make a volume read-only here. The file system calls are wrapped instead (vi.mock of
// node:fs/promises, for this file only): under the folder a test names, a write fails with the
// error a read-only mount (EROFS) or a full disk (ENOSPC, after the file was opened and truncated)
// gives. The wrapping sits under the store, so the same test runs against the store before the fix.
const volume = vi.hoisted(() => ({
  root: undefined as string | undefined,
  failure: undefined as 'EROFS' | 'ENOSPC' | undefined,
  /** Every write, rename or removal attempted under `root`. */
  attempts: [] as string[],
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof FileSystem>();
  const failing = (path: unknown): boolean =>
    typeof path === 'string' && volume.root !== undefined && path.startsWith(volume.root);
  const refuse = (syscall: string, path: string): Error =>
    Object.assign(new Error(`${volume.failure}: ${syscall} '${path}'`), { code: volume.failure, syscall, path });
  const writeFile: typeof actual.writeFile = async (path, data, options) => {
    if (failing(path)) {
      volume.attempts.push(`write ${String(path)}`);
      if (volume.failure === 'EROFS') throw refuse('open', String(path));
      if (volume.failure === 'ENOSPC') {
        // Opened (and so truncated) before the first write found no space.
        await actual.writeFile(path, '');
        throw refuse('write', String(path));
      }
    }
    return actual.writeFile(path, data, options);
  };
  const rename: typeof actual.rename = async (from, to) => {
    if (failing(from)) {
      volume.attempts.push(`rename ${String(from)}`);
      if (volume.failure === 'EROFS') throw refuse('rename', String(from));
    }
    return actual.rename(from, to);
  };
  const rm: typeof actual.rm = async (path, options) => {
    if (failing(path)) {
      volume.attempts.push(`rm ${String(path)}`);
      if (volume.failure === 'EROFS') throw refuse('rm', String(path));
    }
    return actual.rm(path, options);
  };
  const wrapped = { ...actual, writeFile, rename, rm };
  return { ...wrapped, default: wrapped };
});

afterEach(() => {
  volume.root = undefined;
  volume.failure = undefined;
  volume.attempts = [];
});

const files = tinyWordPieceTokenizer([...SPECIAL_TOKENS, 'read', 'only'], 16);
const tokenizerJson = JSON.stringify(files.tokenizer);
const configJson = JSON.stringify(files.config);
const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

/** A MODELS_DIR holding bert-base-uncased's two tokenizer files (unpinned, as in models/manifest.json). */
async function modelsDir(lock?: Record<string, string>): Promise<string> {
  const dir = await tempDir();
  await mkdir(join(dir, 'bert-base-uncased'));
  await writeFile(join(dir, 'bert-base-uncased/tokenizer.json'), tokenizerJson);
  await writeFile(join(dir, 'bert-base-uncased/tokenizer_config.json'), configJson);
  if (lock) {
    const entries = Object.entries(lock).map(([key, text]) => [
      key,
      { sha256: sha(text), size: text.length, source: 'x' },
    ]);
    await writeFile(join(dir, 'models.lock.json'), JSON.stringify(Object.fromEntries(entries)));
  }
  return dir;
}

function storeFor(dir: string, logger = recordingLogger().logger): ModelStore {
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
          files: [{ path: 'tokenizer.json' }, { path: 'tokenizer_config.json' }],
        },
      ],
    },
    dir,
  );
  return new ModelStore({
    manifest,
    modelsDir: dir,
    hubEndpoint: 'http://127.0.0.1:9',
    allowDownloads: true,
    downloadTimeoutMs: 1000,
    logger,
  });
}

const registryFor = (dir: string, logger = recordingLogger().logger): TokenizerRegistry =>
  new TokenizerRegistry(storeFor(dir, logger));

describe('a read-only MODELS_DIR', () => {
  it('serves /tokenize when every file is there and verified, and writes nothing', async () => {
    const dir = await modelsDir({
      'bert-base-uncased/tokenizer.json': tokenizerJson,
      'bert-base-uncased/tokenizer_config.json': configJson,
    });
    Object.assign(volume, { root: dir + sep, failure: 'EROFS' });
    const tokenizer = await registryFor(dir).get('bert-base-uncased');
    expect(tokenizeText(tokenizer, 'read only').count).toBe(4);
    expect(volume.attempts).toEqual([]);
  });

  it('serves /tokenize when the files are there but the lock file lacks them: the hashes are kept in memory', async () => {
    const dir = await modelsDir();
    Object.assign(volume, { root: dir + sep, failure: 'EROFS' });
    const { logger, entries } = recordingLogger();
    const tokenizer = await registryFor(dir, logger).get('bert-base-uncased');
    expect(tokenizeText(tokenizer, 'read only').count).toBe(4);
    expect(volume.attempts.length).toBeGreaterThan(0);
    expect(existsSync(join(dir, 'models.lock.json'))).toBe(false);
    expect(entries.some((entry) => String(entry.msg).startsWith('could not write the lock file'))).toBe(true);
  });
});

describe('a full MODELS_DIR', () => {
  it('keeps the old lock file whole when writing a new one fails, and leaves no temporary file behind', async () => {
    // The lock already pins tokenizer_config.json; tokenizer.json is new to it.
    const dir = await modelsDir({ 'bert-base-uncased/tokenizer_config.json': configJson });
    const before = await readFile(join(dir, 'models.lock.json'), 'utf8');
    Object.assign(volume, { root: dir + sep, failure: 'ENOSPC' });

    const tokenizer = await registryFor(dir).get('bert-base-uncased');
    expect(tokenizeText(tokenizer, 'read only').count).toBe(4);
    expect(volume.attempts.some((attempt) => attempt.startsWith('write'))).toBe(true);
    expect(await readFile(join(dir, 'models.lock.json'), 'utf8')).toBe(before);
    expect(await readdir(dir)).toEqual(['bert-base-uncased', 'models.lock.json']);

    // Space again: the next run records it, once.
    Object.assign(volume, { failure: undefined, attempts: [] });
    await registryFor(dir).get('bert-base-uncased');
    const lock = JSON.parse(await readFile(join(dir, 'models.lock.json'), 'utf8')) as Record<
      string,
      { sha256: string }
    >;
    expect(lock['bert-base-uncased/tokenizer.json']?.sha256).toBe(sha(tokenizerJson));
    expect(lock['bert-base-uncased/tokenizer_config.json']?.sha256).toBe(sha(configJson));
    expect(volume.attempts.filter((attempt) => attempt.startsWith('write'))).toHaveLength(1);
  });
});

describe('the lock file', () => {
  it('is written once for a new file that two requests check at once, and not at all when nothing changed', async () => {
    const dir = await modelsDir();
    Object.assign(volume, { root: dir + sep });
    const store = storeFor(dir);
    const tokenizer = store.entry('bert-base-uncased').files[0]!;
    await Promise.all([
      store.ensureFile(store.entry('bert-base-uncased'), tokenizer),
      store.ensureFile(store.entry('bert-base-uncased'), tokenizer),
    ]);
    expect(volume.attempts.filter((attempt) => attempt.startsWith('write'))).toHaveLength(1);

    volume.attempts = [];
    const restarted = storeFor(dir);
    await restarted.ensureFile(restarted.entry('bert-base-uncased'), tokenizer);
    expect(volume.attempts).toEqual([]);
  });
});
