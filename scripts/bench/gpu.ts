import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import sharp from 'sharp';
import classify from '../../commands/classify.js';
import { Services } from '../../src/app.js';
import { parseConfig } from '../../src/config/config.js';
import { PROJECT_ROOT as ROOT } from '../../src/util/paths.js';
import type { ExecutionProvider, ort } from '../../src/inference/engine.js';
import { runCommand } from '../../src/command/run.js';
import { stack } from '../../src/inference/pipeline.js';
import type { ImagePreprocess } from '../../src/models/manifest.js';
import type { ClassifyReport } from '../../commands/classify.js';
import { decodeImage, neededShorterSide, prepareDecoded } from '../../src/vision/preprocess.js';
import { concurrently, median, percentile, round, timeIt } from './stats.js';

/**
 * `npm run bench:gpu`, on a machine with a GPU: ResNet-50 and ViT-B/16 (the benchmark models)
 * on onnxruntime-node's WebGPU provider, against its CPU provider on the same machine (fp32, and
 * the int8 files the CPU normally runs) and PyTorch eager on CUDA: raw session.run at batch
 * 1/8/32, whether WebGPU's logits agree with the CPU's, and /classify end to end alone and under
 * 32 concurrent requests. Writes bench/results/gpu.json and gpu.md (or into the folder given).
 */
const [
  benchDir = join(ROOT, 'bench/models'),
  imagePath = join(ROOT, '..', 'shared/images/dog.jpg'),
  outDir = join(ROOT, 'bench/results'),
] = process.argv.slice(2);
const rounds = Number(process.env.BENCH_ROUNDS ?? 20);
for (const [what, path] of [
  ['benchmark models', join(benchDir, 'manifest.json')],
  ['photo', imagePath],
] as const) {
  if (!existsSync(path)) {
    process.stderr.write(
      `No ${what} at ${path}. Usage: npm run bench:gpu -- [models folder (npm run bench makes it)] [photo] [output folder]\n`,
    );
    process.exit(1);
  }
}
const image = { name: 'bench.jpg', bytes: readFileSync(imagePath) };
const models = { cnn: 'resnet-50', vit: 'vit-base-patch16-224' } as const;

/** Fixed inputs, the same for every provider, so their outputs can be compared. */
const inputs = (size: number, seed: number): ort.Tensor => {
  let state = seed;
  const next = (): number => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  return stack(
    Array.from({ length: size }, () => new Float32Array(3 * 224 * 224).map(next)),
    [3, 224, 224],
  );
};
const probe = inputs(8, 7);

interface Measured {
  setting: string;
  provider: ExecutionProvider;
  precision: string;
  loadMs: Record<string, number>;
  rawMs: Record<string, Record<string, number>>;
  rawImagesPerSecond: Record<string, number>;
  classify: { endToEndMs: number; floorMs: number; decodeMs: number; stagesMs: Record<string, number> };
  concurrent32: { requests: number; p50Ms: number; p95Ms: number; perSecond: number };
  logits: Record<string, Float32Array>;
}

async function measure(provider: string, precision: string, workers: string, batch: string): Promise<Measured> {
  const config = parseConfig({
    MODELS_MANIFEST: join(benchDir, 'manifest.json'),
    MODELS_DIR: join(benchDir, '.lock'),
    MODEL_DOWNLOADS: 'false',
    EXECUTION_PROVIDER: provider,
    MODEL_PRECISION: precision,
    ORT_INTRA_OP_THREADS: String(cpus().length),
    ORT_WORKERS: workers,
    BATCH_MAX_SIZE: batch,
    QUEUE_MAX: '256',
    LOG_LEVEL: 'warn',
  });
  const services = new Services(config, pino({ level: 'warn' }, process.stderr));
  const sessions = Object.fromEntries(
    await Promise.all(
      Object.entries(models).map(async ([role, id]) => {
        const path = (await services.store.resolve(id, services.precision)).weights.model!;
        return [role, await services.engine.session(path)] as const;
      }),
    ),
  );
  const cnn = sessions.cnn!;
  const vit = sessions.vit!;
  const run = (session: typeof cnn, batch: ort.Tensor): Promise<unknown> =>
    session.session.run({ pixel_values: batch });

  // The first runs on WebGPU compile its shaders: time them apart, as part of loading.
  const loadMs: Record<string, number> = {};
  for (const [role, loaded] of Object.entries(sessions)) {
    const started = performance.now();
    await run(loaded, inputs(1, 1));
    loadMs[role] = round(loaded.loadMs + performance.now() - started);
  }
  const rawMs: Measured['rawMs'] = { cnn: {}, vit: {} };
  const rawImagesPerSecond: Record<string, number> = {};
  for (const size of [1, 8, 32]) {
    const batch = inputs(size, size);
    const n = size === 32 ? Math.max(3, rounds / 4) : rounds;
    rawMs.cnn![`batch${size}`] = round(median(await timeIt(() => run(cnn, batch), n)));
    rawMs.vit![`batch${size}`] = round(median(await timeIt(() => run(vit, batch), n)));
    rawImagesPerSecond[`batch${size}`] = round(
      (size * 1000) / (rawMs.cnn![`batch${size}`]! + rawMs.vit![`batch${size}`]!),
      1,
    );
  }
  const logits: Record<string, Float32Array> = {};
  for (const [role, loaded] of Object.entries(sessions)) {
    const output = (await loaded.session.run({ pixel_values: probe })) as Record<string, ort.Tensor>;
    logits[role] = output.logits!.data as Float32Array;
  }

  const [cnnSpec, vitSpec] = (
    await Promise.all([services.vision.classifier(models.cnn), services.vision.classifier(models.vit)])
  ).map((classifier) => classifier.entry.preprocess!) as [ImagePreprocess, ImagePreprocess];
  const limits = {
    maxBytes: config.IMAGE_MAX_BYTES,
    maxPixels: config.IMAGE_MAX_PIXELS,
    decodeTimeoutMs: config.IMAGE_DECODE_TIMEOUT_MS,
  };
  const one = inputs(1, 3);
  const endToEnd: number[] = [];
  const floor: number[] = [];
  const decode: number[] = [];
  const stages: Array<Record<string, number>> = [];
  for (let i = 0; i < rounds + 2; i += 1) {
    let started = performance.now();
    const report = (await runCommand(classify, { image, model: 'both', top: 5 }, services)) as ClassifyReport;
    const renderStarted = performance.now();
    await classify.toEmbeds(report);
    const renderMs = performance.now() - renderStarted;
    const elapsed = performance.now() - started;
    started = performance.now();
    const decoded = await decodeImage(
      image.bytes,
      limits,
      Math.max(neededShorterSide(cnnSpec), neededShorterSide(vitSpec)),
    );
    await Promise.all([prepareDecoded(decoded, cnnSpec), prepareDecoded(decoded, vitSpec)]);
    const decodeMs = performance.now() - started;
    await run(cnn, one);
    await run(vit, one);
    if (i < 2) continue;
    endToEnd.push(elapsed);
    decode.push(decodeMs);
    floor.push(performance.now() - started);
    stages.push({
      decode: report.decodeMs,
      cnnInference: report.results[0]!.timings.inferenceMs,
      vitInference: report.results[1]!.timings.inferenceMs,
      render: renderMs,
    });
  }

  const total = 64;
  const { latencies, seconds } = await concurrently(32, total, async () =>
    classify.toEmbeds((await runCommand(classify, { image, model: 'both', top: 5 }, services)) as ClassifyReport),
  );
  await services.dispose();
  return {
    setting: [
      `${provider} ${precision}`,
      workers === '1' ? '' : `${workers} workers`,
      batch === '8' ? '' : `batches ≤ ${batch}`,
    ]
      .filter(Boolean)
      .join(', '),
    provider: cnn.executionProvider === vit.executionProvider ? cnn.executionProvider : 'cpu',
    precision: services.precision,
    loadMs,
    rawMs,
    rawImagesPerSecond,
    classify: {
      endToEndMs: round(median(endToEnd)),
      floorMs: round(median(floor)),
      decodeMs: round(median(decode)),
      stagesMs: Object.fromEntries(
        ['decode', 'cnnInference', 'vitInference', 'render'].map((key) => [
          key,
          round(median(stages.map((s) => s[key]!))),
        ]),
      ),
    },
    concurrent32: {
      requests: total,
      p50Ms: round(median(latencies)),
      p95Ms: round(percentile(latencies, 0.95)),
      perSecond: round(total / seconds, 1),
    },
    logits,
  };
}

/** Largest absolute difference of two logit sets, and how many of the probe images keep their top-1 class. */
function agreement(a: Float32Array, b: Float32Array, classes = 1000): { maxAbsDiff: number; top1: string } {
  let maxAbsDiff = 0;
  let same = 0;
  const images = a.length / classes;
  for (let i = 0; i < images; i += 1) {
    let bestA = 0;
    let bestB = 0;
    for (let c = 0; c < classes; c += 1) {
      const j = i * classes + c;
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a[j]! - b[j]!));
      if (a[j]! > a[i * classes + bestA]!) bestA = c;
      if (b[j]! > b[i * classes + bestB]!) bestB = c;
    }
    if (bestA === bestB) same += 1;
  }
  return { maxAbsDiff: round(maxAbsDiff, 5), top1: `${same}/${images}` };
}

/** A helper's output, or undefined (with the reason on stderr) where it is missing or fails. */
function tryRun(file: string, args: string[]): string | undefined {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  } catch (error) {
    process.stderr.write(`${file} failed: ${(error as Error).message.split('\n')[0]}\n`);
    return undefined;
  }
}

const gpu =
  tryRun('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader']) ??
  'GPU not identified (no nvidia-smi)';
// provider:precision:ORT_WORKERS:BATCH_MAX_SIZE, run in this order; BENCH_PYTORCH=0 leaves out the PyTorch peer.
const settings = (process.env.BENCH_GPU_SETTINGS ?? 'webgpu:fp32:1,cpu:fp32:1,cpu:q8:1')
  .split(',')
  .map((setting) => setting.split(':'));
const runs: Measured[] = [];
for (const [provider = 'webgpu', precision = 'fp32', workers = '1', batch = '8'] of settings)
  runs.push(await measure(provider, precision, workers, batch));
const webgpu = runs.find((run) => run.provider === 'webgpu');
const cpuFp32 = runs.find((run) => run.provider === 'cpu' && run.precision === 'fp32');
const logitAgreement =
  webgpu && cpuFp32
    ? Object.fromEntries(
        Object.keys(models).map((role) => [role, agreement(webgpu.logits[role]!, cpuFp32.logits[role]!)]),
      )
    : undefined;
const python = process.env.BENCH_PYTHON ?? 'python3';
const peerOutput =
  process.env.BENCH_PYTORCH === '0'
    ? undefined
    : tryRun(python, [join(ROOT, 'scripts/bench/pytorch_peer.py'), imagePath, String(rounds), 'cuda']);
const pytorch = (peerOutput ? JSON.parse(peerOutput.split('\n').at(-1)!) : {}) as Record<
  string,
  number | string | undefined
>;

const machine = {
  gpu,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  node: process.version,
  onnxruntime: '1.30.0',
  sharp: sharp.versions.sharp,
};
const results = { machine, runs: runs.map(({ logits: _logits, ...rest }) => rest), logitAgreement, pytorch };
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'gpu.json'), `${JSON.stringify(results, null, 1)}\n`);

const row = (cells: Array<string | number>): string => `| ${cells.join(' | ')} |`;
const md = [
  '# sightread on a GPU',
  '',
  `Machine: ${machine.gpu}; ${machine.cores} cores of ${machine.cpu}; Node ${machine.node}, onnxruntime-node ${machine.onnxruntime}, sharp ${machine.sharp}. Regenerated by \`npm run bench:gpu\`. Models: the benchmark models (real architectures, random weights). Medians of ${rounds} runs. The GPU runs through onnxruntime-node's WebGPU provider (bundled; Vulkan underneath); the CPU runs use every core.`,
  '',
  '## Raw session.run, ResNet-50 + ViT-B/16 (ms per batch)',
  '',
  row([
    'setting',
    'ran on',
    'first run (load + compile), CNN / ViT',
    'batch 1',
    'batch 8',
    'batch 32',
    'images/s at batch 1 / 8 / 32',
  ]),
  row(['---', '---', '---', '---', '---', '---', '---']),
  ...runs.map((r) =>
    row([
      r.setting,
      r.provider,
      `${r.loadMs.cnn} / ${r.loadMs.vit}`,
      ...[1, 8, 32].map((size) => `${r.rawMs.cnn![`batch${size}`]} + ${r.rawMs.vit![`batch${size}`]}`),
      [1, 8, 32].map((size) => r.rawImagesPerSecond[`batch${size}`]).join(' / '),
    ]),
  ),
  ...(pytorch.torch
    ? [
        row([
          `PyTorch ${pytorch.torch} eager, CUDA`,
          'cuda',
          '',
          `${round(Number(pytorch.resnetMs))} + ${round(Number(pytorch.vitMs))}`,
          '',
          `${round(Number(pytorch.resnetBatch32Ms))} + ${round(Number(pytorch.vitBatch32Ms))}`,
          '',
        ]),
      ]
    : []),
  '',
  ...(logitAgreement
    ? [
        `WebGPU against CPU fp32 on 8 fixed inputs: ResNet-50 max |Δlogit| ${logitAgreement.cnn!.maxAbsDiff}, same top-1 ${logitAgreement.cnn!.top1}; ViT-B/16 max |Δlogit| ${logitAgreement.vit!.maxAbsDiff}, same top-1 ${logitAgreement.vit!.top1}.`,
        '',
      ]
    : []),
  '## /classify (ms)',
  '',
  row([
    'setting',
    'end to end',
    'floor: decode + raw CNN + raw ViT',
    'ratio',
    'stages: decode / CNN / ViT / render',
    '32 concurrent: p50 / p95',
    'per second',
    'vs raw at best batch',
  ]),
  row(['---', '---', '---', '---', '---', '---', '---', '---']),
  ...runs.map((r) =>
    row([
      r.setting,
      r.classify.endToEndMs,
      r.classify.floorMs,
      `${round(r.classify.endToEndMs / r.classify.floorMs, 2)}×`,
      Object.values(r.classify.stagesMs).join(' / '),
      `${r.concurrent32.p50Ms} / ${r.concurrent32.p95Ms}`,
      r.concurrent32.perSecond,
      `${round(r.concurrent32.perSecond / Math.max(...Object.values(r.rawImagesPerSecond)), 2)}×`,
    ]),
  ),
  ...(pytorch.torch
    ? [
        row([
          'PyTorch eager, CUDA (PIL decode + both models)',
          round(Number(pytorch.classifyMs)),
          '',
          '',
          '',
          '',
          '',
          '',
        ]),
      ]
    : []),
  '',
].join('\n');
writeFileSync(join(outDir, 'gpu.md'), md);
process.stdout.write(md);
