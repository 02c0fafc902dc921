import { afterAll, describe, expect, it } from 'vitest';
import { TINY_SENTIMENT_EMBEDDING } from '../../../scripts/fixtures/tiny-models.js';
import { loadCommands } from '../../../src/command/loader.js';
import { runAndPresent } from '../../../src/command/run.js';
import { softmax, testServices } from '../../helpers.js';

const services = testServices({ BATCH_MAX_WAIT_MS: '10', TEXT_MAX_CHARS: '2000' });
afterAll(() => services.dispose());
const sentiment = (await loadCommands()).get('sentiment')!;

/** The tiny model's logits: the sum of its per-word [negative, positive] rows. */
function expected(words: string[]): number[] {
  const logits = words.reduce(
    (sum, word) => {
      const row = TINY_SENTIMENT_EMBEDDING[word] ?? [0, 0];
      return [sum[0]! + row[0], sum[1]! + row[1]];
    },
    [0, 0],
  );
  return softmax(logits);
}

describe('transformer sentiment on a tiny text-classification model', () => {
  it('returns the exact probabilities of the real input_ids/attention_mask → logits graph', async () => {
    const classifier = await services.text.classifier();
    const result = await classifier.run('The movie was great, not bad');
    const [negative, positive] = expected(['the', 'movie', 'was', 'great', 'not', 'bad']);
    expect(result.label).toBe('POSITIVE');
    expect(result.scores.POSITIVE).toBeCloseTo(positive!, 6);
    expect(result.scores.NEGATIVE).toBeCloseTo(negative!, 6);
    expect(result.tokens).toBe(9); // [CLS] the movie was great [UNK] not bad [SEP]: the comma is not in the vocabulary
    expect(result.model).toMatchObject({ id: 'tiny-sentiment', precision: 'fp32', executionProvider: 'cpu' });
  });

  it('batches concurrent requests of different lengths with padding and gives each its own answer', async () => {
    const classifier = await services.text.classifier();
    const texts = ['great', 'awful awful', 'the movie was good', 'bad', 'fun fun fun', 'not', 'the', 'great but awful'];
    const before = services.engine.batcherStats()['tiny-sentiment:fp32']!.runs;
    const results = await Promise.all(texts.map((text) => classifier.run(text)));
    expect(services.engine.batcherStats()['tiny-sentiment:fp32']!.runs - before).toBeLessThan(texts.length);
    results.forEach((result, index) => {
      const [, positive] = expected(texts[index]!.split(' '));
      expect(result.scores.POSITIVE).toBeCloseTo(positive!, 6);
    });
  });

  it("notes when a text is cut to the model's maximum length", async () => {
    const classifier = await services.text.classifier();
    const result = await classifier.run(Array.from({ length: 30 }, () => 'good').join(' '));
    expect(result.truncated).toBe(true);
    expect(result.tokens).toBe(16);
    const [, positive] = expected(Array.from({ length: 14 }, () => 'good'));
    expect(result.scores.POSITIVE).toBeCloseTo(positive!, 6);
  });
});

describe('/sentiment', () => {
  it('puts VADER beside the transformer and explains a disagreement', async () => {
    const result = await runAndPresent(sentiment, { text: 'The movie was not good, but great fun!!' }, services);
    const data = result.data as {
      vader: { label: string; compound: number; contributions: unknown[] };
      transformer: { label: string; score: number };
      agreement: { agree: boolean; reason: string };
    };
    expect(data.vader.label).toBe('negative');
    expect(data.transformer.label).toBe('POSITIVE');
    expect(data.agreement.agree).toBe(false);
    expect(data.agreement.reason).toMatch(/Negation scope/);
    expect(data.vader.contributions).toHaveLength(4);
  });

  it('says plainly when the transformer is unavailable and still answers with VADER', async () => {
    const partial = testServices({ SENTIMENT_MODEL: 'distilbert-missing' });
    const result = await runAndPresent(sentiment, { text: 'What a great day' }, partial);
    const data = result.data as { vader: { label: string }; transformer: { unavailable: string } };
    expect(data.vader.label).toBe('positive');
    expect(data.transformer.unavailable).toMatch(/Unknown model "distilbert-missing"/);
    await partial.dispose();
  });

  it('answers every kind of awkward text clearly', async () => {
    await expect(runAndPresent(sentiment, { text: '' }, services)).rejects.toThrow(/empty/);
    await expect(runAndPresent(sentiment, { text: ' \n\t ' }, services)).rejects.toThrow(/only whitespace/);
    // Discord's own limit for a text option is also the CLI's, with the same message.
    await expect(runAndPresent(sentiment, { text: 'good '.repeat(2000) }, services)).rejects.toThrow(
      /text: at most 6000 characters/,
    );
    const long = await runAndPresent(sentiment, { text: 'good '.repeat(1200) }, services);
    expect((long.data as { notes: string[] }).notes.join(' ')).toMatch(
      /was 5999 characters; only the first 2000 were analysed/,
    );
    // VADER reads emoji as their names: "grinning face party popper fire" has three lexicon words.
    const emoji = await runAndPresent(sentiment, { text: '😀🎉🔥' }, services);
    const emojiData = emoji.data as { vader: { contributions: Array<{ word: string }> }; notes: string[] };
    expect(emojiData.vader.contributions.map((c) => c.word)).toEqual(['grinning', 'party', 'fire']);
    expect(emojiData.notes.join(' ')).not.toMatch(/Emoji/);
    const plainEmoji = await runAndPresent(sentiment, { text: '🚗🍕 \u{1FA91}' }, services);
    expect((plainEmoji.data as { notes: string[] }).notes).toContain(
      'Emoji 🚗 🍕 \u{1FA91} carry no score here: VADER reads each emoji as its English name (😁 → "beaming face with smiling eyes") and scores the words of that name like any others; 🚗 is "automobile", which added nothing; 🍕 is "pizza", which added nothing; \u{1FA91} is not in its emoji lexicon.',
    );
    const foreign = await runAndPresent(sentiment, { text: 'Это был ужасный фильм, мне не понравилось' }, services);
    expect((foreign.data as { notes: string[] }).notes.join(' ')).toMatch(/mostly non-English.*unreliable/);
    const control = await runAndPresent(sentiment, { text: 'good\u0000\u0007 movie' }, services);
    expect((control.data as { notes: string[] }).notes.join(' ')).toMatch(
      /Invisible characters \(controls, bidi overrides/,
    );
    const huge = await runAndPresent(sentiment, { text: 'a'.repeat(1500) }, services);
    expect((huge.data as { vader: { label: string } }).vader.label).toBe('neutral');
    const discord = await runAndPresent(
      sentiment,
      { text: '<@123> **this** is `great` ~~really~~ ||awful||' },
      services,
    );
    const discordData = discord.data as { vader: { contributions: Array<{ word: string }> }; notes: string[] };
    expect(discordData.vader.contributions.map((c) => c.word)).toEqual(['great', 'awful']);
    expect(discordData.notes.join(' ')).toMatch(/Discord formatting/);
  });
});
