import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Services } from '../../../src/app.js';
import { parseArgs, cliOptions } from '../../../src/cli/args.js';
import type { Command, SlashCommand } from '../../../src/command/definition.js';
import { runCommand, validateOptions } from '../../../src/command/run.js';
import type { TryItCommand, TryItExpectation } from '../../../src/knowledge/topics.js';
import { isUserFacing } from '../../../src/util/errors.js';
import { parseLabels } from '../../../src/vision/user-labels.js';
import { HAS_SHARED, ROOT, SHARED, silentLogger, tempDir, testConfig } from '../../helpers.js';

/**
 * Checks the "Try it" commands of the notes against the real command declarations, runs the ones
 * that need only offline assets (VADER, the real tokenizers and MobileNetV2 in ../shared) through
 * the CLI's own argument handling, and checks the claims written under them.
 */

export const IMAGES_DIR = join(SHARED, 'images');

/**
 * What a claim may be about, per command. `true`: checked here by running the command offline
 * (VADER is in the repository; the tokenizers and MobileNetV2 are in ../shared). `false`: a model
 * whose weights only the running bot downloads, so a claim about it cannot be checked here and
 * therefore backs no figure in the note.
 */
export const SUBJECTS: Record<string, Record<string, boolean>> = {
  sentiment: { vader: true, note: true, 'distilbert-sst2': false },
  tokenize: { bert: true, gpt2: true, clip: true, vit: true },
  classify: { 'mobilenetv2-int8': true, 'resnet-50': false, 'vit-base-patch16-224': false },
  match: { 'clip-vit-base-patch32': false },
  // The classic pipeline runs on data in the repository (WordNet, Porter, NLTK's stop words, VADER).
  preprocess: { tokens: true, stopwords: true, stem: true, lemma: true, vader: true, image: true },
  // The image's price comes from the manifest's patch grid; o200k ships in js-tiktoken.
  languages: { image: true, o200k: true },
  stress: { 'mobilenetv2-int8': true, 'vit-base-patch16-224': false },
  'stress-text': { vader: true, 'distilbert-sst2': false },
  saliency: { 'mobilenetv2-int8': true, 'vit-base-patch16-224': false },
  'saliency-text': { vader: true, 'distilbert-sst2': false },
  mask: { 'mobilenetv2-int8': true, 'vit-base-patch16-224': false },
  // The fill-mask BERT's weights are downloaded by the running bot only.
  'mask-text': { 'bert-base-uncased-mlm': false },
};

export const isCheckable = (key: string): boolean => {
  const [command, subject] = key.split(':') as [string, string];
  return SUBJECTS[command]?.[subject] === true;
};

/** The bundled photos a Try-it may name as its attachment (`image:giraffe.jpg`). */
const PHOTO = /^[\w.-]+\.(?:png|jpe?g)$/;

/** Problems with one Try-it command as Discord would take it: command, option names, values, required options. */
export function staticProblems(commands: ReadonlyMap<string, Command>, line: TryItCommand): string[] {
  const command = commands.get(line.command);
  if (!command || command.kind !== 'slash')
    return [`/${line.command} is not a slash command (commands: ${[...commands.keys()].join(', ')})`];
  const problems: string[] = [];
  const specs = command.options.specs;
  const raw: Record<string, unknown> = {};
  for (const { name, value } of line.options) {
    const spec = specs[name];
    if (!spec) {
      problems.push(`/${command.name} has no option "${name}" (options: ${Object.keys(specs).join(', ') || 'none'})`);
      continue;
    }
    if (spec.kind === 'attachment') {
      if (!PHOTO.test(value)) problems.push(`${name}:${value} must name a bundled photo such as coffee.png`);
      else if (HAS_SHARED && !existsSync(join(IMAGES_DIR, value)))
        problems.push(`${name}:${value} is not a photo in ${IMAGES_DIR}`);
      raw[name] = { name: value, bytes: Buffer.alloc(0) };
      continue;
    }
    // Discord offers only the declared choices; other values (a manifest id) are for the CLI.
    if (spec.kind === 'string' && spec.choices && !spec.choices.some((choice) => choice.value === value))
      problems.push(`${name}:${value} is not one of ${spec.choices.map((choice) => choice.value).join(', ')}`);
    raw[name] = value;
  }
  if (problems.length) return problems;
  try {
    validateOptions(command, raw);
    if (command.name === 'match' && typeof raw.labels === 'string') parseLabels(raw.labels);
  } catch (error) {
    problems.push((error as Error).message);
  }
  for (const expectation of line.expectations) {
    const known = SUBJECTS[command.name] ?? {};
    if (!(expectation.subject in known))
      problems.push(
        `${expectation.line}: /${command.name} has no subject "${expectation.subject}" (${Object.keys(known).join(', ') || 'no claims'})`,
      );
  }
  return problems;
}

/** The Try-it command as terminal arguments: positional options in order, the rest as --flags, photos as paths. */
export function cliArgv(command: SlashCommand, line: TryItCommand): string[] {
  const value = (name: string, raw: string): string =>
    command.options.specs[name]?.kind === 'attachment' ? join(IMAGES_DIR, raw) : raw;
  const byName = new Map(line.options.map((option) => [option.name, option.value]));
  return [
    ...command.positional.flatMap((name) => (byName.has(name) ? [value(name, byName.get(name)!)] : [])),
    ...line.options
      .filter((option) => !command.positional.includes(option.name))
      .flatMap((option) => [`--${option.name}`, value(option.name, option.value)]),
  ];
}

/** Which commands need ../shared to run, and which cannot run offline at all. */
export function runnability(line: TryItCommand): { run: true } | { run: false; reason: string } {
  if (line.command === 'match') return { run: false, reason: 'CLIP weights are not available offline' };
  const needsPhoto = line.command === 'preprocess' && line.options.some((option) => option.name === 'image');
  if ((['tokenize', 'classify', 'stress', 'saliency', 'mask'].includes(line.command) || needsPhoto) && !HAS_SHARED)
    return { run: false, reason: `${SHARED} is absent` };
  return { run: true };
}

/**
 * Services as the CLI builds them, on what exists offline: the repository's manifest with the
 * three tokenizers read from ../shared, and MobileNetV2 as the CNN (its file copied into a
 * temporary models folder). Models whose weights are absent answer "unavailable", as on a
 * machine without network.
 */
export async function offlineServices(): Promise<Services> {
  const dir = await tempDir('sightread-try-it-');
  const manifest = JSON.parse(await readFile(join(ROOT, 'models/manifest.json'), 'utf8')) as {
    models: Array<{ id: string; source: unknown; labels?: { file?: string } }>;
  };
  // Label files are named relative to the manifest, which is now in another folder: copy them beside it.
  for (const file of new Set(manifest.models.flatMap((entry) => (entry.labels?.file ? [entry.labels.file] : [])))) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await copyFile(join(ROOT, 'models', file), join(dir, file));
  }
  if (HAS_SHARED) {
    for (const entry of manifest.models) {
      if (['bert-base-uncased', 'gpt2', 'clip-vit-base-patch32'].includes(entry.id))
        entry.source = { type: 'local', path: join(SHARED, 'tokenizers', entry.id) };
    }
    await mkdir(join(dir, 'models/mobilenetv2-int8'), { recursive: true });
    await copyFile(
      join(SHARED, 'models/mobilenetv2-12-int8.onnx'),
      join(dir, 'models/mobilenetv2-int8/mobilenetv2-12-int8.onnx'),
    );
  }
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return new Services(
    testConfig({
      MODELS_MANIFEST: join(dir, 'manifest.json'),
      MODELS_DIR: join(dir, 'models'),
      VISION_CNN_MODEL: 'mobilenetv2-int8',
      VISION_VIT_MODEL: 'vit-base-patch16-224',
      CLIP_MODEL: 'clip-vit-base-patch32',
      SENTIMENT_MODEL: 'distilbert-sst2',
      FILL_MASK_MODEL: 'bert-base-uncased-mlm',
    }),
    silentLogger,
  );
}

export type RunOutcome = { json: unknown } | { skipped: string };

/** Runs a Try-it command the way `npm run cli -- <command> … --json` does, in this process. */
export async function runThroughCli(
  command: SlashCommand,
  line: TryItCommand,
  services: Services,
): Promise<RunOutcome> {
  const raw = await cliOptions(command, parseArgs(cliArgv(command, line)));
  try {
    return { json: command.toJson(await runCommand(command, raw, services)) };
  } catch (error) {
    if (isUserFacing(error) && error.kind === 'model')
      return { skipped: `a model is not available offline: ${error.message}` };
    throw error;
  }
}

/** A figure as written in a claim (`−0.44`, `+3.093`, `58.1%`) and how far the real value may be from it. */
function claimedNumber(text: string): { value: number; tolerance: number } {
  const clean = text.replace('−', '-').replace('%', '');
  const decimals = clean.split('.')[1]?.length ?? 0;
  const scale = text.endsWith('%') ? 100 : 1;
  return { value: Number(clean) / scale, tolerance: (0.5 * 10 ** -decimals) / scale + 1e-9 };
}

const near = (actual: number, text: string): boolean => {
  const { value, tolerance } = claimedNumber(text);
  return Math.abs(actual - value) <= tolerance;
};

const NUMBER = '[+−-]?\\d+(?:\\.\\d+)?';

interface SentimentJson {
  vader: {
    compound: number;
    label: string;
    contributions: Array<{ word: string; valence: number }>;
  };
  notes: string[];
}
interface TokenizeJson {
  results: Array<{
    tokenizer: string;
    count: number;
    unknownCount: number;
    tokens: Array<{ piece: string; id: number }>;
  }>;
  vit: { patches: number; tokens: number };
}
interface PreprocessJson {
  steps: Array<{ name: string; tokens?: string[]; width?: number; height?: number }>;
  stems?: Array<{ word: string; stem: string }>;
  lemmas?: Array<{ word: string; pos: string; lemma: string }>;
  sentiment?: { raw: { vader: { label: string } }; preprocessed: { vader: { label: string } } | null };
}

/** A claim about /preprocess: `word → stem`, `word → lemma`, the tokens of a step, VADER's labels, a step's size. */
function checkPreprocessClaim(subject: string, claim: string, json: PreprocessJson): string | undefined {
  const step = (name: string): string => json.steps.find((s) => s.name === name)?.tokens?.join(' ') ?? '(no such step)';
  let match: RegExpExecArray | null;
  if (subject === 'tokens')
    return step('word tokenize') === claim ? undefined : `the tokens are ${step('word tokenize')}`;
  if (subject === 'stopwords')
    return step('remove stop words') === claim ? undefined : `after stop-word removal: ${step('remove stop words')}`;
  if ((subject === 'stem' || subject === 'lemma') && (match = /^(\S+) → (\S+)$/.exec(claim))) {
    const [, word, result] = match as unknown as [string, string, string];
    const found =
      subject === 'stem'
        ? json.stems?.filter((s) => s.word === word).map((s) => s.stem)
        : json.lemmas?.filter((l) => l.word === word).map((l) => l.lemma);
    return found?.includes(result) ? undefined : `${word} → ${found?.join(' / ') || 'nothing'}`;
  }
  if (subject === 'vader' && (match = /^(raw|preprocessed) (positive|negative|neutral)$/.exec(claim))) {
    const side = match[1] === 'raw' ? json.sentiment?.raw : json.sentiment?.preprocessed;
    return side?.vader.label === match[2]
      ? undefined
      : `VADER says ${side?.vader.label ?? 'nothing'} on the ${match[1]} text`;
  }
  if (subject === 'image' && (match = /^(.+) (\d+)×(\d+)$/.exec(claim))) {
    const found = json.steps.find((s) => s.name === match![1]);
    if (!found) return `no step "${match[1]}"`;
    return found.width === Number(match[2]) && found.height === Number(match[3])
      ? undefined
      : `${match[1]} is ${found.width}×${found.height}`;
  }
  return `cannot check "${claim}" for ${subject} under /preprocess`;
}

interface ClassifyJson {
  results: Array<{ model: { id: string }; predictions: Array<{ label: string; score: number }> }>;
}

const TOKENIZER_IDS: Record<string, string> = {
  bert: 'bert-base-uncased',
  gpt2: 'gpt2',
  clip: 'clip-vit-base-patch32',
};

interface LanguagesJson {
  imageTokens: number;
  languages: Array<{ code: string; tokenizers: Record<string, { tokens: number } | undefined> }>;
}

/** `image: 197 tokens`, `o200k: en 33 tokens`. */
function checkLanguagesClaim(subject: string, claim: string, json: LanguagesJson): string | undefined {
  let match: RegExpExecArray | null;
  if (subject === 'image' && (match = /^(\d+) tokens$/.exec(claim)))
    return json.imageTokens === Number(match[1]) ? undefined : `an image is ${json.imageTokens} tokens`;
  if ((match = /^([a-z]{2}) (\d+) tokens$/.exec(claim))) {
    const row = json.languages.find((r) => r.code === match![1]);
    const tokens = row?.tokenizers[subject]?.tokens;
    return tokens === Number(match[2]) ? undefined : `${subject} gives ${match[1]} ${tokens ?? 'no'} tokens`;
  }
  return `cannot check "${claim}" for ${subject} under /languages`;
}

interface StressJson {
  variants: Array<{ name: string; models: Array<{ model: string; label: string; keptTop1: boolean }> }>;
}

/** `grayscale kept`, `rotate 90° lost`: whether the model's top-1 label survived a variant. */
function checkStressClaim(subject: string, claim: string, json: StressJson): string | undefined {
  const match = /^(.+) (kept|lost)$/.exec(claim);
  if (!match) return `cannot check "${claim}" for ${subject} under /stress`;
  const variant = json.variants.find((v) => v.name === match[1]);
  const result = variant?.models.find((m) => m.model === subject);
  if (!result) return `no ${match[1]} result from ${subject}`;
  return result.keptTop1 === (match[2] === 'kept') ? undefined : `${subject} ${result.keptTop1 ? 'kept' : 'lost'} it`;
}

interface StressTextJson {
  variants: Array<{ name: string; vader: { label: string } }>;
}

/** `negation: negative`: VADER's label on one variant. */
function checkStressTextClaim(claim: string, json: StressTextJson): string | undefined {
  const match = /^(.+): (positive|negative|neutral)$/.exec(claim);
  if (!match) return `cannot check "${claim}" under /stress-text`;
  const variant = json.variants.find((v) => v.name === match[1]);
  return variant?.vader.label === match[2]
    ? undefined
    : `VADER says ${variant?.vader.label ?? 'nothing'} on ${match[1]}`;
}

interface SaliencyJson {
  maps: Array<{ model: { id: string }; label: string; method: string }>;
}

/** `tabby`, `class activation map`: the top-1 label the map explains, or the method that made it. */
function checkSaliencyClaim(subject: string, claim: string, json: SaliencyJson): string | undefined {
  const map = json.maps.find((m) => m.model.id === subject);
  if (!map) return `no map from ${subject}`;
  return map.label === claim || map.method === claim ? undefined : `the map is a ${map.method} for ${map.label}`;
}

interface SaliencyTextJson {
  words: Array<{ word: string; vader: number }>;
}

/** `love +3.2`: VADER's valence for one word. */
function checkSaliencyTextClaim(claim: string, json: SaliencyTextJson): string | undefined {
  const match = new RegExp(`^(\\S+) (${NUMBER})$`).exec(claim);
  if (!match) return `cannot check "${claim}" under /saliency-text`;
  const word = json.words.find((w) => w.word.toLowerCase() === match[1]!.toLowerCase());
  if (!word) return `no word "${match[1]}" (${json.words.map((w) => w.word).join(', ')})`;
  return near(word.vader, match[2]!) ? undefined : `VADER gives "${match[1]}" ${word.vader}`;
}

interface MaskJson {
  models: Array<{ model: { id: string }; ratios: Array<{ ratio: number; keptTop1: boolean }> }>;
}

/** `0% kept`, `90% lost`: whether the top-1 label survived hiding that share of the patches. */
function checkMaskClaim(subject: string, claim: string, json: MaskJson): string | undefined {
  const match = /^(\d+)% (kept|lost)$/.exec(claim);
  if (!match) return `cannot check "${claim}" for ${subject} under /mask`;
  const curve = json.models.find((m) => m.model.id === subject);
  const step = curve?.ratios.find((r) => Math.abs(r.ratio * 100 - Number(match[1])) < 1e-9);
  if (!step) return `no ${match[1]}% result from ${subject}`;
  return step.keptTop1 === (match[2] === 'kept') ? undefined : `${subject} ${step.keptTop1 ? 'kept' : 'lost'} it`;
}

/** Checks one claim against the command's JSON; returns a problem, or undefined when it holds. */
function checkClaim(command: string, subject: string, claim: string, json: unknown): string | undefined {
  let match: RegExpExecArray | null;
  if (command === 'sentiment' && subject === 'vader') {
    const { vader } = json as SentimentJson;
    if (/^(positive|negative|neutral)$/.test(claim))
      return vader.label === claim ? undefined : `VADER says ${vader.label}`;
    if ((match = new RegExp(`^compound (${NUMBER})$`).exec(claim)))
      return near(vader.compound, match[1]!) ? undefined : `compound is ${vader.compound}`;
    if (claim === 'no lexicon words')
      return vader.contributions.length === 0
        ? undefined
        : `VADER scored ${vader.contributions.map((c) => c.word).join(', ')}`;
    if ((match = new RegExp(`^(\\S+) (${NUMBER})$`).exec(claim))) {
      const word = vader.contributions.find((c) => c.word.toLowerCase() === match![1]!.toLowerCase());
      if (!word) return `VADER scored no "${match[1]}" (${vader.contributions.map((c) => c.word).join(', ')})`;
      return near(word.valence, match[2]!) ? undefined : `"${match[1]}" moved VADER by ${word.valence}`;
    }
  }
  if (command === 'sentiment' && subject === 'note') {
    const { notes } = json as SentimentJson;
    if (claim === 'none') return notes.length === 0 ? undefined : `notes: ${notes.join(' | ')}`;
    return notes.some((note) => note.toLowerCase().includes(claim.toLowerCase()))
      ? undefined
      : `no note says "${claim}" (notes: ${notes.join(' | ') || 'none'})`;
  }
  if (command === 'tokenize' && subject === 'vit') {
    const { vit } = json as TokenizeJson;
    if ((match = /^(\d+) patches$/.exec(claim)))
      return vit.patches === Number(match[1]) ? undefined : `${vit.patches} patches`;
    if ((match = /^(\d+) tokens$/.exec(claim)))
      return vit.tokens === Number(match[1]) ? undefined : `${vit.tokens} tokens`;
  }
  if (command === 'tokenize' && subject in TOKENIZER_IDS) {
    const result = (json as TokenizeJson).results.find((r) => r.tokenizer === TOKENIZER_IDS[subject]);
    if (!result) return `no ${subject} result (ask for tokenizer:all or tokenizer:${subject})`;
    const pieces = result.tokens.map((token) => token.piece).join(' ');
    if ((match = /^(\d+) tokens$/.exec(claim)))
      return result.count === Number(match[1]) ? undefined : `${result.count} tokens: ${pieces}`;
    if ((match = /^ids ((?:\d+ ?)+)$/.exec(claim))) {
      const ids = result.tokens.map((token) => token.id).join(' ');
      return ids === match[1]!.trim() ? undefined : `the ids are ${ids}`;
    }
    if ((match = /^(\d+) unknown$/.exec(claim)))
      return result.unknownCount === Number(match[1]) ? undefined : `${result.unknownCount} unknown: ${pieces}`;
    return pieces === claim ? undefined : `the pieces are ${pieces}`;
  }
  if (command === 'preprocess') return checkPreprocessClaim(subject, claim, json as PreprocessJson);
  if (command === 'languages') return checkLanguagesClaim(subject, claim, json as LanguagesJson);
  if (command === 'stress') return checkStressClaim(subject, claim, json as StressJson);
  if (command === 'stress-text') return checkStressTextClaim(claim, json as StressTextJson);
  if (command === 'saliency') return checkSaliencyClaim(subject, claim, json as SaliencyJson);
  if (command === 'saliency-text' && subject === 'vader')
    return checkSaliencyTextClaim(claim, json as SaliencyTextJson);
  if (command === 'mask') return checkMaskClaim(subject, claim, json as MaskJson);
  if (command === 'classify') {
    const result = (json as ClassifyJson).results.find((r) => r.model.id === subject);
    if (!result) return `no result from ${subject}`;
    const top = result.predictions[0]!;
    const said = `${top.label} ${(top.score * 100).toFixed(1)}%`;
    if ((match = /^(.+?) (\d+(?:\.\d+)?%)$/.exec(claim)))
      return top.label === match[1] && near(top.score, match[2]!) ? undefined : `top-1 is ${said}`;
    return top.label === claim ? undefined : `top-1 is ${said}`;
  }
  return `cannot check "${claim}" for ${subject} under /${command}`;
}

/** Problems with the claims under one command, given what it returned. */
export function claimProblems(command: string, expectation: TryItExpectation, json: unknown): string[] {
  return expectation.claims.flatMap((claim) => {
    const problem = checkClaim(command, expectation.subject, claim, json);
    return problem ? [`${expectation.line}: "${claim}" does not hold: ${problem}`] : [];
  });
}
