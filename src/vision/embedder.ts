import { createPipeline, stack, type PipelineContext } from '../inference/pipeline.js';
import { describeModel } from '../models/manifest.js';
import { pooledOutputName } from '../inference/pooled-output.js';
import { UserFacingError } from '../util/errors.js';
import { prepareDecoded, type DecodedImage, type ModelInput } from './preprocess.js';

/** Turns an image into a fixed-length vector: what /teach's probe is trained on. */
export interface ImageEmbedder {
  /** Stored beside every embedding: vectors of different embedders are never mixed. */
  id: string;
  embed(image: DecodedImage): Promise<Float32Array>;
}

/**
 * A CNN's penultimate features: the global average of its last feature map (the manifest's
 * `outputs.features`, MobileNetV2's `627`), exposed by an in-memory graph edit. This is exactly
 * the vector the CNN's own ImageNet classifier reads, so a probe on it is transfer learning.
 */
export async function loadFeatureEmbedder(context: PipelineContext, id: string): Promise<ImageEmbedder> {
  const entry = context.store.entry(id);
  const tensor = entry.outputs.features;
  const spec = entry.preprocess;
  if (entry.task !== 'image-classification' || !tensor || !spec) {
    throw new UserFacingError(
      `${describeModel(entry)} cannot embed images for /teach: its manifest entry names no features tensor (outputs.features). Use TEACH_EMBEDDER=clip or a CNN whose entry names one.`,
      { code: 'unknown_model' },
    );
  }
  const resolved = await context.store.resolve(id, context.precision);
  const path = resolved.weights.model;
  if (!path) {
    throw new UserFacingError(`Model "${id}" lists no "model" weight file in the manifest.`, {
      code: 'manifest_invalid',
    });
  }
  const loaded = await context.engine.pooledSession(path, tensor);
  const input = entry.inputs.pixels ?? loaded.session.inputNames[0]!;
  const output = pooledOutputName(tensor);
  const dims = spec.layout === 'nchw' ? [3, spec.size.height, spec.size.width] : [spec.size.height, spec.size.width, 3];
  const size = dims.reduce((a, b) => a * b, 1);
  const model = {
    entry,
    dir: resolved.dir,
    sessions: { model: loaded },
    identity: {
      id,
      name: entry.name,
      architecture: entry.architecture,
      precision: resolved.precision,
      executionProvider: loaded.executionProvider,
    },
  };
  const pipeline = await createPipeline(
    context,
    model,
    {
      prepare: (image: DecodedImage): Promise<ModelInput> => prepareDecoded(image, spec),
      runBatch: async (items) => {
        const result = (
          await loaded.session.run({
            [input]: stack(
              items.map((item) => item.tensor),
              dims,
            ),
          })
        )[output];
        if (!result) throw new Error(`${id}: the pooled features output is missing`);
        const width = Number(result.dims[1]);
        const data = result.data as Float32Array;
        return items.map((_, index) => data.slice(index * width, (index + 1) * width));
      },
      finish: (features: Float32Array) => ({ features }),
      warmUpItem: {
        tensor: spec.dtype === 'uint8' ? new Uint8Array(size) : new Float32Array(size),
        rgb: { data: Buffer.alloc(0), width: 0, height: 0 },
      },
    },
    'features',
  );
  return { id: `${id}:features`, embed: async (image) => (await pipeline.run(image)).features };
}
