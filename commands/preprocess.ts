import { slashCommand, type EmbedField, type ReplyFile } from '../src/command/definition.js';
import { option } from '../src/command/options.js';
import { explainPreprocessing, type Explanation } from '../src/knowledge/explanations.js';
import { table } from '../src/render/format.js';
import { renderStepStrip } from '../src/render/step-strip.js';
import { prepareText } from '../src/text/input.js';
import type { ClassicPipeline } from '../src/text/preprocess/pipeline.js';
import { POS_NAMES } from '../src/text/preprocess/wordnet.js';
import { TOKENIZER_NAMES, type SentimentReport, type TokenizerName } from '../src/text/service.js';
import { describeError, isUserFacing, UserFacingError } from '../src/util/errors.js';
import { quoteUserText } from '../src/util/user-text.js';
import type { ImageStep, Rect } from '../src/vision/preprocess-steps.js';

/** What one side of the sentiment comparison said about one text. */
interface SentimentView {
  text: string;
  vader: { label: string; compound: number };
  transformer: { label: string; score: number } | { unavailable: string };
}

export interface TextPreprocessReport {
  kind: 'text';
  pipeline: ClassicPipeline;
  /** The pieces each subword tokenizer cuts the cleaned text into, as /tokenize shows them. */
  subwords: Partial<Record<TokenizerName, string[]>>;
  sentiment: { raw: SentimentView; preprocessed: SentimentView | null };
  notes: string[];
  explanation: Explanation;
}

export interface ImagePreprocessReport {
  kind: 'image';
  model: string;
  imageName: string;
  steps: ImageStep[];
  explanation: Explanation;
}

export type PreprocessReport = TextPreprocessReport | ImagePreprocessReport;

const TEXT_READING =
  'Every classic step is a decision that throws something away (case, punctuation, stop words such as "not", suffixes); a transformer reads the raw text as subwords and learns what matters.';
const IMAGE_READING =
  'These steps are fixed arithmetic that lose little: a resize, a crop and a per-channel shift and scale. The text steps are decisions that lose meaning.';

const SHOWN_TOKENS = 40;

function sentimentView(text: string, report: SentimentReport): SentimentView {
  const { transformer } = report;
  return {
    text,
    vader: { label: report.vader.label, compound: report.vader.compound },
    transformer:
      'label' in transformer
        ? { label: transformer.label.toLowerCase(), score: transformer.score }
        : { unavailable: transformer.unavailable },
  };
}

const tokenList = (tokens: readonly string[], target: 'code' | 'plain', limit = SHOWN_TOKENS): string => {
  if (tokens.length === 0) return '(nothing left)';
  const shown = tokens.slice(0, limit).map((token) => (target === 'code' ? quoteUserText(token, 'code') : token));
  const rest = tokens.length > limit ? ` … (+${tokens.length - limit} more)` : '';
  return (target === 'code' ? shown.join(' ') : quoteUserText(shown.join(' | '), 'plain')) + rest;
};

const describeSentiment = (view: SentimentView): string =>
  `VADER ${view.vader.label} (compound ${view.vader.compound.toFixed(3)}); transformer ` +
  ('label' in view.transformer
    ? `${view.transformer.label} ${(view.transformer.score * 100).toFixed(1)}%`
    : `unavailable: ${view.transformer.unavailable}`);

const number = (value: number): string => (Number.isInteger(value) ? String(value) : value.toFixed(3));

const scaled = (rect: Rect, factor: number): Rect => ({
  left: rect.left * factor,
  top: rect.top * factor,
  width: rect.width * factor,
  height: rect.height * factor,
});

const stepLine = (step: ImageStep): string =>
  `${step.width}×${step.height}, [${step.shape.join(', ')}], min ${number(step.stats.min)} max ${number(step.stats.max)} mean ${number(step.stats.mean)} std ${number(step.stats.std)}`;

export default slashCommand({
  name: 'preprocess',
  description: 'The classic NLP pipeline (tokenize, stop words, stem, lemmatize) or the image pipeline, step by step',
  help: {
    what: 'The classic NLTK-style pipeline step by step (Treebank tokens, stop words, Porter stems, WordNet lemmas) beside subword tokens and sentiment, or the image steps /classify applies.',
    example: { text: "The studies weren't better" },
  },
  options: {
    text: option.string('A sentence to run through the classic text pipeline', { maxLength: 6000 }),
    image: option.attachment('An image to run through the image pipeline instead', { required: false }),
    model: option.string("Whose image preprocessing to show (default: the CNN's)", {
      choices: [
        { name: 'The CNN (shorter side, then centre crop)', value: 'cnn' },
        { name: 'The ViT (squashed to a square)', value: 'vit' },
      ],
      otherValues: '<manifest id>',
      default: 'cnn',
    }),
  },
  positional: ['text'],
  positionalFile: 'image',
  usesModels: true,

  async execute({ options: { text: raw, image, model }, services, progress }): Promise<PreprocessReport> {
    if ((raw === undefined) === (image === undefined))
      throw new UserFacingError(
        raw === undefined
          ? 'Give /preprocess a sentence (text:) or an image (image:).'
          : 'Give /preprocess a sentence or an image, not both: they run through different pipelines.',
        { code: 'invalid_options' },
      );
    if (image) {
      const outcome = await services.vision.preprocessSteps(image.bytes, model.trim());
      return {
        kind: 'image',
        model: outcome.model,
        imageName: image.name,
        steps: outcome.steps,
        explanation: explainPreprocessing('image'),
      };
    }
    const prepared = prepareText(raw ?? '', services.config.TEXT_MAX_CHARS, { stripMarkup: true });
    const pipeline = await services.text.classicPipeline(prepared.text);
    const notes = [...prepared.notes, ...pipeline.notes];
    // A tokenizer that cannot load is reported, and the others still answer.
    const subwords: TextPreprocessReport['subwords'] = {};
    const settled = await Promise.allSettled(
      TOKENIZER_NAMES.map((name) => services.text.tokenize(prepared.text, [name])),
    );
    settled.forEach((outcome, index) => {
      const name = TOKENIZER_NAMES[index]!;
      if (outcome.status === 'fulfilled') subwords[name] = outcome.value[0]!.tokens.map((token) => token.piece);
      else {
        const error: unknown = outcome.reason;
        if (!isUserFacing(error)) services.logger.error({ err: error, tokenizer: name }, 'tokenizer failed');
        notes.push(
          `The ${name} tokenizer is unavailable: ${isUserFacing(error) ? error.message : describeError(error)}`,
        );
      }
    });
    const waiting = (position: number): void => progress(`transformer: waiting in the queue, position ${position}`);
    const [rawSentiment, preprocessedSentiment] = await Promise.all([
      services.text.sentiment(prepared.text, waiting),
      pipeline.preprocessed ? services.text.sentiment(pipeline.preprocessed, waiting) : undefined,
    ]);
    return {
      kind: 'text',
      pipeline,
      subwords,
      sentiment: {
        raw: sentimentView(prepared.text, rawSentiment),
        preprocessed: preprocessedSentiment ? sentimentView(pipeline.preprocessed, preprocessedSentiment) : null,
      },
      notes,
      explanation: explainPreprocessing('text'),
    };
  },

  toJson: (report) =>
    report.kind === 'image'
      ? {
          model: report.model,
          steps: report.steps.map((step) => ({
            name: step.name,
            width: step.width,
            height: step.height,
            shape: step.shape,
            ...step.stats,
          })),
        }
      : {
          steps: report.pipeline.steps.map(({ name, tokens }) => ({ name, tokens })),
          stems: report.pipeline.stems.map(({ word, stem }) => ({ word, stem })),
          lemmas: report.pipeline.lemmas.map(({ word, pos, lemma }) => ({ word, pos, lemma })),
          subwords: report.subwords,
          sentiment: report.sentiment,
        },

  toText: (report) => {
    if (report.kind === 'image')
      return [
        `Image preprocessing for ${report.model}:`,
        table(
          ['#', 'step', 'size', 'shape', 'min', 'max', 'mean', 'std', 'what happened'],
          report.steps.map((step, index) => [
            String(index + 1),
            step.name,
            `${step.width}×${step.height}`,
            `[${step.shape.join(', ')}]`,
            number(step.stats.min),
            number(step.stats.max),
            number(step.stats.mean),
            number(step.stats.std),
            step.detail,
          ]),
        ),
        IMAGE_READING,
        report.explanation.text,
      ].join('\n\n');
    const { pipeline, subwords, sentiment } = report;
    return [
      table(
        ['step', 'result'],
        pipeline.steps.map((step) => [step.name, tokenList(step.tokens, 'plain', Infinity)]),
      ),
      pipeline.lemmas.length
        ? table(
            ['word', 'Porter stem', 'lemma', 'as', 'why'],
            pipeline.lemmas.map((lemma) => [
              quoteUserText(lemma.word, 'plain'),
              quoteUserText(pipeline.stems.find((stem) => stem.word === lemma.word)?.stem ?? '', 'plain'),
              quoteUserText(lemma.lemma, 'plain'),
              POS_NAMES[lemma.pos],
              lemma.posReason,
            ]),
          )
        : '',
      'Subwords (no stemming, no stop words):\n' +
        (Object.entries(subwords)
          .map(([name, pieces]) => `${name}: ${tokenList(pieces, 'plain', Infinity)}`)
          .join('\n') || '(no tokenizer available)'),
      `Raw text: ${describeSentiment(sentiment.raw)}\n` +
        (sentiment.preprocessed
          ? `Preprocessed ("${quoteUserText(sentiment.preprocessed.text, 'plain')}"): ${describeSentiment(sentiment.preprocessed)}`
          : 'Preprocessed: nothing left to score.'),
      ...report.notes,
      TEXT_READING,
      report.explanation.text,
    ]
      .filter(Boolean)
      .join('\n\n');
  },

  async toEmbeds(report) {
    if (report.kind === 'image') {
      const strip = await renderStepStrip(
        report.steps.map((step) => ({
          title: step.name,
          lines: [
            `${step.width}×${step.height} · [${step.shape.join(',')}]`,
            `min ${number(step.stats.min)} max ${number(step.stats.max)}`,
            `mean ${number(step.stats.mean)} std ${number(step.stats.std)}`,
          ],
          image: step.thumbnail,
          // The crop is in the step's pixels; the thumbnail is smaller.
          ...(step.crop ? { outline: scaled(step.crop, step.thumbnail.width / step.width) } : {}),
        })),
      );
      const files: ReplyFile[] = [{ name: 'preprocess.png', data: strip }];
      const fields: EmbedField[] = report.steps.map((step, index) => ({
        name: `${index + 1}. ${step.name}`,
        value: `${stepLine(step)}\n${step.detail}`,
      }));
      fields.push({ name: 'The reading', value: IMAGE_READING });
      fields.push({ name: 'Read more', value: report.explanation.text });
      return {
        embeds: [
          {
            title: `Image preprocessing for ${report.model}`,
            description: `What /classify does to **${quoteUserText(report.imageName)}** before the model sees it. The outlined part of the resized image is what the centre crop keeps.`,
            fields,
            image: 'preprocess.png',
          },
        ],
        files,
      };
    }
    const { pipeline, subwords, sentiment } = report;
    const fields: EmbedField[] = pipeline.steps.map((step, index) => ({
      name: `${index + 1}. ${step.name}`,
      value: tokenList(step.tokens, 'code'),
    }));
    if (pipeline.lemmas.length)
      fields.push({
        name: 'Stem vs lemma',
        value: pipeline.lemmas
          .slice(0, 15)
          .map(
            (lemma) =>
              `${quoteUserText(lemma.word, 'code')} → stem ${quoteUserText(pipeline.stems.find((stem) => stem.word === lemma.word)?.stem ?? '', 'code')}, lemma ${quoteUserText(lemma.lemma, 'code')} (${POS_NAMES[lemma.pos]}: ${lemma.posReason})`,
          )
          .join('\n'),
      });
    for (const [name, pieces] of Object.entries(subwords))
      fields.push({ name: `Subwords · ${name}`, value: tokenList(pieces, 'code'), inline: true });
    fields.push({
      name: 'Sentiment: raw vs preprocessed',
      value:
        `Raw: ${describeSentiment(sentiment.raw)}\n` +
        (sentiment.preprocessed
          ? `Preprocessed (${quoteUserText(sentiment.preprocessed.text.slice(0, 200), 'code')}): ${describeSentiment(sentiment.preprocessed)}`
          : 'Preprocessed: nothing left to score.'),
    });
    if (report.notes.length) fields.push({ name: 'Notes', value: report.notes.map((note) => `• ${note}`).join('\n') });
    fields.push({ name: 'The reading', value: TEXT_READING });
    fields.push({ name: 'Read more', value: report.explanation.text });
    return {
      embeds: [
        {
          title: 'The classic text pipeline, step by step',
          description:
            "NLTK's defaults: Treebank word tokenizer, NLTK's English stop-word list (179 words), Porter stemmer (NLTK mode), WordNet lemmatizer with a guessed part of speech.",
          fields,
          footer:
            'Sentence split by rule (NLTK uses its trained Punkt model); WordNet 3.1 index, WordNet 3.0 exception lists',
        },
      ],
      files: [],
    };
  },
});
