import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { median, round } from './stats.js';

/**
 * Could two cores run two of an experiment's images at once, faster than one session using both
 * cores on each image in turn? The stress test's and Hide patches' floors are 11 and 5 single runs
 * of each int8 model (they quantize at run time, so each input runs alone: pipeline.ts); this
 * measures per-image time three ways for each model, on random 224×224 inputs:
 *
 * - `twoThreads`: one session, intraOpNumThreads 2 (the bot's default on this machine), in turn;
 * - `oneThread`: one session, intraOpNumThreads 1, in turn;
 * - `twoWorkers`: two worker threads, each with its own 1-thread session, half the images each.
 *
 * `npx tsx scripts/bench/parallel-runs.ts <benchDir> [images]`; prints one JSON line. Not part of
 * `npm run bench`: it answers one question for bench/lab.md.
 */
interface Job {
  file: string;
  threads: number;
}

/**
 * Each worker's 1-thread session, as plain CommonJS evaluated in the thread: a worker thread does
 * not inherit tsx's loader, so it cannot load this TypeScript file.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require('onnxruntime-node');
(async () => {
  const session = await ort.InferenceSession.create(workerData.file, {
    intraOpNumThreads: workerData.threads,
    graphOptimizationLevel: 'all',
  });
  const feeds = () => ({
    [session.inputNames[0]]: new ort.Tensor('float32', Float32Array.from({ length: 3 * 224 * 224 }, Math.random), [1, 3, 224, 224]),
  });
  await session.run(feeds());
  parentPort.postMessage('ready');
  parentPort.on('message', async (images) => {
    for (let image = 0; image < images; image += 1) await session.run(feeds());
    parentPort.postMessage('done');
  });
})();
`;

async function sessionRunner({ file, threads }: Job): Promise<(images: number) => Promise<void>> {
  const session = await ort.InferenceSession.create(file, {
    intraOpNumThreads: threads,
    graphOptimizationLevel: 'all',
  });
  const feeds = (): Record<string, ort.Tensor> => ({
    [session.inputNames[0]!]: new ort.Tensor(
      'float32',
      Float32Array.from({ length: 3 * 224 * 224 }, Math.random),
      [1, 3, 224, 224],
    ),
  });
  await session.run(feeds());
  return async (images) => {
    for (let image = 0; image < images; image += 1) await session.run(feeds());
  };
}

const [benchDir, imagesArg] = process.argv.slice(2) as [string, string | undefined];
const images = Number(imagesArg ?? 8);
const rounds = 3;
const startWorker = (file: string): Promise<Worker> =>
  new Promise((resolve) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, threads: 1 } satisfies Job });
    worker.once('message', () => resolve(worker));
  });
const runOn = (worker: Worker, count: number): Promise<void> =>
  new Promise((resolve) => {
    worker.once('message', () => resolve());
    worker.postMessage(count);
  });
const timePerImage = async (work: () => Promise<unknown>): Promise<number> => {
  const started = performance.now();
  await work();
  return (performance.now() - started) / images;
};
const results: Record<string, { twoThreadsMs: number; oneThreadMs: number; twoWorkersMs: number; gain: number }> = {};
for (const id of ['resnet-50', 'vit-base-patch16-224']) {
  const file = join(benchDir, id, 'onnx', 'model_quantized.onnx');
  const twoThreads = await sessionRunner({ file, threads: 2 });
  const oneThread = await sessionRunner({ file, threads: 1 });
  const workers = [await startWorker(file), await startWorker(file)] as const;
  const times = { twoThreads: [] as number[], oneThread: [] as number[], twoWorkers: [] as number[] };
  // Interleaved round by round, so that the machine's drift falls on all three alike.
  for (let pass = 0; pass < rounds; pass += 1) {
    times.twoThreads.push(await timePerImage(() => twoThreads(images)));
    times.oneThread.push(await timePerImage(() => oneThread(images)));
    times.twoWorkers.push(await timePerImage(() => Promise.all(workers.map((worker) => runOn(worker, images / 2)))));
  }
  await Promise.all(workers.map((worker) => worker.terminate()));
  results[id] = {
    twoThreadsMs: round(median(times.twoThreads), 1),
    oneThreadMs: round(median(times.oneThread), 1),
    twoWorkersMs: round(median(times.twoWorkers), 1),
    gain: round(median(times.twoThreads) / median(times.twoWorkers), 2),
  };
}
process.stdout.write(`${JSON.stringify({ images, rounds, results })}\n`);
