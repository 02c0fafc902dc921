import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCommands } from '../../../src/command/loader.js';
import { runAndPresent, runCommand } from '../../../src/command/run.js';
import { toDiscordEmbeds } from '../../../src/discord/limits.js';
import { join } from 'node:path';
import { ROOT, solidPng, testServices } from '../../helpers.js';

const commands = await loadCommands();
const services = testServices({ BATCH_MAX_SIZE: '64' });
afterAll(() => services.dispose());
const saliency = commands.get('saliency')!;
const mask = commands.get('mask')!;

describe('/saliency', () => {
  it('prints one map per model with its method, label and a rows × cols grid of values in [0, 1]', async () => {
    const image = { name: 'red.png', bytes: await solidPng([200, 30, 30]) };
    const result = await runAndPresent(saliency, { image }, services);
    const data = result.data as {
      image: string;
      maps: Array<{
        model: { id: string };
        method: string;
        label: string;
        index: number;
        rows: number;
        cols: number;
        values: number[][];
      }>;
    };
    expect(data.image).toBe('red.png');
    expect(data.maps.map((map) => [map.model.id, map.method])).toEqual([
      ['tiny-cnn', 'class activation map'],
      ['tiny-vit', 'occlusion sensitivity'],
    ]);
    for (const map of data.maps) {
      expect(map.values).toHaveLength(map.rows);
      for (const row of map.values) {
        expect(row).toHaveLength(map.cols);
        for (const value of row) expect(value >= 0 && value <= 1).toBe(true);
      }
    }
    expect(result.text).toMatch(/class activation map, 4×4 grid/);
    // The peak named is the brightest cell (1-based, the first of equals).
    const cam = data.maps[0]!.values.flat();
    const brightest = cam.indexOf(Math.max(...cam));
    expect(Math.max(...cam)).toBe(1);
    expect(result.text).toContain(`peak at row ${Math.floor(brightest / 4) + 1}, column ${(brightest % 4) + 1} of 4×4`);
    expect(result.text).toMatch(/occlusion sensitivity/);
    expect(result.files.map((file) => file.name)).toEqual(['saliency.png']);
    expect((await sharp(result.files[0]!.data).metadata()).format).toBe('png');
    expect(result.embeds[0]!.footer).toMatch(/tiny-cnn · fp32 · cpu/);
    // Each method's note gives this map's own cell size: the tiny models read 16×16 pixels.
    const notes = result.embeds[0]!.fields!.map((field) => field.value).join('\n');
    expect(notes).toMatch(/one cell per 4×4 pixels of its 16×16 input/);
    const occlusion = data.maps[1]!;
    expect(notes).toContain(`each cell (${16 / occlusion.cols}×${16 / occlusion.rows} pixels of its 16×16 input)`);
  });

  it('says a blank map has no peak instead of naming its first cell (occlusion on a flat image)', async () => {
    // Hiding a cell of a one-colour image with the image's mean colour changes nothing: every
    // drop is 0. A trained CNN with shuffled weights gives the same blank map through its CAM.
    const image = { name: 'red.png', bytes: await solidPng([200, 30, 30]) };
    const result = await runAndPresent(saliency, { image, model: 'tiny-vit' }, services);
    const map = (result.data as { maps: Array<{ method: string; values: number[][] }> }).maps[0]!;
    expect(map.method).toBe('occlusion sensitivity');
    expect(map.values.flat().every((value) => value === 0)).toBe(true);
    expect(result.text).toMatch(
      /occlusion sensitivity, 4×4 grid, top class .+, blank map: hiding any one cell does not lower the top class's probability;/,
    );
    expect(result.text).not.toMatch(/peak at/);
    const field = result.embeds[0]!.fields!.find((candidate) => candidate.name.includes('occlusion'))!;
    expect(field.value).toMatch(/; blank map: hiding any one cell/);
    expect(field.value).not.toMatch(/brightest at/);
  });

  it('rejects a bad image, a missing image and an unknown model like /classify', async () => {
    await expect(runAndPresent(saliency, {}, services)).rejects.toThrow(/image: an image attachment is required/);
    await expect(
      runAndPresent(saliency, { image: { name: 'x.png', bytes: Buffer.from('not an image at all') } }, services),
    ).rejects.toThrow(/corrupt|not an image/);
    const image = { name: 'red.png', bytes: await solidPng([200, 30, 30]) };
    await expect(runAndPresent(saliency, { image, model: 'no-such-model' }, services)).rejects.toThrow(
      /No model could run.*no-such-model/,
    );
  });
});

describe('/mask', () => {
  it('prints the survival of each model over the ratios, from one batched run per model', async () => {
    const image = { name: 'blue.png', bytes: await solidPng([20, 40, 220]) };
    const result = await runAndPresent(mask, { image, seed: '5' }, services);
    const data = result.data as {
      image: string;
      models: Array<{
        model: { id: string };
        runs: number;
        ratios: Array<{ ratio: number; label: string; index: number; score: number; keptTop1: boolean }>;
      }>;
    };
    expect(data.image).toBe('blue.png');
    expect(data.models.map((entry) => entry.model.id)).toEqual(['tiny-cnn', 'tiny-vit']);
    for (const entry of data.models) {
      expect(entry.runs).toBe(1);
      expect(entry.ratios.map((step) => step.ratio)).toEqual([0, 0.25, 0.5, 0.75, 0.9]);
      expect(entry.ratios[0]!.keptTop1).toBe(true);
    }
    // A solid image filled with its own mean colour is unchanged: every ratio keeps the same answer.
    expect(data.models[0]!.ratios.every((step) => step.keptTop1 && step.label === 'blue')).toBe(true);
    expect(result.files.map((file) => file.name)).toEqual(['mask.png', 'masked.png']);
    expect(result.text).toMatch(/mean colour in pixel space/);
  });

  it('refuses ratios outside [0, 1) and ratio lists that are not numbers', async () => {
    const image = { name: 'blue.png', bytes: await solidPng([20, 40, 220]) };
    await expect(runAndPresent(mask, { image, ratios: '0,1' }, services)).rejects.toThrow(
      /at least 0 and below 1.*got 1/,
    );
    await expect(runAndPresent(mask, { image, ratios: '-0.1' }, services)).rejects.toThrow(/got -0.1/);
    await expect(runAndPresent(mask, { image, ratios: 'half' }, services)).rejects.toThrow(/comma-separated numbers/);
    await expect(runAndPresent(mask, { image, ratios: '' }, services)).rejects.toThrow(/comma-separated numbers/);
  });

  it('refuses a seed that is empty, blank, fractional or out of range, stating its range once', async () => {
    const image = { name: 'blue.png', bytes: await solidPng([20, 40, 220]) };
    // `--seed=` on the command line arrives as '', which Number() would read as 0.
    for (const seed of ['', '  ', '1.5', '-1', '2147483648', '99999999999999999999'])
      await expect(runAndPresent(mask, { image, seed }, services), JSON.stringify(seed)).rejects.toThrow(
        /^Invalid input for \/mask: seed: must be a whole number from 0 to 2147483647\.$/,
      );
  });
});

describe('/saliency-text', () => {
  it("gives VADER's valence and the tiny transformer's leave-one-out drop per word, from one batched run", async () => {
    const command = commands.get('saliency-text')!;
    const result = await runAndPresent(command, { text: 'the movie was great' }, services);
    const data = result.data as {
      words: Array<{ word: string; vader: number; transformer: number | null }>;
      transformer: { label: string; runs: number; variants: number };
    };
    expect(data.words.map((w) => w.word)).toEqual(['the', 'movie', 'was', 'great']);
    expect(data.transformer).toMatchObject({ label: 'POSITIVE', runs: 1, variants: 5 });
    // The tiny transformer's logits are [0, 2] with "great" and [0, 0] without it: softmax 0.881 → 0.5.
    const great = data.words[3]!;
    expect(great.transformer).toBeCloseTo(1 / (1 + Math.exp(-2)) - 0.5, 5);
    expect(great.vader).toBeGreaterThan(0);
    for (const word of data.words.slice(0, 3)) {
      expect(word.vader).toBe(0);
      expect(word.transformer).toBeCloseTo(0, 6);
    }
    expect(result.files.map((file) => file.name)).toEqual(['saliency-text.png']);
    expect((await sharp(result.files[0]!.data).metadata()).format).toBe('png');
  });

  it('cuts a long text for its embed without leaving half of an emoji, which Discord would refuse', async () => {
    const command = commands.get('saliency-text')!;
    // The description shows the first 300 UTF-16 units: the cut falls inside the emoji.
    const result = await runAndPresent(command, { text: `${'a'.repeat(299)}😀 good` }, services);
    const [embed] = toDiscordEmbeds(result.embeds);
    expect(embed!.description).toBe(`${'a'.repeat(299)}…`);
  });

  it('rejects an empty text like /sentiment', async () => {
    const command = commands.get('saliency-text')!;
    await expect(runAndPresent(command, { text: '   ' }, services)).rejects.toThrow();
    await expect(runAndPresent(command, {}, services)).rejects.toThrow(/text/);
  });
});

describe('/mask-text', () => {
  it('hides 15% of the words (at least one) and shows the tiny fill-mask model guesses, exactly', async () => {
    const command = commands.get('mask-text')!;
    const result = await runAndPresent(command, { text: 'the movie was great fun', seed: '2' }, services);
    const data = result.data as {
      masked: string;
      blanks: Array<{ original: string; predictions: Array<{ token: string; score: number }> }>;
      recovered: number;
    };
    // 15% of 5 words rounds to 1 blank.
    expect(data.blanks).toHaveLength(1);
    expect(data.masked.split(' ').filter((word) => word === '[MASK]')).toHaveLength(1);
    const blank = data.blanks[0]!;
    expect(['the', 'movie', 'was', 'great', 'fun']).toContain(blank.original);
    // [MASK]'s logits: movie 2, film 1, great 0.5, the 8 others 0.
    const total = Math.exp(2) + Math.exp(1) + Math.exp(0.5) + 8;
    expect(blank.predictions.map((guess) => guess.token)).toEqual(['movie', 'film', 'great']);
    expect(blank.predictions[0]!.score).toBeCloseTo(Math.exp(2) / total, 5);
    expect(data.recovered).toBe(blank.original === 'movie' ? 1 : 0);
    // The same seed hides the same word.
    const again = await runAndPresent(command, { text: 'the movie was great fun', seed: '2' }, services);
    expect((again.data as { masked: string }).masked).toBe(data.masked);
  });

  it('refuses a text that already contains [MASK], whose guesses would be given to a hidden word', async () => {
    const command = commands.get('mask-text')!;
    // The tokenizer reads [MASK] wherever it is typed, inside a word too.
    for (const text of ['the [MASK] sat on the mat because it was tired', 'the cat sat on the x[MASK]y'])
      await expect(runAndPresent(command, { text, seed: '1' }, services), text).rejects.toThrow(
        /already contains \[MASK\], the token this experiment hides words with/,
      );
    // Written otherwise, it is a word like any other.
    const result = await runAndPresent(command, { text: 'the mask sat on the mat', seed: '1' }, services);
    expect((result.data as { blanks: unknown[] }).blanks).toHaveLength(1);
  });

  it('leaves out, and says so, the hidden words past what the model reads of a long text, instead of scoring them as missed', async () => {
    const command = commands.get('mask-text')!;
    // 40 words, 6 hidden; the tiny fill-mask model reads 16 tokens, [CLS] and [SEP] included.
    const text = Array.from({ length: 8 }, () => 'the movie was great fun').join(' ');
    const result = await runAndPresent(command, { text, seed: '1' }, services);
    const data = result.data as {
      masked: string;
      blanks: Array<{ original: string; predictions: Array<{ token: string }> }>;
      unread: number;
      notes: string[];
    };
    for (const blank of data.blanks) expect(blank.predictions).toHaveLength(3);
    expect(data.blanks.length + data.unread).toBe(6);
    expect(data.unread).toBeGreaterThan(0);
    // Only the blanks it read are shown as [MASK]; the words past them read as written.
    expect(data.masked.split(' ').filter((word) => word === '[MASK]')).toHaveLength(data.blanks.length);
    expect(data.masked.split(' ')).toHaveLength(40);
    expect(data.notes.join(' ')).toMatch(
      new RegExp(`longer than tiny-fill-mask reads at once: ${data.unread} of the 6 hidden words fell after`),
    );
    expect(result.text).toMatch(new RegExp(`Recovered \\d of ${data.blanks.length} `));
    expect(result.embeds[0]!.fields!.map((field) => field.name)).toContain('Notes');
  });

  it('says, as /saliency-text does, that mentions, formatting and bidi overrides were taken out of the text', async () => {
    const command = commands.get('mask-text')!;
    const text = '<@123456789012345678> **the** movie \u202Ewas great';
    const result = await runAndPresent(command, { text, seed: '1' }, services);
    const notes = (result.data as { notes: string[] }).notes.join(' ');
    expect(notes).toMatch(/Invisible characters .* were removed/);
    expect(notes).toMatch(/Discord formatting \(mentions, bold/);
    expect((result.data as { masked: string }).masked).toMatch(/^@user /);
    expect(result.embeds[0]!.fields!.find((field) => field.name === 'Notes')?.value).toMatch(/Discord formatting/);
  });

  it('keeps the count and the notes on Discord when a long text has more blanks than an embed has fields', async () => {
    const command = commands.get('mask-text')!;
    const one = (await runCommand(command, { text: 'the movie was great fun', seed: '2' }, services)) as {
      blanks: unknown[];
      notes: string[];
    };
    // BERT reads 512 tokens: a 2,000-character paragraph hides about 50 words.
    const report = { ...one, blanks: Array.from({ length: 50 }, () => one.blanks[0]), notes: ['A note.'] };
    const embeds = toDiscordEmbeds((await command.toEmbeds(report)).embeds);
    const names = embeds[0]!.fields!.map((field) => field.name);
    expect(names).toHaveLength(22);
    expect(names.slice(0, 19)).toEqual(
      Array.from({ length: 19 }, (_, i) => expect.stringMatching(`^Blank ${i + 1}: `)),
    );
    expect(names.slice(19)).toEqual(['Blanks 20–50', 'Notes', expect.stringMatching(/^Recovered \d+ of 50$/)]);
    // Past 6,000 characters Discord's limit trims the last fields: the footer keeps the count.
    const huge = { ...report, masked: 'word '.repeat(900), notes: ['x'.repeat(1000)] };
    const trimmed = toDiscordEmbeds((await command.toEmbeds(huge)).embeds)[0]!;
    expect(trimmed.fields!.map((field) => field.name)).not.toContainEqual(expect.stringMatching(/^Recovered/));
    expect(trimmed.footer?.text).toMatch(/^Recovered \d+ of 50 · tiny-fill-mask/);
  });

  it('says which files are missing when the BERT fill-mask model is not downloaded', async () => {
    const offline = testServices({
      FILL_MASK_MODEL: 'bert-base-uncased-mlm',
      MODELS_MANIFEST: join(ROOT, 'models/manifest.json'),
    });
    try {
      await expect(
        runAndPresent(commands.get('mask-text')!, { text: 'the movie was great fun' }, offline),
      ).rejects.toThrow(/bert-base-uncased-mlm|BERT base uncased/);
    } finally {
      await offline.dispose();
    }
  });
});
