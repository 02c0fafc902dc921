import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pino } from 'pino';
import { Services } from '../../src/app.js';
import { loadCommands } from '../../src/command/loader.js';
import type { Command } from '../../src/command/definition.js';
import type { ClassifyReport } from '../../commands/classify.js';
import { parseConfig } from '../../src/config/config.js';
import type { ort } from '../../src/inference/engine.js';
import { runCommand } from '../../src/command/run.js';
import { stack } from '../../src/inference/pipeline.js';
import { decodeImage, neededShorterSide, prepareDecoded } from '../../src/vision/preprocess.js';
import { vaderScores } from '../../src/text/vader.js';
import { concurrently, median, percentile, round, timeIt, withPeakRss } from './stats.js';

/**
 * sightread measured in-process on the benchmark models: /classify end to end against its
 * floor (one decode + the two raw session.run calls), concurrency 1/8/32 for each pipeline,
 * memory, and VADER. Prints one JSON object.
 */
const [benchDir, imagePath, tweetsPath] = process.argv.slice(2) as [string, string, string | undefined];
const rounds = Number(process.env.BENCH_ROUNDS ?? 12);
const config = parseConfig({
  MODELS_MANIFEST: join(benchDir, 'manifest.json'),
  MODELS_DIR: join(benchDir, '.lock'),
  MODEL_DOWNLOADS: 'false',
  EXECUTION_PROVIDER: 'cpu',
  ORT_INTRA_OP_THREADS: process.env.ORT_INTRA_OP_THREADS ?? '2',
  QUEUE_MAX: '256',
  LOG_LEVEL: 'silent',
});
const services = new Services(config, pino({ level: 'silent' }));
const commands = await loadCommands();
const image = { name: 'bench.jpg', bytes: readFileSync(imagePath) };
const results: Record<string, unknown> = {};

// Memory: everything the bot serves loaded and warm, against the size of the files it loaded.
const before = process.memoryUsage().rss / 1048576;
const status = await services.preload();
const loadedRssMb = process.memoryUsage().rss / 1048576;
const modelFiles = ['resnet-50', 'vit-base-patch16-224', 'clip-vit-base-patch32', 'distilbert-sst2'].flatMap((id) => {
  const entry = services.store.entry(id);
  return entry.files
    .filter((file) => file.precision === undefined || file.precision === services.precision)
    .map((file) => join(services.store.modelDir(entry), file.path));
});
const modelMb = modelFiles.reduce((sum, file) => sum + statSync(file).size, 0) / 1048576;
results.memory = {
  status,
  processBeforeModelsMb: round(before),
  loadedMb: round(loadedRssMb),
  modelFilesMb: round(modelMb),
  budgetMb: round(1.3 * modelMb + 300),
};

// /classify at concurrency 1: the pipeline's own stage timings and the floor measured right beside it.
const classify = commands.get('classify')!;
const cnn = (await services.vision.classifier(config.VISION_CNN_MODEL)).entry.preprocess!;
const vit = (await services.vision.classifier(config.VISION_VIT_MODEL)).entry.preprocess!;
const limits = {
  maxBytes: config.IMAGE_MAX_BYTES,
  maxPixels: config.IMAGE_MAX_PIXELS,
  decodeTimeoutMs: config.IMAGE_DECODE_TIMEOUT_MS,
};
/** A whole answer as Discord gets it: the report, then its embeds and images. */
const answer = async (command: Command, raw: Record<string, unknown>): Promise<unknown> =>
  command.toEmbeds(await runCommand(command, raw, services));
const cnnSession = (
  await services.engine.session(
    (await services.store.resolve(config.VISION_CNN_MODEL, services.precision)).weights.model!,
  )
).session;
const vitSession = (
  await services.engine.session(
    (await services.store.resolve(config.VISION_VIT_MODEL, services.precision)).weights.model!,
  )
).session;
const tensor = (size: number): ort.Tensor =>
  stack(
    Array.from({ length: size }, () => new Float32Array(3 * 224 * 224).map(() => Math.random() - 0.5)),
    [3, 224, 224],
  );
const one = tensor(1);
const stages: Array<Record<string, number>> = [];
const endToEnd: number[] = [];
const decodeOnly: number[] = [];
const rawCnn: number[] = [];
const rawVit: number[] = [];
const timed = async (samples: number[], fn: () => Promise<unknown>): Promise<void> => {
  const started = performance.now();
  await fn();
  samples.push(performance.now() - started);
};
// Interleaved, round by round, so machine noise hits the pipeline and its floor alike, and in
// alternating order, so neither always runs first (after the other has warmed or cooled the caches).
// Three times the rounds of the other figures: the ratio of two medians needs them.
const measureEndToEnd = async (keep: boolean): Promise<void> =>
  timed(keep ? endToEnd : [], async () => {
    const report = (await runCommand(classify, { image, model: 'both', top: 5 }, services)) as ClassifyReport;
    const renderStarted = performance.now();
    await classify.toEmbeds(report);
    const renderMs = performance.now() - renderStarted;
    if (keep)
      stages.push({
        decodeMs: report.decodeMs,
        cnnInferenceMs: report.results[0]!.timings.inferenceMs,
        vitInferenceMs: report.results[1]!.timings.inferenceMs,
        renderMs,
      });
  });
const measureFloor = async (keep: boolean): Promise<void> => {
  await timed(keep ? decodeOnly : [], async () => {
    const decoded = await decodeImage(image.bytes, limits, Math.max(neededShorterSide(cnn), neededShorterSide(vit)));
    await Promise.all([prepareDecoded(decoded, cnn), prepareDecoded(decoded, vit)]);
  });
  await timed(keep ? rawCnn : [], () => cnnSession.run({ pixel_values: one }));
  await timed(keep ? rawVit : [], () => vitSession.run({ pixel_values: one }));
};
for (let i = 0; i < rounds * 3 + 2; i += 1) {
  const keep = i >= 2;
  if (i % 2 === 0) {
    await measureEndToEnd(keep);
    await measureFloor(keep);
  } else {
    await measureFloor(keep);
    await measureEndToEnd(keep);
  }
}
const stage = (key: string): number => median(stages.map((s) => s[key]!));
results.classify = {
  precision: services.precision,
  endToEndMs: round(median(endToEnd)),
  floorMs: round(median(decodeOnly) + median(rawCnn) + median(rawVit)),
  decodeMs: round(median(decodeOnly)),
  rawCnnMs: round(median(rawCnn)),
  rawVitMs: round(median(rawVit)),
  stagesMs: {
    decode: round(stage('decodeMs')),
    cnnInference: round(stage('cnnInferenceMs')),
    vitInference: round(stage('vitInferenceMs')),
    render: round(stage('renderMs')),
  },
};

const texts = tweetsPath
  ? readFileSync(tweetsPath)
      .toString('latin1')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('\t').slice(2).join('\t'))
  : ['What a wonderful day!', 'This is the worst film I have seen.', 'Not bad at all.'];

/** Runs `total` requests with `concurrency` workers and reports latency, throughput, lag and RSS. */
async function load(
  command: Command,
  raw: () => Record<string, unknown>,
  concurrency: number,
  total: number,
): Promise<Record<string, number>> {
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const {
    result: { latencies, seconds },
    peakRssMb,
  } = await withPeakRss(() => concurrently(concurrency, total, () => answer(command, raw())));
  lag.disable();
  return {
    concurrency,
    requests: total,
    p50Ms: round(median(latencies)),
    p95Ms: round(percentile(latencies, 0.95)),
    perSecond: round(total / seconds, 2),
    eventLoopLagP99Ms: round(lag.percentile(99) / 1e6),
    peakRssMb: round(peakRssMb),
  };
}

let textIndex = 0;
const pipelines: Array<[string, Command, () => Record<string, unknown>, number]> = [
  ['classify', classify, () => ({ image, model: 'both', top: 5 }), 1],
  ['match', commands.get('match')!, () => ({ image, labels: 'dog, cat, bicycle, car, teapot' }), 1],
  ['sentiment', commands.get('sentiment')!, () => ({ text: texts[(textIndex += 1) % texts.length]! }), 4],
];
const concurrency: Record<string, unknown[]> = {};
for (const [name, command, raw, scale] of pipelines) {
  concurrency[name] = [];
  for (const c of [1, 8, 32]) concurrency[name]!.push(await load(command, raw, c, Math.max(c * 2, 16) * scale));
}
results.concurrency = concurrency;

// No growth over 1,000 requests: RSS after 100 and after 1,000 classify requests at concurrency 8.
const soak = Number(process.env.BENCH_SOAK ?? 1000);
if (soak > 0) {
  await load(classify, () => ({ image, model: 'both', top: 5 }), 8, 100);
  const at100 = process.memoryUsage().rss / 1048576;
  await load(classify, () => ({ image, model: 'both', top: 5 }), 8, soak - 100);
  results.soak = { requests: soak, rssAt100Mb: round(at100), rssAtEndMb: round(process.memoryUsage().rss / 1048576) };
}

// After the soak, so its batch-32 arenas do not count in sightread's memory figures. The floor for throughput: both raw sessions on pre-made batches, at the best batch size.
const rawBatches: Record<string, number> = {};
for (const size of [1, 8, 32]) {
  const batch = tensor(size);
  const t = await timeIt(
    async () => {
      await cnnSession.run({ pixel_values: batch });
      await vitSession.run({ pixel_values: batch });
    },
    size === 32 ? 2 : 4,
    1,
  );
  rawBatches[`batch${size}ImagesPerSecond`] = round((size * 1000) / median(t));
}
results.rawThroughput = rawBatches;

// VADER, single-threaded, on the tweets file (after one warm-up pass).
if (tweetsPath) {
  texts.forEach((text) => vaderScores(text));
  const passes: number[] = [];
  for (let pass = 0; pass < 5; pass += 1) {
    const started = performance.now();
    for (const text of texts) vaderScores(text);
    passes.push(texts.length / ((performance.now() - started) / 1000));
  }
  results.vader = {
    sentences: texts.length,
    sentencesPerSecond: round(median(passes), 0),
    passes: passes.map((rate) => round(rate, 0)),
  };
}

await services.dispose();
process.stdout.write(`${JSON.stringify(results)}\n`);
