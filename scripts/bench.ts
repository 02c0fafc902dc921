import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import sharp from 'sharp';
import { renderBenchChart, type BenchBar } from '../src/render/bench-chart.js';

/**
 * `npm run bench`: generates the random-weight benchmark models if needed, measures sightread
 * and its peers in separate processes on the same machine, and writes bench/results/
 * (results.json, results.md, chart.png). Absolute times on shared machines are noisy: read the ratios.
 */
const ROOT = resolve(import.meta.dirname, '..');
const BENCH = join(ROOT, 'bench/models');
const OUT = join(ROOT, 'bench/results');
const SHARED = resolve(ROOT, '..', 'shared');
const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3';

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

if (!existsSync(join(BENCH, 'manifest.json'))) {
  log('generating the benchmark models (python3-torch, python3-torchvision, python3-onnx, libopenblas0-openmp)…');
  const generated = spawnSync(PYTHON, [join(ROOT, 'scripts/bench/make_models.py')], { stdio: 'inherit' });
  if (generated.status !== 0) {
    process.stderr.write(
      'Could not generate bench/models. Install: apt-get install python3-torch python3-torchvision python3-onnx libopenblas0-openmp\n',
    );
    process.exit(1);
  }
}

let image = join(SHARED, 'images/dog.jpg');
const tweets = join(SHARED, 'data/vader-icwsm2014/tweets_GroundTruth.txt');
if (!existsSync(image)) {
  mkdirSync(OUT, { recursive: true });
  image = join(OUT, 'synthetic.jpg');
  const noise = Buffer.alloc(1024 * 768 * 3);
  for (let i = 0; i < noise.length; i += 1) noise[i] = (i * 2654435761) % 251;
  await sharp(noise, { raw: { width: 1024, height: 768, channels: 3 } })
    .jpeg()
    .toFile(image);
}

// Measured code runs compiled, as `npm start` runs the bot: dist/ for the bot, bench/dist/ for the
// in-process scripts (tsx's helpers would add their own cost to the pipelines' JavaScript).
log('building dist/ and bench/dist/…');
execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
rmSync(join(ROOT, 'bench/dist'), { recursive: true, force: true });
execFileSync(
  process.execPath,
  [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.bench.json')],
  { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] },
);

function child(script: string, args: string[]): Record<string, unknown> {
  log(`running ${script}…`);
  const compiled = join(ROOT, 'bench/dist', script.replace(/\.ts$/, '.js'));
  const entry = existsSync(compiled) ? ['--enable-source-maps', compiled] : ['--import', 'tsx', join(ROOT, script)];
  const output = execFileSync(process.execPath, [...entry, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 16 << 20,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(output.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

/**
 * The CPU's vector extensions that int8 speed depends on (AVX-512 VNNI multiplies 8-bit integers
 * in one instruction; AVX2 alone does not): the model name ("AMD EPYC") does not tell them apart.
 */
const simd = (): string => {
  const flags = new Set(
    (
      /^flags\s*:\s*(.*)$/m.exec(existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '')?.[1] ?? ''
    ).split(' '),
  );
  const found = ['avx2', 'avx512f', 'avx512_vnni', 'avx_vnni'].filter((flag) => flags.has(flag));
  return found.length > 0 ? found.join(' ') : 'unknown';
};

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  simd: simd(),
  cores: cpus().length,
  memoryGb: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  onnxruntime: '1.30.0',
  sharp: sharp.versions.sharp,
};
const sightread = child('scripts/bench/sightread.ts', [BENCH, image, ...(existsSync(tweets) ? [tweets] : [])]) as {
  classify: {
    endToEndMs: number;
    floorMs: number;
    decodeMs: number;
    rawCnnMs: number;
    rawVitMs: number;
    stagesMs: Record<string, number>;
  };
  rawThroughput: Record<string, number>;
  concurrency: Record<string, Array<Record<string, number>>>;
  memory: { loadedMb: number; modelFilesMb: number; budgetMb: number };
  soak?: { requests: number; rssAt100Mb: number; rssAtEndMb: number };
  vader?: { sentencesPerSecond: number };
};
const quantization = child('scripts/bench/int8.ts', [BENCH, ...(existsSync(tweets) ? [tweets] : [])]) as Record<
  string,
  { fp32Ms: number; q8Ms: number; speedup: number } | Record<string, string>
>;
const transformersjs = child('scripts/bench/transformersjs.ts', [BENCH, image]) as { classifyMs: number };
const discord = child('scripts/bench/discord.ts', [BENCH, image]) as {
  ackMaxMs: number;
  eventLoopLagP99Ms: number;
  eventLoopLagSamples: number;
  finalP50Ms: number;
  finalP95Ms: number;
  answered: number;
  interactions: number;
  coldStartMs: number;
  loadedRssMb: number;
  peakRssUnderLoadMb: number;
};
const classroom = child('scripts/bench/classroom.ts', [BENCH, image, process.env.BENCH_CLASSROOM_ROUNDS ?? '30']) as {
  journalOverhead: Record<'sentiment' | 'classify', { ratio: number; withJournalMs: number; withoutMs: number }>;
  loadedRss: { withJournalMb: number; withoutMb: number };
  classroom: {
    sentiment40: { answered: number; slowestAckMs: number; slowestAnswerMs: number };
    classify40Across4Servers: {
      answered: number;
      slowestAckMs: number;
      slowestAnswerMs: number;
      everyFirstBeforeAnyFifth: boolean;
    };
  };
  http200: { acknowledged: number; slowestAckMs: number; answered: number };
};
const lab = child('scripts/bench/lab.ts', [BENCH, image, process.env.BENCH_LAB_ROUNDS ?? '8']) as {
  precision: string;
  classifyMs: number;
  saliency: { ms: number; ratio: number };
  stress: { ms: number; ratio: number };
  mask: { ms: number; ratio: number };
  sessionsOnly: { stressFloor: number; maskFloor: number };
};
type LabDiscordSummary = {
  requests: number;
  answered: number;
  slowestAckMs: number;
  slowestAnswerMs: number;
  inline: number;
  withProgress: number;
};
const labDiscord = child('scripts/bench/lab-discord.ts', [BENCH, image, process.env.BENCH_LAB_CLASS ?? '8']) as {
  classSize: number;
  experiments: Record<'saliency' | 'stress' | 'mask', { alone: LabDiscordSummary; atOnce: LabDiscordSummary }>;
  sharedButton: {
    presses: number;
    runs: number;
    answered: number;
    pointedPrivately: number;
    slowestPointerMs: number;
    answerMs: number;
  };
};
// /teach's examples are variants of the photos beside the image (or of the synthetic one).
const teach = child('scripts/bench/teach.ts', [BENCH, dirname(image), process.env.BENCH_TEACH_ROUNDS ?? '10']) as {
  embedder: string;
  train5x8Ms: number;
  classifyMs: number;
  embedMs: number;
  classifyRatio: number;
};
const queue = child('scripts/bench/queue.ts', [
  BENCH,
  image,
  process.env.BENCH_QUEUE_ROUNDS ?? '20',
  process.env.BENCH_QUEUE_BURST ?? '24',
]) as
  | { skipped: string }
  | {
      oneWorker: { singleProcessMs: number; throughRedisMs: number; ratio: number };
      twoWorkers: { burst: number; threadsEach: number; oneWorkerMs: number; twoWorkersMs: number; speedup: number };
    };
log('running the PyTorch peer…');
const python = spawnSync(
  PYTHON,
  [join(ROOT, 'scripts/bench/pytorch_peer.py'), image, process.env.BENCH_ROUNDS ?? '12'],
  { encoding: 'utf8' },
);
const pytorch =
  python.status === 0
    ? (JSON.parse(python.stdout.trim().split('\n').at(-1)!) as {
        classifyMs: number;
        resnetMs: number;
        vitMs: number;
        distilbert32Ms: number;
      })
    : undefined;

const c = sightread.classify;
const classify32 = sightread.concurrency.classify!.find((row) => row.concurrency === 32)!;
const bestRaw = Math.max(...Object.values(sightread.rawThroughput));
const q = quantization as Record<string, { speedup: number; fp32Ms: number; q8Ms: number }>;
const agreement = quantization.top1Agreement as unknown as { images: string; texts: string };
const fmt = (value: number, digits = 2): string => value.toFixed(digits);
const goals: Array<[string, string, string, boolean]> = [
  [
    '/classify end to end ÷ (decode + raw CNN run + raw ViT run), concurrency 1',
    '≤ 1.10×',
    `${fmt(c.endToEndMs / c.floorMs)}× (${c.endToEndMs} ms vs ${c.floorMs} ms)`,
    c.endToEndMs / c.floorMs <= 1.1,
  ],
  [
    'transformers.js pipelines ÷ sightread /classify',
    '≥ 1.3×',
    `${fmt(transformersjs.classifyMs / c.endToEndMs)}× (${transformersjs.classifyMs} ms)`,
    transformersjs.classifyMs / c.endToEndMs >= 1.3,
  ],
  [
    'PyTorch eager (2 threads) ÷ sightread /classify',
    '≥ 1.25×',
    pytorch ? `${fmt(pytorch.classifyMs / c.endToEndMs)}× (${fmt(pytorch.classifyMs, 1)} ms)` : 'not measured',
    pytorch ? pytorch.classifyMs / c.endToEndMs >= 1.25 : false,
  ],
  [
    'ViT-B/16 int8 speed-up over fp32',
    '≥ 2.5×',
    `${fmt(q['vit-base-patch16-224']!.speedup)}×`,
    q['vit-base-patch16-224']!.speedup >= 2.5,
  ],
  [
    'DistilBERT int8 speed-up over fp32 (32 / 128 tokens)',
    '≥ 2.5×',
    `${fmt(q['distilbert-sst2 (32 tokens)']!.speedup)}× / ${fmt(q['distilbert-sst2 (128 tokens)']!.speedup)}×`,
    q['distilbert-sst2 (32 tokens)']!.speedup >= 2.5 && q['distilbert-sst2 (128 tokens)']!.speedup >= 2.5,
  ],
  [
    '32 concurrent /classify on Discord: slowest acknowledgement',
    '≤ 1000 ms',
    `${discord.ackMaxMs} ms (${discord.answered}/${discord.interactions} answered)`,
    discord.ackMaxMs <= 1000,
  ],
  [
    '32 concurrent /classify on Discord: event-loop lag p99 during the load',
    '< 100 ms',
    `≤ ${fmt(discord.eventLoopLagP99Ms, 0)} ms (histogram bucket)`,
    discord.eventLoopLagP99Ms < 100,
  ],
  [
    'The journal (embedded PGlite) on /sentiment through Discord, one at a time: with ÷ without',
    '≤ 1.05×',
    `${fmt(classroom.journalOverhead.sentiment.ratio)}× (${classroom.journalOverhead.sentiment.withJournalMs} vs ${classroom.journalOverhead.sentiment.withoutMs} ms)`,
    classroom.journalOverhead.sentiment.ratio <= 1.05,
  ],
  [
    'The journal (embedded PGlite) on /classify through Discord, one at a time: with ÷ without',
    '≤ 1.02×',
    `${fmt(classroom.journalOverhead.classify.ratio)}× (${classroom.journalOverhead.classify.withJournalMs} vs ${classroom.journalOverhead.classify.withoutMs} ms)`,
    classroom.journalOverhead.classify.ratio <= 1.02,
  ],
  [
    '40 members of one server send /sentiment at once: slowest acknowledgement',
    '≤ 3000 ms, all answered',
    `${classroom.classroom.sentiment40.slowestAckMs} ms (${classroom.classroom.sentiment40.answered}/40 answered, the last after ${classroom.classroom.sentiment40.slowestAnswerMs} ms)`,
    classroom.classroom.sentiment40.slowestAckMs <= 3000 && classroom.classroom.sentiment40.answered === 40,
  ],
  [
    "40 /classify from 40 members of 4 servers: every server's first answer before any server's fifth",
    'yes, all answered',
    `${classroom.classroom.classify40Across4Servers.everyFirstBeforeAnyFifth ? 'yes' : 'no'} (${classroom.classroom.classify40Across4Servers.answered}/40 answered, slowest acknowledgement ${classroom.classroom.classify40Across4Servers.slowestAckMs} ms, last answer after ${classroom.classroom.classify40Across4Servers.slowestAnswerMs} ms)`,
    classroom.classroom.classify40Across4Servers.everyFirstBeforeAnyFifth &&
      classroom.classroom.classify40Across4Servers.answered === 40,
  ],
  [
    'HTTP interactions endpoint: 200 concurrent signed interactions, slowest acknowledgement',
    '≤ 3000 ms each, all answered',
    `${classroom.http200.slowestAckMs} ms (${classroom.http200.acknowledged}/200 acknowledged, ${classroom.http200.answered}/200 answered)`,
    classroom.http200.slowestAckMs <= 3000 && classroom.http200.answered === 200,
  ],
  ...('skipped' in queue
    ? []
    : [
        [
          'One worker through Redis ÷ the single process, /classify one at a time, end to end',
          '≤ 1.10×',
          `${fmt(queue.oneWorker.ratio)}× (${queue.oneWorker.throughRedisMs} vs ${queue.oneWorker.singleProcessMs} ms)`,
          queue.oneWorker.ratio <= 1.1,
        ] as [string, string, string, boolean],
        [
          `Two workers on this machine (${queue.twoWorkers.threadsEach} inference thread(s) each) ÷ one: ${queue.twoWorkers.burst} /classify at once, time to the last answer (one ÷ two)`,
          '≥ 1× (not slower)',
          `${fmt(queue.twoWorkers.speedup)}× (${queue.twoWorkers.oneWorkerMs} vs ${queue.twoWorkers.twoWorkersMs} ms)`,
          queue.twoWorkers.speedup >= 1,
        ] as [string, string, string, boolean],
      ]),
  [
    `/teach train, 5 classes × 8 examples, embeddings stored (${teach.embedder})`,
    '< 2000 ms',
    `${teach.train5x8Ms} ms`,
    teach.train5x8Ms < 2000,
  ],
  [
    '/teach classify ÷ one image embedding by the same embedder',
    '≤ 1.1×',
    `${fmt(teach.classifyRatio)}× (${teach.classifyMs} vs ${teach.embedMs} ms)`,
    teach.classifyRatio <= 1.1,
  ],
  ...(
    [
      ['saliency', 'Where did it look? (both models) ÷ /classify, same image', 1.3],
      ['stress', 'Stress test (original + 10 variants, both models) ÷ /classify', 5],
      ['mask', 'Hide patches (5 ratios, both models) ÷ /classify', 3],
    ] as const
  ).map(([key, label, goal]): [string, string, string, boolean] => [
    `${label} (${lab.precision})`,
    `≤ ${goal}×`,
    `${fmt(lab[key].ratio)}× (${lab[key].ms} ms vs ${lab.classifyMs} ms)${
      key === 'saliency'
        ? ''
        : `; the two int8 sessions alone on its batch: ${fmt(key === 'stress' ? lab.sessionsOnly.stressFloor : lab.sessionsOnly.maskFloor)}×`
    }`,
    lab[key].ratio <= goal,
  ]),
  ...(['saliency', 'stress', 'mask'] as const).map((key): [string, string, string, boolean] => {
    const { alone, atOnce } = labDiscord.experiments[key];
    const both = [alone, atOnce];
    const deferred = (run: LabDiscordSummary): number => run.requests - run.inline;
    return [
      `/${key} on Discord: acknowledged, and progress shown while it runs (alone, then ${labDiscord.classSize} members at once)`,
      '≤ 3 s; every deferred one',
      `slowest acknowledgement ${alone.slowestAckMs} / ${atOnce.slowestAckMs} ms; progress on ${alone.withProgress}/${deferred(alone)}, ${atOnce.withProgress}/${deferred(atOnce)}; answered ${alone.answered + atOnce.answered}/${alone.requests + atOnce.requests}, the last after ${atOnce.slowestAnswerMs} ms`,
      both.every(
        (run) => run.slowestAckMs <= 3000 && run.answered === run.requests && run.withProgress === deferred(run),
      ),
    ];
  }),
  [
    `${labDiscord.classSize} members press *Stress test* under one /classify reply at once`,
    'one run; every other press told privately ≤ 3 s',
    `${labDiscord.sharedButton.runs} run, answered after ${labDiscord.sharedButton.answerMs} ms; ${labDiscord.sharedButton.pointedPrivately} pointed to it, the slowest after ${labDiscord.sharedButton.slowestPointerMs} ms`,
    labDiscord.sharedButton.runs === 1 &&
      labDiscord.sharedButton.answered === 1 &&
      labDiscord.sharedButton.pointedPrivately === labDiscord.sharedButton.presses - 1 &&
      labDiscord.sharedButton.slowestPointerMs <= 3000,
  ],
  [
    'Throughput at 32 concurrent ÷ raw onnxruntime at its best batch size',
    '≥ 0.9×',
    `${fmt(classify32.perSecond! / bestRaw)}× (${classify32.perSecond}/s vs ${bestRaw}/s)`,
    classify32.perSecond! / bestRaw >= 0.9,
  ],
  [
    'RSS of the bot (npm start) with all models loaded',
    `≤ ${sightread.memory.budgetMb} MB`,
    `${discord.loadedRssMb} MB (model files ${sightread.memory.modelFilesMb} MB)`,
    discord.loadedRssMb <= sightread.memory.budgetMb,
  ],
  ...(sightread.soak
    ? [
        [
          'RSS after 100 → 1,000 /classify requests',
          'no growth',
          `${sightread.soak.rssAt100Mb} → ${sightread.soak.rssAtEndMb} MB`,
          sightread.soak.rssAtEndMb <= sightread.soak.rssAt100Mb * 1.05,
        ] as [string, string, string, boolean],
      ]
    : []),
  ...(sightread.vader
    ? [
        [
          'VADER, single thread, tweets file',
          '≥ 5,000 sentences/s',
          `${sightread.vader.sentencesPerSecond}/s`,
          sightread.vader.sentencesPerSecond >= 5000,
        ] as [string, string, string, boolean],
      ]
    : []),
];

const table = (headers: string[], rows: Array<Array<string | number>>): string =>
  [
    `| ${headers.join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
const markdown = [
  '# sightread benchmark',
  '',
  `Machine: ${machine.cpu} (${machine.simd}), ${machine.cores} cores, ${machine.memoryGb} GiB; Node ${machine.node}, onnxruntime-node ${machine.onnxruntime}, sharp ${machine.sharp}. ` +
    'Models: real architectures with random weights (`scripts/bench/make_models.py`), int8 (q8) files on CPU as the bot runs them. Medians of repeated runs; read the ratios, absolute times are noisy here.',
  '',
  '## Goals',
  '',
  table(
    ['goal', 'target', 'measured', 'met'],
    goals.map(([goal, target, measured, met]) => [goal, target, measured, met ? 'yes' : '**no**']),
  ),
  '',
  '## /classify at concurrency 1 (ms)',
  '',
  table(
    [
      'sightread end to end',
      'floor: decode + raw CNN + raw ViT',
      'decode',
      'raw ResNet-50',
      'raw ViT-B/16',
      'stage: decode',
      'stage: CNN',
      'stage: ViT',
      'stage: render',
      'transformers.js',
      'PyTorch eager',
    ],
    [
      [
        c.endToEndMs,
        c.floorMs,
        c.decodeMs,
        c.rawCnnMs,
        c.rawVitMs,
        c.stagesMs.decode!,
        c.stagesMs.cnnInference!,
        c.stagesMs.vitInference!,
        c.stagesMs.render!,
        transformersjs.classifyMs,
        pytorch ? fmt(pytorch.classifyMs, 1) : '–',
      ],
    ],
  ),
  '',
  '## Pipelines under load (in-process)',
  '',
  table(
    ['pipeline', 'concurrency', 'requests', 'p50 ms', 'p95 ms', 'per second', 'event-loop lag p99 ms', 'peak RSS MB'],
    Object.entries(sightread.concurrency).flatMap(([name, rows]) =>
      rows.map((row) => [
        name,
        row.concurrency!,
        row.requests!,
        row.p50Ms!,
        row.p95Ms!,
        row.perSecond!,
        row.eventLoopLagP99Ms!,
        row.peakRssMb!,
      ]),
    ),
  ),
  '',
  `Raw onnxruntime (ResNet-50 + ViT-B/16 on pre-made tensors): ${Object.entries(sightread.rawThroughput)
    .map(([k, v]) => `${k.replace('ImagesPerSecond', '')} ${v} images/s`)
    .join(', ')}.`,
  '',
  `Through Discord (real bot, emulator, 32 concurrent /classify): acknowledged within ${discord.ackMaxMs} ms at worst; answers p50 ${discord.finalP50Ms} ms, p95 ${discord.finalP95Ms} ms; event-loop lag p99 during the load ≤ ${fmt(discord.eventLoopLagP99Ms, 0)} ms (from the difference of two scrapes of the bot's lag histogram, ${discord.eventLoopLagSamples} samples); peak RSS ${discord.peakRssUnderLoadMb} MB.`,
  '',
  `Memory: the bot as \`npm start\` runs it (compiled JavaScript) holds ${discord.loadedRssMb} MB with every model loaded; the in-process benchmark, compiled the same way, ${sightread.memory.loadedMb} MB.`,
  '',
  '## int8 against fp32 (raw session.run, ms)',
  '',
  table(
    ['model', 'fp32', 'int8', 'speed-up'],
    Object.entries(q)
      .filter(([, v]) => 'speedup' in v)
      .map(([name, v]) => [name, v.fp32Ms, v.q8Ms, `${fmt(v.speedup)}×`]),
  ),
  '',
  `Top-1 agreement of int8 with fp32: ViT-B/16 ${agreement.images} fixed images, DistilBERT ${agreement.texts} tweets (random weights: this measures quantization noise, not accuracy).`,
  '',
  `Cold start (npm start's process start → all four models verified, loaded and warm, logged in): ${discord.coldStartMs} ms.`,
  ...(pytorch
    ? [
        '',
        `PyTorch eager, 2 threads, ms per call: ResNet-50 ${fmt(pytorch.resnetMs, 1)}, ViT-B/16 ${fmt(pytorch.vitMs, 1)}, DistilBERT (32 tokens) ${fmt(pytorch.distilbert32Ms, 1)}.`,
      ]
    : []),
  '',
].join('\n');

/** A horizontal bar chart of the /classify comparison. */
function chart(): Promise<Buffer> {
  const bar = (label: string, value: number, color: string): BenchBar => ({
    label,
    value,
    valueText: `${value.toFixed(0)} ms`,
    color,
  });
  return renderBenchChart({
    title: `/classify, one request: ResNet-50 + ViT-B/16 (int8), ms — ${machine.cpu}, ${machine.cores} cores`,
    bars: [
      bar('floor (decode + raw runs)', c.floorMs, '#949ba4'),
      bar('sightread /classify', c.endToEndMs, '#5865f2'),
      bar('transformers.js pipelines', transformersjs.classifyMs, '#eb459e'),
      ...(pytorch ? [bar('PyTorch eager (2 threads)', pytorch.classifyMs, '#fee75c')] : []),
    ],
  });
}

mkdirSync(OUT, { recursive: true });
writeFileSync(
  join(OUT, 'results.json'),
  `${JSON.stringify({ machine, sightread, quantization, transformersjs, pytorch, discord, classroom, lab, labDiscord, teach, queue, goals }, null, 2)}\n`,
);
writeFileSync(join(OUT, 'results.md'), markdown);
writeFileSync(join(OUT, 'chart.png'), await chart());
process.stdout.write(`${markdown}\nWrote bench/results/results.md, results.json and chart.png\n`);
