import type { PipelineContext } from '../inference/pipeline.js';
import { isUserFacing, unavailableReason, UserFacingError } from '../util/errors.js';
import { SharedLoads } from '../util/load-once.js';
import type { Logger } from '../util/logger.js';
import { loadImageClassifier, type Classification, type ImageClassifier } from './classifier.js';
import { loadClipMatcher, type ClipMatcher, type MatchResult } from './clip.js';
import { compareClassifications, type Agreement } from './compare.js';
import { loadFeatureEmbedder, type ImageEmbedder } from './embedder.js';
import type { ImageLimits, InspectedImage } from './intake.js';
import { patchGrid, type PatchGrid } from './patches.js';
import { getModel } from '../models/manifest.js';
import { decodeImage, neededShorterSide } from './preprocess.js';
import { imageSteps, type ImageSteps } from './preprocess-steps.js';
import { loadImageProbe, maskCurve, saliencyMap, type ImageProbe, type MaskCurve, type SaliencyMap } from './lab.js';
import type { DecodedImage } from './preprocess.js';

/** A lab experiment's results per model, with the models that could not run and why. */
export interface LabOutcome<Result> {
  source: InspectedImage;
  results: Result[];
  unavailable: Array<{ model: string; reason: string }>;
  decodeMs: number;
}
import { stressVariants } from './stress.js';
import type { ModelIdentity, PipelineTimings } from '../inference/pipeline.js';
import type { RgbImage } from '../util/image.js';

export interface VisionSettings {
  context: PipelineContext;
  limits: ImageLimits;
  logger: Logger;
  /** Manifest ids of the models the roles name. */
  models: { cnn: string; vit: string; clip: string };
  clip: { template: string; cacheSize: number };
}

/** `both`, a role (`cnn`, `vit`) or a manifest id. */
export type ModelChoice = string;

export interface ClassifyOutcome {
  source: InspectedImage;
  results: Classification[];
  /** Models that could not run, and why (the others still answer). */
  unavailable: Array<{ model: string; reason: string }>;
  agreement: Agreement | undefined;
  /** How the ViT among the results cut its input into tokens. */
  patches: PatchGrid | undefined;
  decodeMs: number;
}

/** One model's answers to every variant of the stress test, from one batched run. */
export interface StressModelResult {
  model: ModelIdentity;
  timings: PipelineTimings;
  /** The original image's top-1 class: the class every variant's `score` is the probability of. */
  original: { label: string; index: number; score: number };
  variants: Array<{
    /** The variant's own top-1. */
    label: string;
    index: number;
    /** The probability of the original's top-1 class under this variant. */
    score: number;
    keptTop1: boolean;
  }>;
}

export interface StressOutcome {
  source: InspectedImage;
  variants: Array<{ name: string; strength: number; rgb: RgbImage }>;
  results: StressModelResult[];
  unavailable: Array<{ model: string; reason: string }>;
  decodeMs: number;
}

export interface WaitingNotice {
  model: string;
  position: number;
}

/** What a caller may follow of a run over several models: queue positions, and each model as it ends. */
export interface ExperimentWatch {
  waiting?: (notice: WaitingNotice) => void;
  /** One model's run ended (`ok`: with a result); `pending`: the models still running. */
  finished?: (update: { model: string; ok: boolean; ms: number; pending: string[] }) => void;
}

/** What commands may ask of the vision models: classify, match, and how a ViT sees an image. */
export class VisionService {
  private readonly loads = new SharedLoads();

  constructor(private readonly settings: VisionSettings) {}

  get modelIds(): VisionSettings['models'] {
    return this.settings.models;
  }

  /** The manifest ids a choice stands for, in display order (CNN first). */
  modelsFor(choice: ModelChoice): string[] {
    const { cnn, vit } = this.settings.models;
    if (choice === 'both') return [cnn, vit];
    return [choice === 'cnn' ? cnn : choice === 'vit' ? vit : choice];
  }

  classifier(id: string): Promise<ImageClassifier> {
    return this.loads.get(`image-classifier:${id}`, () => loadImageClassifier(this.settings.context, id));
  }

  clipMatcher(): Promise<ClipMatcher> {
    const id = this.settings.models.clip;
    return this.loads.get(`clip:${id}`, () => loadClipMatcher(this.settings.context, id, this.settings.clip));
  }

  /**
   * An image embedder for /teach: `clip` (the vision tower's image embedding), `cnn` (the
   * configured CNN's pooled penultimate features) or a manifest id of a CNN with a features tensor.
   */
  embedder(setting: string): Promise<ImageEmbedder> {
    const clip = this.settings.models.clip;
    if (setting === 'clip' || setting === clip) {
      return this.loads.get(`embedder:clip:${clip}`, async () => {
        const matcher = await this.clipMatcher();
        return { id: `${clip}:image`, embed: (image) => matcher.embed(image) };
      });
    }
    const id = setting === 'cnn' ? this.settings.models.cnn : setting;
    return this.loads.get(`embedder:features:${id}`, () => loadFeatureEmbedder(this.settings.context, id));
  }

  /** Decodes an upload (within the limits) and embeds it; a bad image fails before any model loads. */
  async embedImage(
    bytes: Buffer,
    setting: string,
  ): Promise<{ embedder: string; embedding: Float32Array; width: number; height: number }> {
    const image = await decodeImage(bytes, this.settings.limits, 256);
    const embedder = await this.embedder(setting);
    return {
      embedder: embedder.id,
      embedding: await embedder.embed(image),
      width: image.source.width,
      height: image.source.height,
    };
  }

  loaded(): Promise<string[]> {
    return this.loads.loaded();
  }

  /** A classifier for the lab; with `probes`, on its graph edited to return internal tensors too. */
  imageProbe(id: string, probes: boolean): Promise<ImageProbe> {
    return this.loads.get(`image-probe:${id}:${probes}`, () => loadImageProbe(this.settings.context, id, probes));
  }

  /** Where each chosen model looked: class activation map, attention rollout or occlusion. */
  saliency(bytes: Buffer, choice: ModelChoice, watch: ExperimentWatch = {}): Promise<LabOutcome<SaliencyMap>> {
    return this.experiment(
      bytes,
      choice,
      async (id, image) =>
        saliencyMap(await this.imageProbe(id, true), image, (position) => watch.waiting?.({ model: id, position })),
      watch,
    );
  }

  /** Each chosen model's top-1 survival as more patches are hidden. */
  mask(
    bytes: Buffer,
    choice: ModelChoice,
    ratios: readonly number[],
    seed: number,
    watch: ExperimentWatch = {},
  ): Promise<LabOutcome<MaskCurve>> {
    return this.experiment(
      bytes,
      choice,
      async (id, image) =>
        maskCurve(await this.imageProbe(id, false), image, ratios, seed, (position) =>
          watch.waiting?.({ model: id, position }),
        ),
      watch,
    );
  }

  /**
   * Decodes the image once, before any model loads (a bad upload never costs a model load), then
   * runs `run` per chosen model. A model that cannot run is reported beside the others' results;
   * only when none can run is that an error ("No <what> could run").
   */
  private async experiment<Result>(
    bytes: Buffer,
    choice: ModelChoice,
    run: (id: string, image: DecodedImage) => Promise<Result>,
    watch: ExperimentWatch,
    what = 'model',
  ): Promise<LabOutcome<Result>> {
    const ids = this.modelsFor(choice);
    const manifest = this.settings.context.store.manifest;
    const sides = ids.flatMap((id) => {
      const spec = manifest.models.get(id)?.preprocess;
      return spec ? [neededShorterSide(spec)] : [];
    });
    const image = await decodeImage(bytes, this.settings.limits, Math.max(224, ...sides));
    const pending = new Set(ids);
    const settled = await Promise.allSettled(
      ids.map(async (id) => {
        const started = performance.now();
        let ok = false;
        try {
          const result = await run(id, image);
          ok = true;
          return result;
        } finally {
          pending.delete(id);
          watch.finished?.({ model: id, ok, ms: performance.now() - started, pending: [...pending] });
        }
      }),
    );
    const results: Result[] = [];
    const unavailable: LabOutcome<Result>['unavailable'] = [];
    settled.forEach((outcome, index) => {
      if (outcome.status === 'fulfilled') {
        results.push(outcome.value);
        return;
      }
      const error: unknown = outcome.reason;
      // A decode failure is the image's fault, not the model's: report it as such.
      if (isUserFacing(error) && error.kind === 'image') throw error;
      if (!isUserFacing(error)) this.settings.logger.error({ err: error, model: ids[index] }, `${what} failed`);
      unavailable.push({
        model: ids[index]!,
        reason: unavailableReason(error),
      });
    });
    if (results.length === 0)
      throw new UserFacingError(
        `No ${what} could run. ${unavailable.map((u) => `${u.model}: ${u.reason}`).join(' ')}`,
        {
          code: 'model_missing',
        },
      );
    return { source: image.source, results, unavailable, decodeMs: image.ms };
  }

  /** A ViT's patch grid from its manifest entry (input size and patch size). */
  patchGrid(id = this.settings.models.vit): PatchGrid {
    const entry = this.settings.context.store.manifest.models.get(id);
    return patchGrid(entry?.preprocess?.size ?? { width: 224, height: 224 }, entry?.patchSize ?? 16);
  }

  /**
   * Decodes the image once, before any model loads (a bad upload never costs a model load),
   * then runs every chosen classifier on it. A model that cannot run is reported beside the
   * others' results; only when none can run is that an error.
   */
  async classify(
    bytes: Buffer,
    choice: ModelChoice,
    top: number,
    watch: ExperimentWatch = {},
  ): Promise<ClassifyOutcome> {
    const { results, unavailable, source, decodeMs } = await this.experiment(
      bytes,
      choice,
      async (id, image) =>
        (await this.classifier(id)).run(
          { image, top },
          { onPosition: (position) => watch.waiting?.({ model: id, position }) },
        ),
      watch,
      'classifier',
    );
    const manifest = this.settings.context.store.manifest;
    const vit = results.find((result) => result.model.architecture === 'vit');
    const patchSize = vit ? manifest.models.get(vit.model.id)?.patchSize : undefined;
    return {
      source,
      results,
      unavailable,
      agreement: results.length === 2 ? compareClassifications(results[0]!, results[1]!) : undefined,
      patches:
        vit && patchSize ? patchGrid({ width: vit.preview.width, height: vit.preview.height }, patchSize) : undefined,
      decodeMs,
    };
  }

  /**
   * The stress test: the image decoded once, about ten perturbed variants of it (seeded), and
   * every chosen model reading all of them in one batched run. A model that cannot run is
   * reported beside the others, as in {@link classify}.
   */
  async stress(bytes: Buffer, choice: ModelChoice, seed: number, watch: ExperimentWatch = {}): Promise<StressOutcome> {
    // Made once, from the one decoded image, and read by every model.
    let variants: Promise<Awaited<ReturnType<typeof stressVariants>>> | undefined;
    const outcome = await this.experiment(
      bytes,
      choice,
      async (id, image): Promise<StressModelResult> => {
        variants ??= stressVariants(image.rgb, seed);
        const made = await variants;
        const classifier = await this.classifier(id);
        // Every class, so the original's top-1 can be read under each variant.
        const outputs = await classifier.runMany(
          made.map((variant) => ({ image: { ...image, rgb: variant.rgb }, top: Number.MAX_SAFE_INTEGER })),
          { onPosition: (position) => watch.waiting?.({ model: id, position }) },
        );
        const top = outputs[0]!.predictions[0]!;
        return {
          model: outputs[0]!.model,
          timings: outputs[0]!.timings,
          original: { label: top.label, index: top.index, score: top.score },
          variants: outputs.map(({ predictions }) => {
            const best = predictions[0]!;
            const same = predictions.find((prediction) => prediction.index === top.index);
            return {
              label: best.label,
              index: best.index,
              score: same?.score ?? 0,
              keptTop1: best.index === top.index,
            };
          }),
        };
      },
      watch,
      'classifier',
    );
    const { source, results, unavailable, decodeMs } = outcome;
    // Set: a model ran (experiment throws when none could), and each run makes them first.
    return {
      source,
      variants: await variants!,
      results,
      unavailable,
      decodeMs,
    };
  }

  /**
   * The steps /classify applies to an image for one model (a role or a manifest id), read from
   * the model's manifest entry: the model itself is not loaded, so this works before it is pulled.
   */
  async preprocessSteps(bytes: Buffer, choice: ModelChoice): Promise<ImageSteps & { model: string }> {
    const id = this.modelsFor(choice)[0]!;
    const entry = getModel(this.settings.context.store.manifest, id);
    if (!entry.preprocess)
      throw new UserFacingError(`${id} is not an image model, so it has no image preprocessing to show.`, {
        code: 'unknown_model',
      });
    return { model: id, ...(await imageSteps(bytes, entry.preprocess, this.settings.limits)) };
  }

  /** CLIP scores of one image against the user's labels. */
  async match(
    bytes: Buffer,
    labels: readonly string[],
    onWaiting?: (notice: WaitingNotice) => void,
  ): Promise<MatchResult> {
    const spec = this.settings.context.store.manifest.models.get(this.settings.models.clip)?.preprocess;
    const image = await decodeImage(bytes, this.settings.limits, spec ? neededShorterSide(spec) : 224);
    const matcher = await this.clipMatcher();
    return matcher.match(image, labels, {
      onPosition: (position) => onWaiting?.({ model: this.settings.models.clip, position }),
    });
  }
}
