import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { Services } from './src/app.ts';
import { parseConfig } from './src/config.ts';
import { decodeImage, prepareDecoded } from './src/vision/preprocess.ts';
import { renderChart, PALETTE } from './src/render/chart.ts';
import { patchGrid, renderPatchGrid } from './src/vision/patches.ts';
const services = new Services(parseConfig({ MODELS_MANIFEST: 'bench/models/manifest.json', MODELS_DIR: 'bench/models/.lock', MODEL_DOWNLOADS: 'false', EXECUTION_PROVIDER: 'cpu', ORT_INTRA_OP_THREADS: '2', LOG_LEVEL: 'silent' }), pino({ level: 'silent' }));
const bytes = readFileSync('../shared/images/dog.jpg');
const cnn = await services.imageClassifier('resnet-50'); const vit = await services.imageClassifier('vit-base-patch16-224');
async function once(mode: string) {
  const t0 = performance.now();
  const decoded = await decodeImage(bytes, services.limits, 256);
  const t1 = performance.now();
  const patch = mode.includes('patch') ? prepareDecoded(decoded, vit.spec).then(p => renderPatchGrid(p.rgb, patchGrid({width:224,height:224},16))) : Promise.resolve();
  const [a, b] = await Promise.all([cnn.classify(decoded, 5), vit.classify(decoded, 5)]);
  const t2 = performance.now();
  if (mode.includes('chart')) await renderChart({ thumbnail: a.image.rgb, panels: [a, b].map(r => ({ heading: r.model.id, subtitle: 'x', bars: r.predictions, color: PALETTE.cnn })) });
  await patch;
  const t3 = performance.now();
  return [t1 - t0, t2 - t1, t3 - t2, t3 - t0];
}
for (const mode of ['none', 'patch', 'chart', 'patch+chart']) {
  const runs = []; for (let i = 0; i < 10; i++) runs.push(await once(mode));
  const med = (k: number) => runs.map(r => r[k]).sort((x, y) => x - y)[5].toFixed(1);
  console.log(mode.padEnd(12), 'decode', med(0), 'infer', med(1), 'after', med(2), 'total', med(3));
}
await services.dispose();
