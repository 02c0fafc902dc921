import {
  createPipeline,
  loadModel,
  rowsOf,
  runForOutput,
  stack,
  type Pipeline,
  type PipelineContext,
  type Produced,
} from '../inference/pipeline.js';
import { loadLabels, softmax, topK, type Prediction } from '../models/labels.js';
import type { RgbImage } from '../util/image.js';
import { UserFacingError } from '../util/errors.js';
import { prepareDecoded, type DecodedImage, type ModelInput } from './preprocess.js';

export interface ClassifierRequest {
  image: DecodedImage;
  top: number;
}

/** Top-k labels, and the exact pixels the model saw (for the patch view and thumbnails). */
export type Classification = Produced<{ predictions: Prediction[]; preview: RgbImage }>;

export type ImageClassifier = Pipeline<
  ClassifierRequest,
  ModelInput,
  Float32Array,
  Omit<Classification, 'model' | 'timings'>
>;

/** A CNN or ViT ImageNet-style classifier: its preprocessing, one batched session, its labels. */
export async function loadImageClassifier(context: PipelineContext, id: string): Promise<ImageClassifier> {
  const model = await loadModel(context, id, 'image-classification', ['model']);
  const { entry } = model;
  const spec = entry.preprocess;
  if (!spec)
    throw new UserFacingError(`Model "${id}" has no preprocess settings in the manifest.`, {
      code: 'manifest_invalid',
    });
  const labels = await loadLabels(entry, context.store.manifest.baseDir, model.dir);
  const session = model.sessions.model!;
  const input = entry.inputs.pixels ?? session.session.inputNames[0]!;
  const output = entry.outputs.logits ?? session.session.outputNames[0]!;
  const dims = spec.layout === 'nchw' ? [3, spec.size.height, spec.size.width] : [spec.size.height, spec.size.width, 3];
  const size = dims.reduce((a, b) => a * b, 1);

  return createPipeline(context, model, {
    prepare: (request: ClassifierRequest): Promise<ModelInput> => prepareDecoded(request.image, spec),
    runBatch: async (items) => {
      const logits = await runForOutput(
        session,
        {
          [input]: stack(
            items.map((item) => item.tensor),
            dims,
          ),
        },
        output,
        id,
      );
      const classes = Number(logits.dims[logits.dims.length - 1]);
      if (classes !== labels.length)
        throw new Error(`${id}: the model has ${classes} classes but ${labels.length} labels`);
      return rowsOf(logits, items.length);
    },
    finish: (logits, request, item) => ({ predictions: topK(softmax(logits), labels, request.top), preview: item.rgb }),
    warmUpItem: {
      tensor: spec.dtype === 'uint8' ? new Uint8Array(size) : new Float32Array(size),
      rgb: { data: Buffer.alloc(0), width: 0, height: 0 },
    },
  });
}
