import {
  createPipeline,
  loadModel,
  rowsOf,
  runForOutput,
  type Pipeline,
  type PipelineContext,
  type Produced,
} from '../inference/pipeline.js';
import { loadTokenizer, tokenize } from '../inference/tokenizer.js';
import { loadLabels, softmax } from '../models/labels.js';

export type TransformerSentiment = Produced<{
  label: string;
  score: number;
  scores: Record<string, number>;
  tokens: number;
  maxTokens: number;
  truncated: boolean;
}>;

interface EncodedLogits {
  logits: Float32Array;
  tokens: number;
  truncated: boolean;
}

export type TextClassifier = Pipeline<string, string, EncodedLogits, Omit<TransformerSentiment, 'model' | 'timings'>>;

/** A transformer text classifier (DistilBERT SST-2): tokenizer, one batched session, its labels. */
export async function loadTextClassifier(context: PipelineContext, id: string): Promise<TextClassifier> {
  const model = await loadModel(context, id, 'text-classification', ['model']);
  const { entry } = model;
  const [tokenizer, labels] = await Promise.all([
    loadTokenizer(model.dir, id),
    loadLabels(entry, context.store.manifest.baseDir, model.dir),
  ]);
  const session = model.sessions.model!;
  const maxTokens = entry.maxTokens ?? 512;
  const names = { ids: entry.inputs.ids ?? 'input_ids', mask: entry.inputs.mask ?? 'attention_mask' };

  return createPipeline(context, model, {
    prepare: (text: string) => text,
    // Tokenised per batch: one padded tensor for the batch's longest text.
    runBatch: async (texts) => {
      const encoded = tokenize(tokenizer, [...texts], maxTokens);
      const output = await runForOutput(
        session,
        { [names.ids]: encoded.ids, [names.mask]: encoded.mask },
        entry.outputs.logits ?? 'logits',
        id,
      );
      return rowsOf(output, texts.length).map((logits, index) => ({
        logits,
        tokens: encoded.lengths[index]!,
        truncated: encoded.truncated[index]!,
      }));
    },
    finish: ({ logits, tokens, truncated }) => {
      const probabilities = softmax(logits);
      let best = 0;
      probabilities.forEach((p, index) => {
        if (p > probabilities[best]!) best = index;
      });
      return {
        label: labels[best] ?? `class ${best}`,
        score: probabilities[best]!,
        scores: Object.fromEntries(labels.map((label, index) => [label, probabilities[index]!])),
        tokens,
        maxTokens,
        truncated,
      };
    },
    warmUpItem: 'warm up',
  });
}
