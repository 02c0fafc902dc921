import { pino } from 'pino';
import { Services } from './src/app.ts';
import { parseConfig } from './src/config.ts';
import { ort } from './src/inference/engine.ts';
import { stack } from './src/vision/classifier.ts';
const services = new Services(parseConfig({ MODELS_MANIFEST: 'bench/models/manifest.json', MODELS_DIR: 'bench/models/.lock', MODEL_DOWNLOADS: 'false', EXECUTION_PROVIDER: 'cpu', ORT_INTRA_OP_THREADS: '2', LOG_LEVEL: 'silent' }), pino({ level: 'silent' }));
const rss = () => (process.memoryUsage().rss / 1048576).toFixed(0);
console.log('start', rss());
await services.preload(); console.log('loaded', rss());
const vs = (await services.engine.session((await services.store.resolve('vit-base-patch16-224','q8')).weights.model!)).session;
for (const b of [1, 8, 32]) { const x = stack(Array.from({length: b}, () => new Float32Array(3*224*224)), [3,224,224]); const t = performance.now(); await vs.run({ pixel_values: x }); console.log('vit batch', b, (performance.now()-t).toFixed(0), 'ms rss', rss()); }
await services.dispose();
