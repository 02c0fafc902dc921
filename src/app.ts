import { preferredPrecision, type Config } from './config/config.js';
import { InferenceEngine, type ExecutionProvider, type ExecutionProviderSetting } from './inference/engine.js';
import type { PipelineContext } from './inference/pipeline.js';
import type { StudyAssistant } from './knowledge/ask.js';
import { loadTopics, type Topic } from './knowledge/topics.js';
import { loadManifest } from './models/manifest.js';
import { ModelStore } from './models/store.js';
import type { Database } from './journal/database.js';
import { QuizService } from './quiz/service.js';
import { QuizStore } from './quiz/store.js';
import { TeachService } from './teach/service.js';
import { TeachStore } from './teach/store.js';
import { ServerData } from './server-data/service.js';
import { SettingsService, SettingsStore } from './server-data/settings.js';
import { warmChartText } from './render/chart.js';
import { TextService } from './text/service.js';
import { systemClock, type Clock } from './util/clock.js';
import { describeError, UserFacingError } from './util/errors.js';
import { SharedLoads } from './util/load-once.js';
import type { Logger } from './util/logger.js';
import { Metrics } from './util/metrics.js';
import { VisionService } from './vision/service.js';

/** What /status reports: where inference runs, what is loaded, and how fast each model answers. */
export interface StatusReport {
  executionProvider: ExecutionProvider | 'none yet';
  executionProviderSetting: ExecutionProviderSetting;
  precision: ReturnType<typeof preferredPrecision>;
  loaded: string[];
  queueDepth: number;
  eventLoopLagP99Ms: number;
  /** Per batching queue (model and part): batched session runs, from the metrics histogram. */
  models: Array<{
    model: string;
    p50Ms: number;
    p95Ms: number;
    batches: number;
    requests: number;
    largestBatch: number;
    waiting: number;
  }>;
  uptimeSeconds: number;
}

/** How long a default model that failed to load waits before a readiness check tries it again. */
export const MODEL_RECHECK_MS = 30_000;

/** Where one default model stands, as of its last load attempt. */
type ModelState =
  | { status: 'loading' }
  | { status: 'loaded' }
  | { status: 'unavailable'; reason: string; checkedAt: number; checking: boolean };

export interface ServicesOptions {
  /** The wall clock unless a test moves its own: download backoff, readiness re-checks. */
  clock?: Clock;
  /** The journal's database, where /teach keeps each server's classes; without it /teach says so. */
  database?: Database;
  /** /quiz's randomness (which kind, image, sentence, list order); Math.random unless a test seeds it. */
  random?: () => number;
}

/**
 * Everything a command may use, built once per process: the vision and text services (models
 * load lazily on first use and are shared; a failed load is retried on the next request), the
 * study notes, the /ask assistant, metrics and configuration.
 */
export class Services {
  readonly vision: VisionService;
  readonly text: TextService;
  readonly startedAt = Date.now();
  readonly metrics = new Metrics();
  readonly precision: ReturnType<typeof preferredPrecision>;
  readonly store: ModelStore;
  readonly engine: InferenceEngine;
  private readonly loads = new SharedLoads();
  private readonly clock: Clock;
  private readonly modelStates = new Map<string, ModelState>();
  private notes: ReadonlyMap<string, Topic> | undefined;
  private teaching: TeachService | undefined;
  private stored: ServerData | undefined;
  private quizzing: QuizService | undefined;
  private readonly database: Database | undefined;
  private readonly random: (() => number) | undefined;
  /** Each server's /settings (defaults without a database), cached; the router reads them on every request. */
  readonly settings: SettingsService;

  constructor(
    readonly config: Config,
    readonly logger: Logger,
    options: ServicesOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.database = options.database;
    this.settings = new SettingsService(this.database ? new SettingsStore(this.database) : undefined, config, () =>
      this.clock.now(),
    );
    this.random = options.random;
    this.precision = preferredPrecision(config);
    this.store = new ModelStore({
      manifest: loadManifest(config.MODELS_MANIFEST),
      modelsDir: config.MODELS_DIR,
      hubEndpoint: config.HF_ENDPOINT,
      allowDownloads: config.MODEL_DOWNLOADS,
      downloadTimeoutMs: config.DOWNLOAD_TIMEOUT_MS,
      logger,
      clock: this.clock,
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
    const context: PipelineContext = { store: this.store, engine: this.engine, precision: this.precision };
    this.vision = new VisionService({
      context,
      logger,
      limits: {
        maxBytes: config.IMAGE_MAX_BYTES,
        maxPixels: config.IMAGE_MAX_PIXELS,
        decodeTimeoutMs: config.IMAGE_DECODE_TIMEOUT_MS,
      },
      models: { cnn: config.VISION_CNN_MODEL, vit: config.VISION_VIT_MODEL, clip: config.CLIP_MODEL },
      clip: { template: config.CLIP_PROMPT_TEMPLATE, cacheSize: config.CLIP_TEXT_CACHE_SIZE },
    });
    this.text = new TextService({
      context,
      logger,
      models: {
        sentiment: config.SENTIMENT_MODEL,
        fillMask: config.FILL_MASK_MODEL,
        tokenizers: { bert: 'bert-base-uncased', gpt2: 'gpt2', clip: config.CLIP_MODEL },
      },
    });
  }

  /** The study notes in prompts/topics, read once. */
  get topics(): ReadonlyMap<string, Topic> {
    this.notes ??= loadTopics();
    return this.notes;
  }

  /** /teach: each server's few-shot classes, kept in the journal's database. */
  get teach(): TeachService {
    if (!this.database) {
      throw new UserFacingError(
        '/teach needs the database (DATA_DIR or DATABASE_URL), and this process has none open.',
        {
          code: 'no_database',
        },
      );
    }
    this.teaching ??= new TeachService(new TeachStore(this.database), this.vision, this.config.TEACH_EMBEDDER, {
      maxClasses: this.config.TEACH_MAX_CLASSES,
      maxExamplesPerClass: this.config.TEACH_MAX_EXAMPLES_PER_CLASS,
      maxServerBytes: this.config.TEACH_MAX_SERVER_KIB * 1024,
    });
    return this.teaching;
  }

  /** What is stored per server and its deletion: /forget, departures, retention. */
  get serverData(): ServerData {
    if (!this.database) {
      throw new UserFacingError('This needs the database (DATA_DIR or DATABASE_URL), and this process has none open.', {
        code: 'no_database',
      });
    }
    this.stored ??= new ServerData(this.database, {
      defaultRetentionDays: this.config.SERVER_DATA_RETENTION_DAYS,
      graceHours: this.config.FORGET_GRACE_HOURS,
      onForgotten: (guildId) => this.settings.invalidate(guildId),
    });
    return this.stored;
  }

  /** /quiz: rounds from the real models, held and scored in the journal's database (without one, practice only). */
  get quiz(): QuizService {
    this.quizzing ??= new QuizService({
      store: this.database ? new QuizStore(this.database) : undefined,
      vision: this.vision,
      text: this.text,
      roundSeconds: this.config.QUIZ_ROUND_SECONDS,
      textMaxChars: this.config.TEXT_MAX_CHARS,
      clock: this.clock,
      logger: this.logger,
      ...(this.random ? { random: this.random } : {}),
    });
    return this.quizzing;
  }

  /** The /ask chain; LangChain is loaded only when someone first asks. */
  assistant(): Promise<StudyAssistant> {
    return this.loads.get('assistant', async () => {
      const { createAssistant } = await import('./knowledge/index.js');
      return createAssistant(this.config, this.logger, this.topics);
    });
  }

  /** The ids of components that have loaded successfully. */
  async loaded(): Promise<string[]> {
    return (await Promise.all([this.vision.loaded(), this.text.loaded(), this.loads.loaded()])).flat();
  }

  async status(): Promise<StatusReport> {
    const stats = this.engine.batcherStats();
    const latency = this.metrics.modelSeconds;
    const models = latency.labelSets().map(({ model = '' }) => ({
      model,
      p50Ms: latency.quantile({ model }, 0.5) * 1000,
      p95Ms: latency.quantile({ model }, 0.95) * 1000,
      batches: latency.count({ model }),
      requests: stats[model]?.items ?? 0,
      largestBatch: stats[model]?.largestBatch ?? 0,
      waiting: stats[model]?.depth ?? 0,
    }));
    return {
      executionProvider: this.engine.activeProvider,
      executionProviderSetting: this.engine.providerSetting,
      precision: this.precision,
      loaded: await this.loaded(),
      queueDepth: this.engine.queueDepth(),
      eventLoopLagP99Ms: this.metrics.eventLoopP99Ms(),
      models,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
    };
  }

  /**
   * The configured default models, each with its loader: the CNN and the ViT (/classify), CLIP
   * (/match) and the sentiment transformer (/sentiment). The bot is ready only when all of them
   * have loaded: each is one side of a comparison a default command shows, and a command that
   * quietly answers with half of it is not what the operator deployed.
   */
  private defaultModels(): Map<string, () => Promise<unknown>> {
    const { vision, text, config } = this;
    return new Map<string, () => Promise<unknown>>([
      [config.VISION_CNN_MODEL, () => vision.classifier(config.VISION_CNN_MODEL)],
      [config.VISION_VIT_MODEL, () => vision.classifier(config.VISION_VIT_MODEL)],
      [config.CLIP_MODEL, () => vision.clipMatcher()],
      [config.SENTIMENT_MODEL, () => text.classifier()],
    ]);
  }

  /**
   * Loads every default model, so the first user does not wait, and from then on retries failed
   * downloads in the background: only the long-running bot preloads. Failures are logged, not
   * fatal; the result is {@link modelStatus}'s.
   */
  async preload(): Promise<Record<string, string>> {
    this.store.retryDownloadsInBackground();
    // The chart fonts too: preparing them is a one-off cost, the bot's, not the first user's. Not
    // the o200k encoder: its thread holds about 150 MB for one command, so the first /languages
    // builds it (in that thread, never on the event loop) and waits about 2 s.
    await Promise.all([warmChartText(), ...[...this.defaultModels()].map(([id, load]) => this.track(id, load))]);
    return this.describeModels();
  }

  /**
   * Each default model, by manifest id: "loaded", "loading", or "unavailable: <why>" (the message a
   * user would get). For readiness (/healthz): ready means every one says "loaded". A model that
   * failed is tried again when this is asked at least {@link MODEL_RECHECK_MS} after its last try,
   * without waiting for it, so readiness follows an operator's `npm run models:pull` or a
   * background download without a restart and without a user having to ask first.
   */
  modelStatus(): Record<string, string> {
    const now = this.clock.now();
    for (const [id, load] of this.defaultModels()) {
      const state = this.modelStates.get(id);
      if (state?.status === 'unavailable' && !state.checking && now - state.checkedAt >= MODEL_RECHECK_MS) {
        void this.track(id, load);
      }
    }
    return this.describeModels();
  }

  private describeModels(): Record<string, string> {
    return Object.fromEntries(
      [...this.defaultModels().keys()].map((id) => {
        const state = this.modelStates.get(id);
        const text =
          state === undefined
            ? 'not loaded yet'
            : state.status === 'unavailable'
              ? `unavailable: ${state.reason}`
              : state.status;
        return [id, text];
      }),
    );
  }

  /** Loads one default model and records how that went; never rejects. */
  private async track(id: string, load: () => Promise<unknown>): Promise<void> {
    const before = this.modelStates.get(id);
    this.modelStates.set(id, before?.status === 'unavailable' ? { ...before, checking: true } : { status: 'loading' });
    try {
      await load();
      this.modelStates.set(id, { status: 'loaded' });
      if (before?.status === 'unavailable') this.logger.info({ model: id }, 'model available again');
    } catch (error) {
      const reason = describeError(error);
      this.modelStates.set(id, { status: 'unavailable', reason, checkedAt: this.clock.now(), checking: false });
      // Said once per reason, not at every readiness check.
      if (before?.status !== 'unavailable' || before.reason !== reason) {
        this.logger.warn({ model: id, reason }, 'model unavailable');
      }
    }
  }

  async dispose(): Promise<void> {
    this.quizzing?.close();
    this.store.close();
    await this.engine.dispose();
  }
}
