import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { pino } from 'pino';
import { Services } from '../../src/app.js';
import { loadCommands } from '../../src/command/loader.js';
import { runCommand } from '../../src/command/run.js';
import { parseConfig } from '../../src/config/config.js';
import { median, round } from './stats.js';

/**
 * The lab's experiments against a plain /classify of the same image, both models, in the same
 * process and run, each command computed and drawn (report + embeds, as a reply): the issue's
 * goals are ratios (Where did it look? ≤ 1.3×, Stress test ≤ 5×, Hide patches ≤ 3×). The four
 * are measured in turn, round after round, so that the machine's drift falls on all alike.
 *
 * `node … scripts/bench/lab.ts <benchDir> <image> [rounds]`; prints one JSON line.
 */
const [benchDir, imagePath, roundsArg] = process.argv.slice(2) as [string, string, string | undefined];
const rounds = Number(roundsArg ?? 8);
const config = parseConfig({
  MODELS_MANIFEST: join(benchDir, 'manifest.json'),
  MODELS_DIR: join(benchDir, '.lock'),
  MODEL_DOWNLOADS: 'false',
  EXECUTION_PROVIDER: 'cpu',
  ORT_INTRA_OP_THREADS: process.env.ORT_INTRA_OP_THREADS ?? '2',
  // The bot's default cap: an experiment's variants leave as one batch whatever it is.
  BATCH_MAX_SIZE: process.env.BATCH_MAX_SIZE ?? '8',
  QUEUE_MAX: '256',
  LOG_LEVEL: 'silent',
});
const services = new Services(config, pino({ level: 'silent' }));
const commands = await loadCommands();
const image = { name: 'bench.jpg', bytes: readFileSync(imagePath) };
await services.preload();

const experiments = ['classify', 'saliency', 'stress', 'mask'] as const;
type Experiment = (typeof experiments)[number];
const times: Record<Experiment, number[]> = { classify: [], saliency: [], stress: [], mask: [] };
/** Of each time, drawing the reply (toEmbeds: charts, overlays, PNG encoding) on the main thread. */
const drawing: Record<Experiment, number[]> = { classify: [], saliency: [], stress: [], mask: [] };
for (let round = -1; round < rounds; round += 1) {
  // Rotated each round, so that no experiment always runs right after another.
  const order = experiments.map((_, index) => experiments[(index + Math.max(round, 0)) % experiments.length]!);
  for (const name of order) {
    const command = commands.get(name);
    if (!command) throw new Error(`no /${name} command`);
    const started = performance.now();
    const report = await runCommand(command, { image, model: 'both' }, services);
    const computed = performance.now();
    await command.toEmbeds(report as never);
    if (round >= 0) {
      times[name].push(performance.now() - started);
      drawing[name].push(performance.now() - computed);
    }
  }
}
await services.dispose();
const classifyMs = median(times.classify);

/**
 * The floor under the stress and mask ratios: the two models' int8 sessions alone (onnxruntime,
 * no decoding, no variants, no drawing) against a /classify of the whole pipeline. Both int8
 * files quantize at run time, so the pipeline runs each variant alone (pipeline.ts): the floor is
 * 11 (or 5) single runs. One batch of 11 is timed too: on a CPU it costs about as many single
 * runs, so batching would not lower the floor either.
 */
async function sessionMs(path: string, batch: number, runs: number): Promise<number> {
  const session = await ort.InferenceSession.create(path, {
    intraOpNumThreads: config.ORT_INTRA_OP_THREADS,
    graphOptimizationLevel: 'all',
  });
  const input = new ort.Tensor('float32', Float32Array.from({ length: batch * 3 * 224 * 224 }, Math.random), [
    batch,
    3,
    224,
    224,
  ]);
  const feeds = { [session.inputNames[0]!]: input };
  await session.run(feeds);
  const times: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const started = performance.now();
    await session.run(feeds);
    times.push(performance.now() - started);
  }
  await session.release();
  return median(times);
}
const int8Files = ['resnet-50', 'vit-base-patch16-224'].map((id) => join(benchDir, id, 'onnx', 'model_quantized.onnx'));
const sessions = { batch1: 0, batch11: 0 };
for (const file of int8Files) {
  sessions.batch1 += await sessionMs(file, 1, 7);
  sessions.batch11 += await sessionMs(file, 11, 3);
}
const ratio = (name: 'saliency' | 'stress' | 'mask'): { ms: number; ratio: number; drawMs: number } => ({
  ms: round(median(times[name])),
  ratio: round(median(times[name]) / classifyMs, 2),
  drawMs: round(median(drawing[name])),
});
process.stdout.write(
  `${JSON.stringify({
    rounds,
    precision: services.precision,
    batchMaxSize: config.BATCH_MAX_SIZE,
    classifyMs: round(classifyMs),
    classifyDrawMs: round(median(drawing.classify)),
    saliency: ratio('saliency'),
    stress: ratio('stress'),
    mask: ratio('mask'),
    sessionsOnly: {
      batch1Ms: round(sessions.batch1),
      batch11Ms: round(sessions.batch11),
      batch11PerSingle: round(sessions.batch11 / sessions.batch1, 2),
      stressFloor: round((11 * sessions.batch1) / classifyMs, 2),
      maskFloor: round((5 * sessions.batch1) / classifyMs, 2),
    },
  })}\n`,
);
