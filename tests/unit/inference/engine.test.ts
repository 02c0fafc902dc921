import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { InferenceEngine, ort, type EngineOptions } from '../../../src/inference/engine.js';
import type { SessionLike } from '../../../src/inference/remote-session.js';
import { writeSlowModel } from '../../fixtures/slow-model.js';
import { UserFacingError } from '../../../src/util/errors.js';
import { FIXTURES_DIR, recordingLogger, rejectionOf, silentLogger } from '../../helpers.js';

const batch = { maxBatchSize: 4, maxWaitMs: 2, maxQueue: 8, timeoutMs: 5000 };
const model = join(FIXTURES_DIR, 'tiny-cnn/model.onnx');
let engine: InferenceEngine | undefined;
afterEach(async () => engine?.dispose());

/** An engine with test defaults (CPU, one thread, silent); `createSession` here creates sessions in this thread. */
const engineWith = (options: Partial<EngineOptions> = {}): InferenceEngine =>
  new InferenceEngine({
    executionProvider: 'cpu',
    intraOpThreads: 1,
    interOpThreads: 1,
    batch,
    logger: silentLogger,
    ...options,
  });
const inThread = (path: string, options: ort.InferenceSession.SessionOptions): Promise<SessionLike> =>
  ort.InferenceSession.create(path, options) as unknown as Promise<SessionLike>;

describe('inference engine', () => {
  it('falls back to CPU when CUDA is requested but cannot load', async () => {
    const attempts: string[] = [];
    engine = engineWith({
      executionProvider: 'cuda',
      gpuInstalled: () => true,
      createSession: async (path, options) => {
        const first = options.executionProviders?.[0];
        const name = typeof first === 'string' ? first : (first?.name ?? 'cpu');
        attempts.push(name);
        if (name === 'cuda') throw new Error('Failed to load shared library libonnxruntime_providers_shared.so');
        return inThread(path, options);
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
    engine = engineWith({
      executionProvider: 'auto',
      gpuInstalled: () => false,
      createSession: (path, options) => {
        attempts.push(options.executionProviders);
        return inThread(path, options);
      },
    });
    expect((await engine.session(model)).executionProvider).toBe('cpu');
    expect(attempts).toEqual([['cpu']]);
  });

  it('creates one shared session per file, with graph optimisation and the configured threads', async () => {
    const seen: ort.InferenceSession.SessionOptions[] = [];
    engine = engineWith({
      executionProvider: 'cpu',
      intraOpThreads: 2,
      createSession: (path, options) => {
        seen.push(options);
        return inThread(path, options);
      },
    });
    const [a, b] = await Promise.all([engine.session(model), engine.session(model)]);
    expect(a.session).toBe(b.session);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ graphOptimizationLevel: 'all', intraOpNumThreads: 2, interOpNumThreads: 1 });
  });

  it('turns an unreadable model file into a clear error that names the file, with its path in the log', async () => {
    const { logger, entries } = recordingLogger();
    engine = engineWith({ logger });
    const path = join(FIXTURES_DIR, 'manifest.json');
    const error = await rejectionOf(engine.session(path), UserFacingError);
    expect(error.message).toMatch(/The model file manifest\.json could not be loaded by onnxruntime/);
    expect(error.message).not.toContain(FIXTURES_DIR);
    expect(entries.find((entry) => entry.msg === 'onnxruntime could not load a model file')).toMatchObject({ path });
  });
});

describe('inference off the event loop', () => {
  it('keeps the event loop turning while a long session.run is in progress', async () => {
    const path = await writeSlowModel();
    engine = engineWith();
    const { session } = await engine.session(path);
    const n = 1200;
    const input = new ort.Tensor('float32', new Float32Array(n * n).fill(0.001), [n, n]);
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 2);
    const started = performance.now();
    const output = await session.run({ x: input });
    const elapsed = performance.now() - started;
    clearInterval(timer);
    expect(output.y!.dims).toEqual([n, n]);
    expect((output.y!.data as Float32Array)[0]).toBeCloseTo(n ** 3 * 0.001 ** 4, 6);
    expect(elapsed).toBeGreaterThan(20);
    // A blocked loop would tick at most once; a free one ticks every few milliseconds.
    expect(ticks).toBeGreaterThan(elapsed / 20);
  });
});

describe('the GPU path, by configuration', () => {
  it('with EXECUTION_PROVIDER=cuda loads the fp32 file (fp16 on request) and asks onnxruntime for CUDA first', async () => {
    const { parseConfig, preferredPrecision } = await import('../../../src/config/config.js');
    const { loadManifest, getModel, weightFiles } = await import('../../../src/models/manifest.js');
    const { ROOT } = await import('../../helpers.js');
    const manifest = loadManifest(join(ROOT, 'models/manifest.json'));
    const vit = getModel(manifest, 'vit-base-patch16-224');
    const cuda = parseConfig({ EXECUTION_PROVIDER: 'cuda' });
    expect(weightFiles(vit, preferredPrecision(cuda)).files.map((f) => f.path)).toEqual(['onnx/model.onnx']);
    expect(
      weightFiles(
        vit,
        preferredPrecision(parseConfig({ EXECUTION_PROVIDER: 'cuda', MODEL_PRECISION: 'fp16' })),
      ).files.map((f) => f.path),
    ).toEqual(['onnx/model_fp16.onnx']);
    expect(weightFiles(vit, preferredPrecision(parseConfig({}))).files.map((f) => f.path)).toEqual([
      'onnx/model_quantized.onnx',
    ]);

    const providers: unknown[] = [];
    engine = engineWith({
      executionProvider: 'cuda',
      gpuInstalled: () => true,
      // Stands in for a CUDA machine: records what the engine asks for, runs on CPU.
      createSession: (path, options) => {
        providers.push(options.executionProviders);
        return inThread(path, { ...options, executionProviders: ['cpu'] });
      },
    });
    const loaded = await engine.session(model);
    expect(providers).toEqual([[{ name: 'cuda' }, 'cpu']]);
    expect(loaded.executionProvider).toBe('cuda');
    expect(engine.activeProvider).toBe('cuda');
  });

  it('with EXECUTION_PROVIDER=webgpu loads the fp32 file and asks onnxruntime for WebGPU first', async () => {
    const { parseConfig, preferredPrecision } = await import('../../../src/config/config.js');
    expect(preferredPrecision(parseConfig({ EXECUTION_PROVIDER: 'webgpu' }))).toBe('fp32');
    const providers: unknown[] = [];
    engine = engineWith({
      executionProvider: 'webgpu',
      createSession: (path, options) => {
        providers.push(options.executionProviders);
        return inThread(path, { ...options, executionProviders: ['cpu'] });
      },
    });
    expect((await engine.session(model)).executionProvider).toBe('webgpu');
    expect(providers).toEqual([[{ name: 'webgpu' }, 'cpu']]);
    expect(engine.activeProvider).toBe('webgpu');
  });

  it('keeps every WebGPU session in one worker thread, saying that ORT_WORKERS is ignored, and spreads CPU sessions as configured', () => {
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
    engine = engineWith({ executionProvider: 'webgpu', gpuInstalled: () => true, workers: 3, logger });
    expect(engine.workerThreads).toBe(1);
    expect(warnings.join('')).toMatch(/WebGPU sessions all run in one worker thread.*ORT_WORKERS ignored/);
    expect(engineWith({ executionProvider: 'cpu', workers: 3 }).workerThreads).toBe(3);
    expect(engineWith({ executionProvider: 'webgpu', gpuInstalled: () => false, workers: 3 }).workerThreads).toBe(3);
  });

  it('with EXECUTION_PROVIDER=webgpu on a machine without a usable GPU adapter, says why and runs on CPU with the same results', async () => {
    const warnings: string[] = [];
    engine = engineWith({
      executionProvider: 'webgpu',
      logger: pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) }),
    });
    const cpu = new InferenceEngine({
      executionProvider: 'cpu',
      intraOpThreads: 1,
      interOpThreads: 1,
      batch,
      logger: silentLogger,
    });
    const input = {
      pixel_values: new ort.Tensor(
        'float32',
        new Float32Array(3 * 16 * 16).map((_, i) => Math.sin(i)),
        [1, 3, 16, 16],
      ),
    };
    try {
      const [gpuSession, cpuSession] = await Promise.all([engine.session(model), cpu.session(model)]);
      const [onGpu, onCpu] = await Promise.all([gpuSession.session.run(input), cpuSession.session.run(input)]);
      const name = Object.keys(onCpu)[0]!;
      const expected = Array.from(onCpu[name]!.data as Float32Array);
      Array.from(onGpu[name]!.data as Float32Array).forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 3));
      // Where a GPU adapter exists this session ran on it; everywhere else the fallback must say why.
      if (gpuSession.executionProvider === 'cpu')
        expect(warnings.join('\n')).toMatch(
          /"reason":"[^"]*adapter.*webgpu unavailable \(EXECUTION_PROVIDER=webgpu\); running on CPU/i,
        );
      else expect(warnings).toEqual([]);
      expect(engine.activeProvider).toBe(gpuSession.executionProvider);
    } finally {
      await cpu.dispose();
    }
  });
});
