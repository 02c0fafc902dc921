import { preferredPrecision, type Config } from './config/config.js';
import { InferenceEngine } from './inference/engine.js';
import type { Logger } from './util/logger.js';
import { loadOnce } from './util/load-once.js';
import { Metrics } from './util/metrics.js';
import type { StudyAssistant } from './knowledge/ask.js';
import { loadTopics, type Topic } from './knowledge/topics.js';
import { loadManifest } from './models/manifest.js';
import { ModelStore } from './models/store.js';
import { ImageClassifier } from './vision/classifier.js';
import { ClipMatcher } from './vision/clip.js';
import { TextClassifier } from './text/sentiment.js';
import { TokenizerRegistry } from './text/tokenizers.js';
import type { ImageLimits } from './vision/intake.js';
import { warmChartText } from './render/chart.js';

/**
 * Everything a command may use, built once per process. Models load lazily on first use and
 * are shared; a model that failed to load is retried on the next request (it may have been pulled).
 */
export class Services {
  readonly store: ModelStore;
  readonly engine: InferenceEngine;
  readonly limits: ImageLimits;
  readonly tokenizers: TokenizerRegistry;
  readonly startedAt = Date.now();
  readonly metrics = new Metrics();
  private readonly cache = new Map<string, Promise<unknown>>();
  private notes: ReadonlyMap<string, Topic> | undefined;

  constructor(
    readonly config: Config,
    readonly logger: Logger,
  ) {
    this.store = new ModelStore({
      manifest: loadManifest(config.MODELS_MANIFEST),
      modelsDir: config.MODELS_DIR,
      hubEndpoint: config.HF_ENDPOINT,
      allowDownloads: config.MODEL_DOWNLOADS,
      downloadTimeoutMs: config.DOWNLOAD_TIMEOUT_MS,
      logger,
    });
    this.engine = new InferenceEngine({
      executionProvider: config.EXECUTION_PROVIDER,
      intraOpThreads: config.ORT_INTRA_OP_THREADS,
      interOpThreads: config.ORT_INTER_OP_THREADS,
      workers: config.ORT_WORKERS,
      batch: {
        maxBatchSize: config.BATCH_MAX_SIZE,
        maxWaitMs: config.BATCH_MAX_WAIT_MS,
        maxQueue: config.QUEUE_MAX,
        timeoutMs: config.INFERENCE_TIMEOUT_MS,
      },
      logger,
      onRun: (key, ms, batchSize) => {
        this.metrics.modelSeconds.observe({ model: key }, ms / 1000);
        this.metrics.batchItems.inc({ model: key }, batchSize);
      },
    });
    this.tokenizers = new TokenizerRegistry(this.store);
    this.limits = {
      maxBytes: config.IMAGE_MAX_BYTES,
      maxPixels: config.IMAGE_MAX_PIXELS,
      decodeTimeoutMs: config.IMAGE_DECODE_TIMEOUT_MS,
    };
  }

  /** The study notes in prompts/topics, read once. */
  get topics(): ReadonlyMap<string, Topic> {
    this.notes ??= loadTopics();
    return this.notes;
  }

  /** The /ask chain; LangChain is loaded only when someone first asks. */
  assistant(): Promise<StudyAssistant> {
    return this.shared('assistant', async () => {
      const { createAssistant } = await import('./knowledge/index.js');
      return createAssistant(this.config, this.logger, this.topics);
    });
  }

  get precision(): ReturnType<typeof preferredPrecision> {
    return preferredPrecision(this.config);
  }

  /** Loads a component once and shares it; a failure is not cached. */
  protected shared<T>(key: string, load: () => Promise<T>): Promise<T> {
    return loadOnce(this.cache, key, load) as Promise<T>;
  }

  /** The ids of components that have loaded successfully. */
  async loaded(): Promise<string[]> {
    const settled = await Promise.allSettled([...this.cache].map(async ([key, pending]) => (await pending, key)));
    return settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  }

  imageClassifier(id: string): Promise<ImageClassifier> {
    return this.shared(`image-classifier:${id}`, () =>
      ImageClassifier.load({ store: this.store, engine: this.engine, id, precision: this.precision, limits: this.limits }),
    );
  }

  clipMatcher(): Promise<ClipMatcher> {
    const id = this.config.CLIP_MODEL;
    return this.shared(`clip:${id}`, () =>
      ClipMatcher.load({
        store: this.store,
        engine: this.engine,
        id,
        precision: this.precision,
        limits: this.limits,
        template: this.config.CLIP_PROMPT_TEMPLATE,
        cacheSize: this.config.CLIP_TEXT_CACHE_SIZE,
      }),
    );
  }

  textClassifier(): Promise<TextClassifier> {
    const id = this.config.SENTIMENT_MODEL;
    return this.shared(`text-classifier:${id}`, () => TextClassifier.load({ store: this.store, engine: this.engine, id, precision: this.precision }));
  }

  /** Loads every model the bot serves, so the first user does not wait; failures are logged, not fatal. */
  async preload(): Promise<Record<string, string>> {
    const jobs: Record<string, () => Promise<unknown>> = {
      [this.config.VISION_CNN_MODEL]: () => this.imageClassifier(this.config.VISION_CNN_MODEL),
      [this.config.VISION_VIT_MODEL]: () => this.imageClassifier(this.config.VISION_VIT_MODEL),
      [this.config.CLIP_MODEL]: () => this.clipMatcher(),
      [this.config.SENTIMENT_MODEL]: () => this.textClassifier(),
    };
    const status: Record<string, string> = {};
    // The chart glyphs too: rendering them is the first chart's one-off cost, not a user's.
    await Promise.all([
      warmChartText(),
      ...Object.entries(jobs).map(async ([id, load]) => {
        try {
          await load();
          status[id] = 'loaded';
        } catch (error) {
          status[id] = `unavailable: ${(error as Error).message}`;
          this.logger.warn({ model: id, reason: (error as Error).message }, 'model unavailable at start-up');
        }
      }),
    ]);
    return status;
  }

  async dispose(): Promise<void> {
    await this.engine.dispose();
  }
}
