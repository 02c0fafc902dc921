import { createHash } from 'node:crypto';
import type { VisionService } from '../vision/service.js';
import { UserFacingError } from '../util/errors.js';
import { normaliseClassName } from './names.js';
import {
  dataHunger,
  DEFAULT_PROBE_SETTINGS,
  leaveOneOut,
  predict,
  stratifiedSplit,
  trainProbe,
  type EpochStats,
  type Example,
  type HungerPoint,
} from './probe.js';
import type { ClassCount, TeachStore } from './store.js';

/** An uploaded image: its bytes are embedded and dropped, never stored. */
export interface ImageInput {
  name: string;
  bytes: Buffer;
}

export interface TeachLimits {
  maxClasses: number;
  maxExamplesPerClass: number;
  maxServerBytes: number;
}

export interface AddReport {
  action: 'add';
  className: string;
  classes: ClassCount[];
  embedder: string;
  dimensions: number;
  storedBytes: number;
  maxBytes: number;
}

export interface TrainReport {
  action: 'train';
  classes: string[];
  examples: number;
  embedder: string;
  dimensions: number;
  perClass: number[];
  validationExamples: number;
  epochs: EpochStats[];
  leaveOneOutAccuracy: number;
  confusion: number[][];
  dataHunger: HungerPoint[];
  /** Examples stored under another embedder (TEACH_EMBEDDER changed since they were added). */
  otherEmbedder: number;
  ms: number;
}

export interface ClassifyReport {
  action: 'classify';
  predictions: Array<{ label: string; score: number }>;
  embedder: string;
  trainedAt: Date;
  trainedOn: number;
}

export interface ShowReport {
  action: 'show';
  classes: ClassCount[];
  embedder: string;
  trained: { at: Date; examples: number; classes: string[] } | undefined;
  storedBytes: number;
  maxBytes: number;
  limits: TeachLimits;
}

export interface RemoveReport {
  action: 'remove';
  className: string;
  examples: number;
}

export interface ResetReport {
  action: 'reset';
  classes: number;
  examples: number;
}

export type TeachReport = AddReport | TrainReport | ClassifyReport | ShowReport | RemoveReport | ResetReport;

const KIB = 1024;

/**
 * /teach for one process: a server's examples are embedded once, when added (the image is then
 * dropped), and a linear probe is trained on the stored embeddings when asked. Two trainings of
 * one server run one after the other; other servers are never touched.
 */
export class TeachService {
  private readonly training = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: TeachStore,
    private readonly vision: Pick<VisionService, 'embedImage' | 'embedder'>,
    private readonly embedderSetting: string,
    readonly limits: TeachLimits,
  ) {}

  async add(guildId: string, rawName: string, image: ImageInput, userId?: string): Promise<AddReport> {
    const className = normaliseClassName(rawName);
    const sha256 = createHash('sha256').update(image.bytes).digest('hex');
    // Cheap checks first: a full class or server never costs an embedding.
    this.checkLimits(className, await this.store.classes(guildId), await this.store.storedBytes(guildId), 0);
    const embedded = await this.vision.embedImage(image.bytes, this.embedderSetting);
    const already = await this.store.findImage(guildId, embedded.embedder, sha256);
    if (already !== undefined) {
      throw new UserFacingError(`This image is already an example of "${already}"; each image counts once.`, {
        code: 'teach_duplicate',
      });
    }
    await this.store.addExample(
      guildId,
      {
        className,
        embedder: embedded.embedder,
        embedding: embedded.embedding,
        imageSha256: sha256,
        imageName: image.name.slice(0, 200),
        width: embedded.width,
        height: embedded.height,
        addedBy: userId,
      },
      ({ classes, storedBytes }) => this.checkLimits(className, classes, storedBytes, embedded.embedding.length * 4),
    );
    return {
      action: 'add',
      className,
      classes: await this.store.classes(guildId),
      embedder: embedded.embedder,
      dimensions: embedded.embedding.length,
      storedBytes: await this.store.storedBytes(guildId),
      maxBytes: this.limits.maxServerBytes,
    };
  }

  private checkLimits(className: string, classes: ClassCount[], storedBytes: number, adding: number): void {
    const existing = classes.find((entry) => entry.name === className);
    if (!existing && classes.length >= this.limits.maxClasses) {
      throw new UserFacingError(
        `This server already has ${classes.length} classes, the most /teach keeps. Remove one with /teach action:remove first.`,
        { code: 'teach_limit' },
      );
    }
    if (existing && existing.examples >= this.limits.maxExamplesPerClass) {
      throw new UserFacingError(
        `"${className}" already has ${existing.examples} examples, the most a class may have.`,
        { code: 'teach_limit' },
      );
    }
    if (storedBytes + adding > this.limits.maxServerBytes) {
      throw new UserFacingError(
        `This server's /teach storage is full (${Math.ceil(storedBytes / KIB)} of ${Math.floor(this.limits.maxServerBytes / KIB)} KiB). Remove a class or reset.`,
        { code: 'teach_limit' },
      );
    }
  }

  async train(guildId: string): Promise<TrainReport> {
    // One training per server at a time: a second waits for the first, then trains on what is stored.
    const previous = this.training.get(guildId) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.trainNow(guildId));
    this.training.set(guildId, run);
    try {
      return await run;
    } finally {
      if (this.training.get(guildId) === run) this.training.delete(guildId);
    }
  }

  private async trainNow(guildId: string): Promise<TrainReport> {
    const started = performance.now();
    const embedder = (await this.vision.embedder(this.embedderSetting)).id;
    const stored = await this.store.examples(guildId);
    const usable = stored.filter((example) => example.embedder === embedder);
    const classes = [...new Set(usable.map((example) => example.className))].sort();
    const otherEmbedder = stored.length - usable.length;
    const moved =
      otherEmbedder > 0 ? ` (${otherEmbedder} stored examples were embedded by another embedder; add them again)` : '';
    if (classes.length < 2) {
      throw new UserFacingError(
        `Training needs at least two classes with examples; this server has ${classes.length}${moved}. Add pictures of another class with /teach action:add.`,
        { code: 'teach_not_ready' },
      );
    }
    const perClass = classes.map((name) => usable.filter((example) => example.className === name).length);
    const thin = classes.filter((_, index) => perClass[index]! < 2);
    if (thin.length > 0) {
      throw new UserFacingError(
        `Every class needs at least two examples (one to learn from, one to check on); add more to: ${thin.join(', ')}${moved}.`,
        { code: 'teach_not_ready' },
      );
    }
    const examples: Example[] = usable.map((example) => ({
      label: classes.indexOf(example.className),
      vector: example.embedding,
    }));
    const settings = DEFAULT_PROBE_SETTINGS;
    const { train, validation } = stratifiedSplit(examples, settings.validationShare, settings.seed);
    const { epochs } = await trainProbe(train, validation, classes.length, settings);
    const loo = await leaveOneOut(examples, classes.length, settings);
    const hunger = await dataHunger(examples, classes.length, settings);
    // The probe kept for /teach classify learns from every example.
    const { model } = await trainProbe(examples, [], classes.length, settings, { track: false });
    await this.store.saveModel(guildId, { embedder, classes, examples: examples.length, probe: model });
    return {
      action: 'train',
      classes,
      examples: examples.length,
      embedder,
      dimensions: model.dimensions,
      perClass,
      validationExamples: validation.length,
      epochs,
      leaveOneOutAccuracy: loo.accuracy,
      confusion: loo.confusion,
      dataHunger: hunger,
      otherEmbedder,
      ms: performance.now() - started,
    };
  }

  async classify(guildId: string, image: ImageInput): Promise<ClassifyReport> {
    // The probe is read while the image is embedded: the database's round trip hides under the
    // model's. Both are awaited before anything is said, so no work is left running behind an error.
    const [model, embedding] = await Promise.allSettled([
      this.store.model(guildId),
      this.vision.embedImage(image.bytes, this.embedderSetting),
    ]);
    if (model.status === 'rejected') throw model.reason;
    const stored = model.value;
    if (!stored) {
      throw new UserFacingError('This server has no trained probe yet: add examples, then /teach action:train.', {
        code: 'teach_not_ready',
      });
    }
    if (embedding.status === 'rejected') throw embedding.reason;
    const embedded = embedding.value;
    if (embedded.embedder !== stored.embedder || embedded.embedding.length !== stored.probe.dimensions) {
      throw new UserFacingError(
        `The probe was trained on ${stored.embedder} embeddings, but /teach now embeds with ${embedded.embedder}: train again.`,
        { code: 'teach_not_ready' },
      );
    }
    const scores = predict(stored.probe, embedded.embedding);
    return {
      action: 'classify',
      predictions: stored.classes
        .map((label, index) => ({ label, score: scores[index]! }))
        .sort((a, b) => b.score - a.score),
      embedder: stored.embedder,
      trainedAt: stored.trainedAt,
      trainedOn: stored.examples,
    };
  }

  async show(guildId: string): Promise<ShowReport> {
    const model = await this.store.model(guildId);
    return {
      action: 'show',
      classes: await this.store.classes(guildId),
      embedder: (await this.vision.embedder(this.embedderSetting)).id,
      trained: model ? { at: model.trainedAt, examples: model.examples, classes: model.classes } : undefined,
      storedBytes: await this.store.storedBytes(guildId),
      maxBytes: this.limits.maxServerBytes,
      limits: this.limits,
    };
  }

  async remove(guildId: string, rawName: string): Promise<RemoveReport> {
    const className = normaliseClassName(rawName);
    const examples = await this.store.removeClass(guildId, className);
    if (examples < 0) {
      throw new UserFacingError(`This server has no class "${className}". /teach action:show lists them.`, {
        code: 'teach_not_ready',
      });
    }
    return { action: 'remove', className, examples };
  }

  async reset(guildId: string): Promise<ResetReport> {
    return { action: 'reset', ...(await this.store.reset(guildId)) };
  }
}
