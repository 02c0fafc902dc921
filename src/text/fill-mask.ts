import { ort } from '../inference/engine.js';
import {
  createPipeline,
  loadModel,
  runForOutput,
  type Pipeline,
  type PipelineContext,
  type Produced,
} from '../inference/pipeline.js';
import { loadTokenizer, tokenize } from '../inference/tokenizer.js';
import { softmax } from '../models/labels.js';
import { UserFacingError } from '../util/errors.js';

export interface FillGuess {
  token: string;
  score: number;
}

/** The model's top guesses for every [MASK] in a text, in order. */
export type FilledMasks = Produced<{ blanks: FillGuess[][] }>;

interface Raw {
  /** Per [MASK] position, the vocabulary's logits. */
  positions: Float32Array[];
}

export type FillMaskModel = Pipeline<string, string, Raw, Omit<FilledMasks, 'model' | 'timings'>> & {
  maskToken: string;
};

/** A masked language model (BERT): tokenizer, one batched session; each [MASK]'s top 3 tokens. */
export async function loadFillMask(context: PipelineContext, id: string, top = 3): Promise<FillMaskModel> {
  const model = await loadModel(context, id, 'fill-mask', ['model']);
  const { entry } = model;
  const tokenizer = await loadTokenizer(model.dir, id);
  const session = model.sessions.model!;
  const maskToken = '[MASK]';
  const encoded = tokenizer.encode(maskToken);
  const maskId = encoded.ids.find((_, index) => !encoded.special[index]);
  if (maskId === undefined || encoded.pieces.filter((_, index) => !encoded.special[index]).join('') !== maskToken)
    throw new UserFacingError(`The tokenizer of model "${id}" has no ${maskToken} token.`, { code: 'model_invalid' });
  const maxTokens = entry.maxTokens ?? 512;
  const names = {
    ids: entry.inputs.ids ?? 'input_ids',
    mask: entry.inputs.mask ?? 'attention_mask',
    types: entry.inputs.types ?? 'token_type_ids',
  };
  const pipeline = await createPipeline(context, model, {
    prepare: (text: string) => text,
    runBatch: async (texts) => {
      const batch = tokenize(tokenizer, [...texts], maxTokens);
      const feeds: Record<string, ort.Tensor> = { [names.ids]: batch.ids, [names.mask]: batch.mask };
      if (session.session.inputNames.includes(names.types))
        feeds[names.types] = new ort.Tensor('int64', new BigInt64Array(batch.ids.data.length), batch.ids.dims);
      const logits = await runForOutput(session, feeds, entry.outputs.logits ?? 'logits', id);
      const [, width, vocab] = logits.dims.map(Number) as [number, number, number];
      const data = logits.data as Float32Array;
      const ids = batch.ids.data as BigInt64Array;
      return texts.map((_, row) => {
        const positions: Float32Array[] = [];
        for (let t = 0; t < width; t += 1)
          if (ids[row * width + t] === BigInt(maskId))
            positions.push(data.slice((row * width + t) * vocab, (row * width + t + 1) * vocab));
        return { positions };
      });
    },
    finish: ({ positions }) => ({
      blanks: positions.map((logits) => {
        const probabilities = softmax(logits);
        const order = Array.from({ length: probabilities.length }, (_, index) => index)
          .sort((a, b) => probabilities[b]! - probabilities[a]!)
          .slice(0, top);
        return order.map((index) => ({ token: tokenizer.decode([index]).trim(), score: probabilities[index]! }));
      }),
    }),
    warmUpItem: `a ${maskToken}`,
  });
  return Object.assign(pipeline, { maskToken });
}
