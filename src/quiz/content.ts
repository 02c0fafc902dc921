import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../util/paths.js';

/** The built-in images, public domain or CC0 (assets/quiz/README.md says where each comes from). */
export const QUIZ_IMAGES_DIR = join(PROJECT_ROOT, 'assets', 'quiz');

export interface BuiltInImage {
  file: string;
  /** What it shows, as a CLIP label. */
  label: string;
}

export const BUILT_IN_IMAGES: readonly BuiltInImage[] = [
  { file: 'cat.jpg', label: 'a cat' },
  { file: 'coffee.jpg', label: 'a cup of coffee' },
  { file: 'astronaut.jpg', label: 'an astronaut' },
  { file: 'rocket.jpg', label: 'a rocket launch' },
];

export async function readBuiltInImage(image: BuiltInImage): Promise<Buffer> {
  return readFile(join(QUIZ_IMAGES_DIR, image.file));
}

/** Labels a CLIP round draws its wrong options from. */
export const CLIP_LABELS: readonly string[] = [
  'a cat',
  'a dog',
  'a cup of coffee',
  'an astronaut',
  'a rocket launch',
  'a bicycle',
  'a pizza',
  'a city street at night',
  'a forest',
  'a guitar',
  'a sailing boat',
  'a bowl of soup',
];

/**
 * Sentences for the tokenizer and agreement rounds: rare words, accents, emoji and numbers (where
 * the tokenizers differ), and negation, sarcasm and mixed feelings (where VADER's rules and the
 * transformer's learned reading tend to part).
 */
export const QUIZ_SENTENCES: readonly string[] = [
  'The unaffable barista served a café crème anyway.',
  "The movie wasn't bad at all.",
  'Oh great, another Monday morning meeting.',
  'The plot was thin but the acting was wonderful.',
  'I did not hate the food, but I will not come back.',
  'Tokenization splits unbelievably long words into pieces.',
  'Our GPU ran 1234567 steps before crashing 😅',
  'Nothing about this phone is remarkable.',
  'The hotel was fine, I guess.',
  'Absolutely loved the ending, even though it made me cry.',
  'Yeah right, like that is ever going to work.',
  'Transformers read subwords; CNNs read pixels.',
];
