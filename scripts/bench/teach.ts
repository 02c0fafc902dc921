import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import sharp from 'sharp';
import { Services } from '../../src/app.js';
import { parseConfig } from '../../src/config/config.js';
import { openJournal } from '../../src/journal/open.js';
import { median, round } from './stats.js';

/**
 * /teach's speed goals (issue 17), on the benchmark models (CLIP ViT-B/32's vision tower, the
 * default embedder) and the embedded database, in one process:
 *
 * - `/teach train` with 5 classes × 8 examples, the embeddings already stored: under 2 s
 *   (training, validation curves, leave-one-out and the examples-per-class curve included).
 * - `/teach classify` ÷ one CLIP image embedding of the same photo: at most 1.1×.
 *
 * The 40 examples are crops, flips and tints of the photos in `<imagesDir>` (each a different
 * image, so none is refused as a duplicate). `node … scripts/bench/teach.ts <benchDir> <imagesDir> [rounds]`.
 */
const [benchDir, imagesDir, roundsArg] = process.argv.slice(2) as [string, string, string | undefined];
const rounds = Number(roundsArg ?? 10);
const dataDir = mkdtempSync(join(tmpdir(), 'sightread-bench-teach-'));
const config = parseConfig({
  MODELS_MANIFEST: join(benchDir, 'manifest.json'),
  MODELS_DIR: join(benchDir, '.lock'),
  MODEL_DOWNLOADS: 'false',
  EXECUTION_PROVIDER: 'cpu',
  CLIP_MODEL: 'clip-vit-base-patch32',
  DATA_DIR: dataDir,
  LOG_LEVEL: 'silent',
});
const logger = pino({ level: 'silent' });
const { database } = await openJournal(config, { logger });
const services = new Services(config, logger, { database });
const guild = '1200000000000000001';

const photos = readdirSync(imagesDir)
  .filter((name) => /\.(jpe?g|png)$/i.test(name))
  .sort()
  .map((name) => readFileSync(join(imagesDir, name)));
/** The n-th variant of a photo: a different crop, mirror and tint each time. */
async function variant(n: number): Promise<Buffer> {
  const photo = photos[n % photos.length]!;
  const { width = 256, height = 256 } = await sharp(photo).metadata();
  const side = Math.floor(Math.min(width, height) * (0.6 + 0.05 * (n % 7)));
  return sharp(photo)
    .extract({ left: (n * 13) % (width - side + 1), top: (n * 7) % (height - side + 1), width: side, height: side })
    .flop(n % 2 === 1)
    .modulate({ hue: (n * 25) % 360 })
    .jpeg({ quality: 90 })
    .toBuffer();
}

const teach = services.teach;
for (let index = 0; index < 40; index += 1) {
  await teach.add(guild, `class ${index % 5}`, { name: `example-${index}.jpg`, bytes: await variant(index) });
}
await teach.train(guild); // warm-up
const trainMs: number[] = [];
for (let i = 0; i < Math.max(3, Math.round(rounds / 2)); i += 1) {
  const started = performance.now();
  await teach.train(guild);
  trainMs.push(performance.now() - started);
}

// /teach classify against a CLIP image embedding of the same photo, alternating.
const probe = await variant(1000);
const embedder = config.TEACH_EMBEDDER;
await services.vision.embedImage(probe, embedder);
await teach.classify(guild, { name: 'probe.jpg', bytes: probe });
const classifyMs: number[] = [];
const embedMs: number[] = [];
for (let i = 0; i < rounds; i += 1) {
  const order = i % 2 === 0 ? ['classify', 'embed'] : ['embed', 'classify'];
  for (const which of order) {
    const started = performance.now();
    if (which === 'classify') await teach.classify(guild, { name: 'probe.jpg', bytes: probe });
    else await services.vision.embedImage(probe, embedder);
    (which === 'classify' ? classifyMs : embedMs).push(performance.now() - started);
  }
}
const embedderId = (await services.vision.embedder(embedder)).id;
await services.dispose();
await database.close();
rmSync(dataDir, { recursive: true, force: true });
const result = {
  rounds,
  embedder: embedderId,
  train5x8Ms: round(median(trainMs)),
  classifyMs: round(median(classifyMs)),
  embedMs: round(median(embedMs)),
  classifyRatio: round(median(classifyMs) / median(embedMs), 3),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
