import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InferenceEngine, ort } from '../../../src/inference/engine.js';
import { FIXTURES_DIR, silentLogger } from '../../helpers.js';

const batch = { maxBatchSize: 4, maxWaitMs: 2, maxQueue: 8, timeoutMs: 5000 };
const model = join(FIXTURES_DIR, 'tiny-cnn/model.onnx');
let engine: InferenceEngine | undefined;
afterEach(async () => engine?.dispose());

describe('inference engine', () => {
  it('falls back to CPU when CUDA is requested but cannot load', async () => {
    const attempts: string[] = [];
    engine = new InferenceEngine({
      executionProvider: 'cuda',
      intraOpThreads: 1,
      interOpThreads: 1,
      batch,
      logger: silentLogger,
      cudaInstalled: () => true,
      createSession: async (path, options) => {
        const first = options.executionProviders?.[0];
        const name = typeof first === 'string' ? first : (first?.name ?? 'cpu');
        attempts.push(name);
        if (name === 'cuda') throw new Error('Failed to load shared library libonnxruntime_providers_shared.so');
        return ort.InferenceSession.create(path, options);
      },
    });
    const loaded = await engine.session(model);
    expect(attempts).toEqual(['cuda', 'cpu']);
    expect(loaded.executionProvider).toBe('cpu');
    expect(engine.activeProvider).toBe('cpu');
    await engine.session(join(FIXTURES_DIR, 'tiny-vit/model.onnx'));
    expect(attempts).toEqual(['cuda', 'cpu', 'cpu']);
  });

  it('runs on CPU without trying CUDA when the CUDA build is not installed', async () => {
    const attempts: unknown[] = [];
    engine = new InferenceEngine({
      executionProvider: 'auto',
      intraOpThreads: 1,
      interOpThreads: 1,
      batch,
      logger: silentLogger,
      cudaInstalled: () => false,
      createSession: (path, options) => {
        attempts.push(options.executionProviders);
        return ort.InferenceSession.create(path, options);
      },
    });
    expect((await engine.session(model)).executionProvider).toBe('cpu');
    expect(attempts).toEqual([['cpu']]);
  });

  it('creates one shared session per file, with graph optimisation and the configured threads', async () => {
    const seen: ort.InferenceSession.SessionOptions[] = [];
    engine = new InferenceEngine({
      executionProvider: 'cpu',
      intraOpThreads: 2,
      interOpThreads: 1,
      batch,
      logger: silentLogger,
      createSession: (path, options) => {
        seen.push(options);
        return ort.InferenceSession.create(path, options);
      },
    });
    const [a, b] = await Promise.all([engine.session(model), engine.session(model)]);
    expect(a.session).toBe(b.session);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ graphOptimizationLevel: 'all', intraOpNumThreads: 2, interOpNumThreads: 1 });
  });

  it('turns an unreadable model file into a clear error', async () => {
    engine = new InferenceEngine({ executionProvider: 'cpu', intraOpThreads: 1, interOpThreads: 1, batch, logger: silentLogger });
    await expect(engine.session(join(FIXTURES_DIR, 'manifest.json'))).rejects.toThrow(/could not be loaded by onnxruntime/);
  });
});
