import type { PipelineContext } from '../inference/pipeline.js';
import { describeError, isUserFacing, UserFacingError } from '../util/errors.js';
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

export interface WaitingNotice {
  model: string;
  position: number;
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
    onWaiting?: (notice: WaitingNotice) => void,
  ): Promise<ClassifyOutcome> {
    const ids = this.modelsFor(choice);
    const manifest = this.settings.context.store.manifest;
    const sides = ids.flatMap((id) => {
      const spec = manifest.models.get(id)?.preprocess;
      return spec ? [neededShorterSide(spec)] : [];
    });
    const image = await decodeImage(bytes, this.settings.limits, Math.max(224, ...sides));
    const settled = await Promise.allSettled(
      ids.map(async (id) =>
        (await this.classifier(id)).run(
          { image, top },
          { onPosition: (position) => onWaiting?.({ model: id, position }) },
        ),
      ),
    );
    const results: Classification[] = [];
    const unavailable: ClassifyOutcome['unavailable'] = [];
    settled.forEach((outcome, index) => {
      if (outcome.status === 'fulfilled') {
        results.push(outcome.value);
        return;
      }
      const error: unknown = outcome.reason;
      // A decode failure is the image's fault, not the model's: report it as such.
      if (isUserFacing(error) && error.kind === 'image') throw error;
      if (!isUserFacing(error)) this.settings.logger.error({ err: error, model: ids[index] }, 'classifier failed');
      unavailable.push({
        model: ids[index]!,
        reason: isUserFacing(error) ? error.message : `internal error: ${describeError(error)}`,
      });
    });
    if (results.length === 0) {
      throw new UserFacingError(
        `No classifier could run. ${unavailable.map((u) => `${u.model}: ${u.reason}`).join(' ')}`,
        {
          code: 'model_missing',
        },
      );
    }
    const vit = results.find((result) => result.model.architecture === 'vit');
    const patchSize = vit ? manifest.models.get(vit.model.id)?.patchSize : undefined;
    return {
      source: image.source,
      results,
      unavailable,
      agreement: results.length === 2 ? compareClassifications(results[0]!, results[1]!) : undefined,
      patches:
        vit && patchSize ? patchGrid({ width: vit.preview.width, height: vit.preview.height }, patchSize) : undefined,
      decodeMs: image.ms,
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
