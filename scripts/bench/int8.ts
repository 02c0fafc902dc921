import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { Services } from '../../src/app.js';
import { parseConfig } from '../../src/config/config.js';
import { ort } from '../../src/inference/engine.js';
import { loadTokenizer, tokenize } from '../../src/inference/tokenizer.js';
import { stack } from '../../src/inference/pipeline.js';
import { median, round } from './stats.js';

/**
 * int8 against fp32 in a process of its own: raw session.run latency of ViT-B/16 and DistilBERT
 * with the bot's session options, and top-1 agreement on fixed inputs. Prints one JSON object.
 */
const [benchDir, tweetsPath] = process.argv.slice(2) as [string, string | undefined];
const rounds = Number(process.env.BENCH_ROUNDS ?? 12);
const services = new Services(
  parseConfig({
    MODELS_MANIFEST: join(benchDir, 'manifest.json'),
    MODELS_DIR: join(benchDir, '.lock'),
    MODEL_DOWNLOADS: 'false',
    EXECUTION_PROVIDER: 'cpu',
    LOG_LEVEL: 'silent',
  }),
  pino({ level: 'silent' }),
);
const texts = tweetsPath
  ? readFileSync(tweetsPath)
      .toString('latin1')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('\t').slice(2).join('\t'))
  : ['What a wonderful day!', 'This is the worst film I have seen.', 'Not bad at all.'];
const one = stack([new Float32Array(3 * 224 * 224).map(() => Math.random() - 0.5)], [3, 224, 224]);
const timed = async (samples: number[], fn: () => Promise<unknown>): Promise<void> => {
  const started = performance.now();
  await fn();
  samples.push(performance.now() - started);
};

// The models themselves, on sessions with the bot's options run right here: without the
// worker hop, a fixed cost per call that is not the model's.
async function sessionFor(id: string, precision: 'fp32' | 'q8', part = 'model'): Promise<ort.InferenceSession> {
  const resolved = await services.store.resolve(id, precision);
  return ort.InferenceSession.create(resolved.weights[part]!, services.engine.sessionOptions('cpu'));
}
const ids = (n: number): Record<string, ort.Tensor> => ({
  input_ids: new ort.Tensor(
    'int64',
    BigInt64Array.from({ length: n }, (_, i) => BigInt(1000 + ((i * 37) % 20000))),
    [1, n],
  ),
  attention_mask: new ort.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]),
});
const quantization: Record<string, unknown> = {};
const vitFp32 = await sessionFor('vit-base-patch16-224', 'fp32');
const vitQ8 = await sessionFor('vit-base-patch16-224', 'q8');
const bertFp32 = await sessionFor('distilbert-sst2', 'fp32');
const bertQ8 = await sessionFor('distilbert-sst2', 'q8');
for (const [label, fp32, q8, feeds] of [
  ['vit-base-patch16-224', vitFp32, vitQ8, () => ({ pixel_values: one })],
  ['distilbert-sst2 (32 tokens)', bertFp32, bertQ8, () => ids(32)],
  ['distilbert-sst2 (128 tokens)', bertFp32, bertQ8, () => ids(128)],
] as const) {
  const f = feeds();
  const fp32Samples: number[] = [];
  const q8Samples: number[] = [];
  await fp32.run(f);
  await q8.run(f);
  for (let i = 0; i < rounds; i += 1) {
    await timed(fp32Samples, () => fp32.run(f));
    await timed(q8Samples, () => q8.run(f));
  }
  const tf = median(fp32Samples);
  const tq = median(q8Samples);
  quantization[label] = { fp32Ms: round(tf), q8Ms: round(tq), speedup: round(tf / tq, 2) };
}
const argmax = (data: Float32Array): number =>
  data.reduce((best, value, index) => (value > data[best]! ? index : best), 0);
let imageAgree = 0;
const imageSet = Array.from({ length: 16 }, (_, i) =>
  stack([new Float32Array(3 * 224 * 224).map((_, j) => Math.sin(i * 0.7 + j * 0.001) * 1.5)], [3, 224, 224]),
);
for (const input of imageSet) {
  const a = (await vitFp32.run({ pixel_values: input })).logits!.data as Float32Array;
  const b = (await vitQ8.run({ pixel_values: input })).logits!.data as Float32Array;
  if (argmax(a) === argmax(b)) imageAgree += 1;
}
const tokenizer = await loadTokenizer(services.store.modelDir(services.store.entry('distilbert-sst2')));
let textAgree = 0;
const textSet = texts.slice(0, 200);
for (const text of textSet) {
  const encoded = tokenize(tokenizer, [text], 128);
  const feeds = { input_ids: encoded.ids, attention_mask: encoded.mask };
  const a = (await bertFp32.run(feeds)).logits!.data as Float32Array;
  const b = (await bertQ8.run(feeds)).logits!.data as Float32Array;
  if (argmax(a) === argmax(b)) textAgree += 1;
}
quantization.top1Agreement = { images: `${imageAgree}/${imageSet.length}`, texts: `${textAgree}/${textSet.length}` };
await Promise.all([vitFp32, vitQ8, bertFp32, bertQ8].map((session) => session.release()));
process.stdout.write(`${JSON.stringify(quantization)}\n`);
