import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { env, pipeline, RawImage } from '@huggingface/transformers';
import { median, round, timeIt } from './stats.js';

/**
 * The transformers.js peer: its own image-classification pipelines on the same benchmark
 * models (q8 files, CPU), from bytes to top-5, the way a transformers.js bot would run them.
 */
const [benchDir, imagePath] = process.argv.slice(2) as [string, string];
const rounds = Number(process.env.BENCH_ROUNDS ?? 12);
env.allowRemoteModels = false;
env.localModelPath = `${resolve(benchDir)}/`;
const options = {
  dtype: 'q8',
  device: 'cpu',
  session_options: { intraOpNumThreads: Number(process.env.ORT_INTRA_OP_THREADS ?? 2), interOpNumThreads: 1 },
} as const;
const cnn = await pipeline('image-classification', 'resnet-50', options);
const vit = await pipeline('image-classification', 'vit-base-patch16-224', options);
const bytes = readFileSync(imagePath);
const samples = await timeIt(async () => {
  const image = await RawImage.fromBlob(new Blob([bytes]));
  await cnn(image, { top_k: 5 });
  await vit(image, { top_k: 5 });
}, rounds);
process.stdout.write(`${JSON.stringify({ classifyMs: round(median(samples)) })}\n`);
