/**
 * The retriever's vocabulary for the study notes' field: how students say things, and the words
 * the notes use for them. It is about the subject, not about the notes' sentences, so it still
 * holds when a note is reworded; keep it that way (a word belongs here when any good note on
 * the topic would use the technical term, whatever its wording).
 *
 * Entries are plain words: the retriever lowercases, stems (Porter) and spells them the same
 * way as notes and questions, so "photo" also covers "photos" and "photographed".
 */

/**
 * Words that mean the same thing here, read everywhere (notes and questions) as the group's
 * first word. Only true equivalents: a word with a second meaning in these notes belongs in
 * RELATED_TERMS instead.
 */
export const SYNONYMS: readonly string[][] = [
  ['image', 'picture', 'photo', 'photograph', 'pic', 'snapshot', 'selfie'],
  ['cnn', 'convolution', 'convolutional', 'convnet'],
  ['rnn', 'recurrent'],
  ['class', 'category'],
  ['fast', 'faster', 'quick', 'quicker', 'speed', 'speedy'],
  ['large', 'larger', 'big', 'bigger', 'huge'],
  ['confidence', 'confident', 'sure', 'certain', 'certainty', 'overconfident'],
  ['accuracy', 'accurate'],
  ['mistake', 'wrong', 'error', 'incorrect'],
  ['explanation', 'explainability', 'interpretability', 'interpretable', 'interpret'],
  ['unlabelled', 'unannotated'],
  ['label', 'annotation', 'annotate'],
  ['pretraining', 'pretrain', 'pretrained'],
  ['finetuning', 'finetune', 'finetuned'],
  ['lemmatization', 'lemmatize', 'lemmatizer', 'lemma'],
  ['tokenizer', 'tokenize', 'tokenization'],
  ['quantization', 'quantize', 'quantized'],
  ['saliency', 'salient'],
];

/**
 * Everyday words or two-word phrases (the key; stop words such as "the" or "which" do not
 * count) and the technical terms a note uses for the same idea. A question containing the key
 * also searches for the terms, at a lower weight than its own words.
 */
export const RELATED_TERMS: Readonly<Record<string, string>> = {
  // Explanations: "which part made it decide", "what did it focus on".
  decide: 'explanation saliency attribution',
  decision: 'explanation saliency attribution',
  reasoning: 'explanation saliency attribution',
  focus: 'attention saliency',
  'look at': 'attention saliency',
  'pay attention': 'attention saliency',
  highlight: 'saliency attention map',
  heatmap: 'saliency attention map grad-cam',
  'heat map': 'saliency attention map grad-cam',
  'important pixels': 'saliency attribution',
  responsible: 'attribution explanation',
  'black box': 'explanation interpretability',
  transparent: 'explanation transparency',
  trust: 'explanation sanity checks',

  // CLIP and zero-shot: labels you choose, captions, wording.
  caption: 'clip contrastive image-caption',
  'own labels': 'zero-shot clip labels',
  'custom labels': 'zero-shot clip labels',
  'any label': 'zero-shot clip labels',
  invent: 'zero-shot clip labels',
  'made up': 'zero-shot clip labels',
  arbitrary: 'zero-shot clip labels',
  'never trained': 'zero-shot',
  'without retraining': 'zero-shot',
  'without training': 'zero-shot',
  'text and images': 'clip joint space',
  'images and text': 'clip joint space',
  'words and pictures': 'clip joint space',
  phrasing: 'prompt template',
  wording: 'prompt template',
  'full sentence': 'prompt template',

  // CNN versus ViT.
  assumption: 'inductive bias',
  prior: 'inductive bias',
  'built in': 'inductive bias',
  'hard-wired': 'inductive bias',
  'sliding window': 'convolution filter',
  filter: 'convolution',
  kernel: 'convolution filter',
  disagree: 'agreement disagree',
  'different answers': 'agreement disagree',
  'two classifiers': 'cnn vit',
  'both models': 'cnn vit',
  'little data': 'data hungry inductive bias',
  'small dataset': 'data hungry inductive bias',
  'vision transformer': 'vit',

  // Embeddings and similarity.
  'list of numbers': 'vector embedding',
  vector: 'embedding',
  meaning: 'embedding representation',
  semantic: 'embedding representation',
  similar: 'similarity cosine',
  close: 'similarity cosine',
  distance: 'similarity cosine',
  related: 'similarity',

  // Image preprocessing.
  prepare: 'preprocessing',
  resize: 'preprocessing resize',
  shrink: 'resize',
  crop: 'preprocessing crop',
  flip: 'augmentation',
  mirror: 'augmentation',
  jitter: 'augmentation',
  variation: 'augmentation',
  sideways: 'exif orientation rotation',
  'upside down': 'exif orientation rotation',
  rotated: 'exif orientation rotation',
  orientation: 'exif rotation',
  brightness: 'normalize mean std',

  // ImageNet's classes.
  'list of classes': 'imagenet classes',
  recognise: 'classes',
  thousand: 'imagenet 1000 classes',
  person: 'imagenet classes person',
  people: 'imagenet classes person',
  human: 'imagenet classes person',
  breed: 'imagenet dog breeds',
  'never name': 'imagenet classes missing',

  // Other languages.
  foreign: 'language multilingual non-english',
  'non-english': 'language multilingual',
  japanese: 'language multilingual non-english script',
  chinese: 'language multilingual non-english script',
  korean: 'language multilingual non-english script',
  arabic: 'language multilingual non-english script',
  hindi: 'language multilingual non-english script',
  russian: 'language multilingual non-english script',
  spanish: 'language multilingual non-english',
  french: 'language multilingual non-english',
  german: 'language multilingual non-english',
  italian: 'language multilingual non-english',
  country: 'language culture universal',
  translate: 'translation multilingual',

  // Lexicon versus learned sentiment.
  'word list': 'lexicon vader',
  dictionary: 'lexicon',
  'rule-based': 'lexicon rules vader',
  'hand-written': 'lexicon rules',
  'hand-built': 'lexicon rules',
  neural: 'distilbert learned',
  mood: 'sentiment',
  emotion: 'sentiment',
  feeling: 'sentiment',
  tone: 'sentiment',
  opinion: 'sentiment',
  polarity: 'sentiment',
  irony: 'sarcasm',
  ironic: 'sarcasm',
  sarcastic: 'sarcasm',
  'sentiment engines': 'vader distilbert disagree',
  opposite: 'disagree',

  // What a model receives.
  input: 'pixels tokens',
  receive: 'input pixels tokens',
  feed: 'input',
  'raw numbers': 'pixels tensor',
  numbers: 'pixels tensor vector',
  see: 'sees pixels',
  signal: 'pixels continuous',

  // Quantization and speed.
  smaller: 'quantization int8',
  compress: 'quantization int8',
  lighter: 'quantization int8',
  integer: 'int8 quantization',
  '8-bit': 'int8 quantization',
  'lower precision': 'quantization int8 fp32',
  'half precision': 'fp16 precision',
  laptop: 'cpu',
  'speed up': 'quantization speed',
  'run faster': 'quantization speed',

  // Recurrent networks.
  'one word': 'recurrent sequential',
  sequentially: 'recurrent sequential',
  'step by step': 'recurrent sequential',
  'long sentences': 'long range recurrent',
  'long-range': 'long range',
  forget: 'lstm hidden state',
  'sequence model': 'rnn lstm',
  'before attention': 'rnn lstm',
  'before transformers': 'rnn lstm',

  // Robustness.
  blur: 'robustness corruption noise',
  blurry: 'robustness corruption noise',
  noisy: 'robustness corruption noise',
  grainy: 'robustness corruption noise',
  'low quality': 'robustness corruption',
  fool: 'adversarial',
  trick: 'adversarial',
  attack: 'adversarial',
  perturbation: 'adversarial',
  'tiny changes': 'adversarial',
  'real-world': 'distribution shift',
  'different data': 'distribution shift',
  'new data': 'distribution shift',
  misspelling: 'typo noise',
  tweets: 'domain shift',
  'out-of-distribution': 'distribution shift',

  // Scaling.
  'bigger models': 'scaling laws parameters',
  'more parameters': 'scaling laws',
  'more data': 'scaling laws data',
  budget: 'compute scaling',
  costly: 'compute cost flops',
  expensive: 'compute cost',
  size: 'parameters model size',

  // Self-supervised pre-training.
  'without labels': 'self-supervised unlabelled',
  'no labels': 'self-supervised unlabelled',
  unlabelled: 'self-supervised',
  'nobody annotated': 'self-supervised unlabelled',
  'fill in': 'masked',
  'missing word': 'masked language modeling',
  'next word': 'next token',
  'raw text': 'self-supervised',

  // Softmax and calibration.
  percentage: 'softmax probability confidence',
  percent: 'softmax probability confidence',
  probability: 'softmax calibration',
  chance: 'probability calibration',
  'same scores': 'softmax flat',
  'similar scores': 'softmax flat',

  // Text preprocessing.
  'clean up': 'preprocessing normalization',
  'clean text': 'preprocessing normalization',
  'root form': 'stemming lemmatization',
  'base form': 'stemming lemmatization',
  'dictionary form': 'lemmatization',
  'common form': 'stemming lemmatization',
  'word endings': 'stemming suffixes',
  suffix: 'stemming',
  plural: 'stemming lemmatization',
  'capital letters': 'lowercase',
  'old-school': 'classic preprocessing',

  // Tokenization.
  chop: 'tokenizer subword split',
  fragment: 'tokenizer subword pieces',
  pieces: 'tokenizer subword',
  'rare word': 'subword unk',
  'unknown word': 'unk subword',
  'never seen': 'unk zero-shot',
  unseen: 'unk zero-shot',

  // Transformers everywhere.
  'same architecture': 'convergence transformer',
  'one architecture': 'convergence transformer',
  'took over': 'convergence transformer',
  'take over': 'convergence transformer',
  window: 'swin windows',
  'high-resolution': 'swin cost',
  quadratic: 'attention cost square',

  // Detection and segmentation (a "detector" stems apart from "detection").
  detector: 'detection',
  locate: 'detection bounding box',
  'bounding box': 'detection box',

  // Transfer learning.
  reuse: 'transfer learning fine-tuning',
  'from scratch': 'transfer learning pretraining',

  // Evaluation.
  measure: 'evaluation metrics',

  // Checking VADER scores.
  tutorial: 'vader myths check',
  blog: 'vader myths check',
  article: 'vader myths check',
  online: 'vader myths check',
  verify: 'check reproduce',
  port: 'javascript port',
  bug: 'port',
  buggy: 'port',
};
