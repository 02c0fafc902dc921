import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseGroundTruth, pearson } from '../../src/text/sentiment-eval.js';
import { FIXTURE_MANIFEST, HAS_SHARED, ROOT, SHARED, solidPng, tempDir } from '../helpers.js';

const run = promisify(execFile);
const evalScript = (args: string[], env: Record<string, string> = {}): Promise<{ stdout: string }> =>
  run(process.execPath, ['--import', 'tsx', 'scripts/eval.ts', ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      MODELS_MANIFEST: FIXTURE_MANIFEST,
      EXECUTION_PROVIDER: 'cpu',
      MODEL_DOWNLOADS: 'false',
      ...env,
    },
    timeout: 120_000,
  });

describe('evaluation', () => {
  it('computes Pearson correlation', () => {
    expect(pearson([1, 2, 3, 4], [2, 4, 6, 8])).toBeCloseTo(1, 10);
    expect(pearson([1, 2, 3, 4], [8, 6, 4, 2])).toBeCloseTo(-1, 10);
    expect(pearson([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])).toBeCloseTo(0.8, 10);
  });

  it('reads the VADER paper ground-truth format and skips malformed lines', () => {
    expect(parseGroundTruth('1\t2.5\tgreat day\n2\tbad\tx\n\n3\t-1.2\tmeh\twith tab\n')).toEqual([
      { id: '1', rating: 2.5, text: 'great day' },
      { id: '3', rating: -1.2, text: 'meh\twith tab' },
    ]);
  });

  it('reports both sentiment engines on a truth file as JSON', async () => {
    const dir = await tempDir();
    const truth = join(dir, 'truth.txt');
    await writeFile(
      truth,
      [
        '1\t3.0\tgreat great fun',
        '2\t-3.1\tawful awful movie',
        '3\t0.2\tthe movie',
        '4\t-1.5\tnot good',
        '5\t1.8\tgood',
      ].join('\n'),
    );
    const { stdout } = await evalScript(['sentiment', '--truth', truth, '--json'], {
      SENTIMENT_MODEL: 'tiny-sentiment',
      QUEUE_MAX: '2',
      BATCH_MAX_SIZE: '1',
    });
    // More sentences than the queue holds: the eval must pace itself, not be refused as busy.
    const report = JSON.parse(stdout) as {
      sentences: number;
      engines: { vader: { r: number; sentencesPerSecond: number }; transformer: { r: number } };
    };
    expect(report.sentences).toBe(5);
    expect(report.engines.vader.r).toBeGreaterThan(0.8);
    expect(report.engines.vader.sentencesPerSecond).toBeGreaterThan(0);
    expect(report.engines.transformer.r).toBeGreaterThan(0.5);
  });

  it('reports top-1, top-5 and images per second for a classifier', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'red.png'), await solidPng([250, 10, 10]));
    await writeFile(join(dir, 'blue.png'), await solidPng([10, 10, 250]));
    await writeFile(join(dir, 'truth.json'), JSON.stringify({ 'red.png': 'red', 'blue.png': 1 }));
    const { stdout } = await evalScript([
      'classify',
      '--model',
      'tiny-cnn',
      '--images',
      dir,
      '--truth',
      join(dir, 'truth.json'),
      '--json',
    ]);
    const report = JSON.parse(stdout) as {
      model: string;
      images: number;
      top1: number;
      top5: number;
      imagesPerSecond: number;
    };
    expect(report).toMatchObject({ model: 'tiny-cnn', images: 2, top1: 0.5, top5: 1 });
    expect(report.imagesPerSecond).toBeGreaterThan(0);
  });

  it.skipIf(!HAS_SHARED)('matches the VADER paper on its 4,200 rated tweets (r = 0.881 published)', async () => {
    const { stdout } = await evalScript(
      ['sentiment', '--truth', join(SHARED, 'data/vader-icwsm2014/tweets_GroundTruth.txt'), '--json'],
      { SENTIMENT_MODEL: 'none-configured' },
    );
    const report = JSON.parse(stdout) as { sentences: number; engines: { vader: { r: number } } };
    expect(report.sentences).toBe(4200);
    expect(report.engines.vader.r).toBeGreaterThan(0.87);
    expect(report.engines.vader.r).toBeLessThan(0.89);
  });
});
