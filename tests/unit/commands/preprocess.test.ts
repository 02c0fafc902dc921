import sharp from 'sharp';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { cliOptions, parseArgs } from '../../../src/cli/args.js';
import type { SlashCommand } from '../../../src/command/definition.js';
import { loadCommands } from '../../../src/command/loader.js';
import { runAndPresent } from '../../../src/command/run.js';
import { toDiscordEmbeds } from '../../../src/discord/limits.js';
import { UserFacingError } from '../../../src/util/errors.js';
import { rejectionOf, solidPng, tempDir, testServices } from '../../helpers.js';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';

const preprocess = (await loadCommands()).get('preprocess') as SlashCommand;
const services = testServices();
afterAll(() => services.dispose());

describe('/preprocess text', () => {
  it('answers with exactly the JSON shape the issue names: steps, stems, lemmas, subwords, sentiment', async () => {
    const result = await runAndPresent(
      preprocess,
      { text: "The studies weren't better than the geese that ran." },
      services,
    );
    const data = result.data as Record<string, unknown>;
    expect(Object.keys(data)).toEqual(['steps', 'stems', 'lemmas', 'subwords', 'sentiment']);
    const steps = data.steps as Array<{ name: string; tokens: string[] }>;
    expect(steps.map((step) => Object.keys(step))).toEqual(steps.map(() => ['name', 'tokens']));
    expect(steps.at(-1)).toEqual({ name: 'WordNet lemmatize', tokens: ['study', "n't", 'good', 'goose', 'run'] });
    expect(data.stems).toContainEqual({ word: 'studies', stem: 'studi' });
    expect(data.lemmas).toContainEqual({ word: 'better', pos: 'a', lemma: 'good' });
    expect(data.lemmas).toContainEqual({ word: 'ran', pos: 'v', lemma: 'run' });
    // The fixture manifest has only the tiny CLIP tokenizer: the other two are reported unavailable.
    expect(Object.keys(data.subwords as object)).toEqual(['clip']);
    expect(result.text).toMatch(/The bert tokenizer is unavailable/);
    const sentiment = data.sentiment as {
      raw: { text: string; vader: { label: string } };
      preprocessed: { text: string };
    };
    expect(sentiment.raw.text).toBe("The studies weren't better than the geese that ran.");
    expect(sentiment.preprocessed.text).toBe("study n't good goose run");
    expect(result.embeds[0]!.fields!.map((field) => field.name)).toContain('Sentiment: raw vs preprocessed');
  });

  it('reads WordNet only when the first text is preprocessed, not when the bot starts', async () => {
    const fresh = testServices();
    onTestFinished(() => fresh.dispose());
    expect(await fresh.loaded()).not.toContain('wordnet');
    await runAndPresent(preprocess, { text: 'geese' }, fresh);
    expect(await fresh.loaded()).toContain('wordnet');
  });

  it('shows that removing "not" changes what VADER says', async () => {
    const result = await runAndPresent(preprocess, { text: 'This movie is not good' }, services);
    const { sentiment } = result.data as {
      sentiment: { raw: { vader: { label: string } }; preprocessed: { text: string; vader: { label: string } } };
    };
    expect(sentiment.raw.vader.label).toBe('negative');
    expect(sentiment.preprocessed).toMatchObject({ text: 'movie good', vader: { label: 'positive' } });
    expect(result.text).toMatch(/removed "not"/);
  });

  it('says when nothing is left to score, and answers text with only punctuation', async () => {
    const stopWords = await runAndPresent(preprocess, { text: 'it is what it is' }, services);
    expect((stopWords.data as { sentiment: { preprocessed: unknown } }).sentiment.preprocessed).toBeNull();
    expect(stopWords.text).toMatch(/Every word is on the stop-word list/);
    const punctuation = await runAndPresent(preprocess, { text: '?!?! ...' }, services);
    expect(punctuation.text).toMatch(/only punctuation/);
  });

  it('says the English pipeline does not apply to non-English text', async () => {
    const result = await runAndPresent(preprocess, { text: 'Это очень хороший фильм, правда.' }, services);
    expect((result.data as { lemmas: unknown[] }).lemmas).toEqual([]);
    expect(result.text).toMatch(/English-only .* do not apply/);
  });

  it('reads mentions and Markdown as the other text commands do', async () => {
    const result = await runAndPresent(
      preprocess,
      { text: '<@123> said **great** [film](https://x.example)' },
      services,
    );
    const steps = (result.data as { steps: Array<{ name: string; tokens: string[] }> }).steps;
    expect(steps[1]!.tokens).toEqual(['@', 'user', 'said', 'great', 'film']);
    expect(result.text).toMatch(/Discord formatting .* was removed/);
  });

  it('refuses empty, whitespace-only and overlong text as /sentiment does, and asks for one input', async () => {
    await expect(runAndPresent(preprocess, { text: '' }, services)).rejects.toThrow(/The text is empty/);
    await expect(runAndPresent(preprocess, { text: ' \n\t ' }, services)).rejects.toThrow(/only whitespace/);
    await expect(runAndPresent(preprocess, { text: 'a'.repeat(10_000) }, services)).rejects.toThrow(
      /text: at most 6000 characters/,
    );
    const neither = await rejectionOf(runAndPresent(preprocess, {}, services), UserFacingError);
    expect(neither.message).toMatch(/a sentence \(text:\) or an image \(image:\)/);
    const image = { name: 'a.png', bytes: await solidPng([1, 2, 3]) };
    await expect(runAndPresent(preprocess, { text: 'hi', image }, services)).rejects.toThrow(/not both/);
  });

  it('keeps a long text within Discord’s limits', async () => {
    const text = 'The studies were better than expected, and the geese ran home. '.repeat(60);
    const result = await runAndPresent(preprocess, { text }, services);
    const embeds = toDiscordEmbeds(result.embeds);
    expect(JSON.stringify(embeds).length).toBeLessThan(12_000);
    expect(embeds[0]!.fields!.every((field) => field.value.length <= 1024)).toBe(true);
  });
});

describe('/preprocess image', () => {
  it('answers with the model and each step’s size, shape and statistics, and draws the strip', async () => {
    const image = { name: 'grey.png', bytes: await solidPng([128, 128, 128], 48, 32) };
    const result = await runAndPresent(preprocess, { image }, services);
    const data = result.data as { model: string; steps: Array<Record<string, unknown>> };
    expect(Object.keys(data)).toEqual(['model', 'steps']);
    expect(data.model).toBe('tiny-cnn');
    for (const step of data.steps)
      expect(Object.keys(step)).toEqual(['name', 'width', 'height', 'shape', 'min', 'max', 'mean', 'std']);
    expect(data.steps[0]).toMatchObject({ name: 'decode', width: 48, height: 32, min: 128, max: 128, std: 0 });
    expect(result.files.map((file) => file.name)).toEqual(['preprocess.png']);
    expect((await sharp(result.files[0]!.data).metadata()).format).toBe('png');
  });

  it('refuses an unknown model, a model that takes no images, and a file that is not an image', async () => {
    const image = { name: 'grey.png', bytes: await solidPng([128, 128, 128]) };
    await expect(runAndPresent(preprocess, { image, model: 'nope' }, services)).rejects.toThrow(/Unknown model "nope"/);
    await expect(runAndPresent(preprocess, { image, model: 'tiny-sentiment' }, services)).rejects.toThrow(
      /not an image model/,
    );
    const text = { name: 'notes.txt', bytes: Buffer.from('just text') };
    await expect(runAndPresent(preprocess, { image: text }, services)).rejects.toThrow(
      /not an image I can read|not an image/,
    );
  });

  it('takes a file path or a sentence as its one positional argument on the command line', async () => {
    const dir = await tempDir();
    const path = join(dir, 'grey.png');
    await writeFile(path, await solidPng([128, 128, 128]));
    expect(await cliOptions(preprocess, parseArgs([path, '--model', 'vit']))).toMatchObject({
      image: { name: 'grey.png' },
      model: 'vit',
    });
    expect(await cliOptions(preprocess, parseArgs(['The cats ran']))).toEqual({ text: 'The cats ran' });
    // A mistyped image path says so instead of being read as a sentence.
    await expect(cliOptions(preprocess, parseArgs([join(dir, 'missing.jpg')]))).rejects.toThrow(/File not found/);
  });
});
