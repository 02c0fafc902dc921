import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { Services } from '../src/app.js';
import { parseArgs } from '../src/cli/args.js';
import { loadConfigOrExit } from '../src/config/env.js';
import { isUserFacing, UserFacingError } from '../src/util/errors.js';
import { createLogger } from '../src/util/logger.js';
import { evaluateSentiment } from '../src/text/sentiment-eval.js';
import type { ModelIdentity } from '../src/inference/pipeline.js';
import { TopicRetriever } from '../src/knowledge/retriever.js';
import { evaluateRetrieval, loadRetrievalQuestions, QUESTIONS_FILE } from '../src/knowledge/retrieval-eval.js';

/**
 * `npm run eval -- classify --model <id> --images <dir> --truth <file> [--json]`
 * `npm run eval -- sentiment --truth <file> [--json]`
 * `npm run eval -- ask [--questions <file>] [--json]`
 */
const truthSchema = z.record(z.string(), z.union([z.number().int().nonnegative(), z.string().min(1)]));

/** A label matches when it equals the predicted label or one of its comma-separated synonyms. */
const labelMatches = (truth: string, predicted: string): boolean =>
  predicted
    .toLowerCase()
    .split(',')
    .map((part) => part.trim())
    .includes(truth.toLowerCase().trim());

async function evalClassify(
  services: Services,
  flags: Record<string, string | true>,
): Promise<Record<string, unknown>> {
  const { model, images, truth } = flags;
  if (typeof model !== 'string' || typeof images !== 'string' || typeof truth !== 'string') {
    throw new UserFacingError('Usage: npm run eval -- classify --model <id> --images <dir> --truth <file> [--json]', {
      code: 'usage',
    });
  }
  const parsed = truthSchema.safeParse(JSON.parse(await readFile(truth, 'utf8')));
  if (!parsed.success)
    throw new UserFacingError(`${truth} must map image file names to a class index or label.`, { code: 'usage' });
  const present = new Set(await readdir(images));
  const entries = Object.entries(parsed.data).filter(([name]) => present.has(name));
  const missing = Object.keys(parsed.data).filter((name) => !present.has(name));
  if (entries.length === 0)
    throw new UserFacingError(`None of the images named in ${truth} are in ${images}.`, { code: 'usage' });
  const bytes = await Promise.all(entries.map(([name]) => readFile(join(images, name))));
  let identity: ModelIdentity | undefined;
  let top1 = 0;
  let top5 = 0;
  const perImage: Array<{ image: string; truth: number | string; top1: string; hit: 'top1' | 'top5' | 'miss' }> = [];
  const started = performance.now();
  for (const [index, [name, expected]] of entries.entries()) {
    const result = (await services.vision.classify(bytes[index]!, model, 5)).results[0]!;
    identity = result.model;
    const hit = (p: { index: number; label: string }): boolean =>
      typeof expected === 'number' ? p.index === expected : labelMatches(expected, p.label);
    const isTop1 = hit(result.predictions[0]!);
    const isTop5 = result.predictions.some(hit);
    top1 += isTop1 ? 1 : 0;
    top5 += isTop5 ? 1 : 0;
    perImage.push({
      image: name,
      truth: expected,
      top1: result.predictions[0]!.label,
      hit: isTop1 ? 'top1' : isTop5 ? 'top5' : 'miss',
    });
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    model,
    images: entries.length,
    top1: top1 / entries.length,
    top5: top5 / entries.length,
    imagesPerSecond: entries.length / seconds,
    executionProvider: identity?.executionProvider,
    precision: identity?.precision,
    perImage,
    ...(missing.length > 0 ? { missing } : {}),
  };
}

async function main(): Promise<number> {
  const config = loadConfigOrExit();
  const logger = createLogger(process.env.LOG_LEVEL ? config : { ...config, LOG_LEVEL: 'warn' });
  const [task, ...rest] = process.argv.slice(2);
  const { flags } = parseArgs(rest);
  const services = new Services(config, logger);
  try {
    let report: Record<string, unknown>;
    if (task === 'classify') report = await evalClassify(services, flags);
    else if (task === 'sentiment') {
      if (typeof flags.truth !== 'string')
        throw new UserFacingError('Usage: npm run eval -- sentiment --truth <file> [--json]', { code: 'usage' });
      report = {
        ...(await evaluateSentiment(
          () => services.text.classifier(),
          { queueMax: config.QUEUE_MAX, batchMaxSize: config.BATCH_MAX_SIZE },
          flags.truth,
        )),
      };
    } else if (task === 'ask') {
      // Retrieval only, as /ask runs without an LLM: which notes come back, and whether an
      // off-topic question is declined.
      const questionsFile = typeof flags.questions === 'string' ? flags.questions : QUESTIONS_FILE;
      const questions = loadRetrievalQuestions(new Set(services.topics.keys()), questionsFile);
      report = { ...evaluateRetrieval(new TopicRetriever(services.topics.values()), questions) };
    } else
      throw new UserFacingError('Usage: npm run eval -- classify|sentiment|ask [options] [--json]', { code: 'usage' });
    if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else
      process.stdout.write(
        `${Object.entries(report)
          .map(([key, value]) => `${key}: ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`)
          .join('\n')}\n`,
      );
    return 0;
  } catch (error) {
    process.stderr.write(`Error: ${isUserFacing(error) ? error.message : String(error)}\n`);
    return isUserFacing(error) && error.code === 'usage' ? 2 : 1;
  } finally {
    await services.dispose();
  }
}

process.exitCode = await main();
