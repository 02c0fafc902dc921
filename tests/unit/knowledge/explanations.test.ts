import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Services } from '../../../src/app.js';
import { loadCommands } from '../../../src/command/loader.js';
import { runCommand } from '../../../src/command/run.js';
import { REFERENCED_TOPICS, type Explanation } from '../../../src/knowledge/explanations.js';
import { loadTopics } from '../../../src/knowledge/topics.js';
import { HAS_SHARED, SHARED, SHARED_SKIP_REASON, solidPng, testServices } from '../../helpers.js';
import { offlineServices } from './try-it.js';

/**
 * The sentence shown under a result (a note's summary, chosen by src/knowledge/explanations.ts)
 * must be true of that result. For each choice the code can make, a real result that triggers
 * it (tiny models, or the real tokenizers, VADER and MobileNetV2 in ../shared), and for each
 * statement of the summary shown, a check on that result. Rewording a summary fails the phrase
 * check on purpose: whoever rewrites it must say here why the new sentence still holds.
 */

const topics = loadTopics();
const commands = await loadCommands();
const tiny = testServices();
const real = HAS_SHARED ? offlineServices() : undefined;
afterAll(async () => {
  await tiny.dispose();
  await (await real)?.dispose();
});

const photo = async (name: string): Promise<{ name: string; bytes: Buffer }> => ({
  name,
  bytes: await readFile(join(SHARED, 'images', name)),
});

interface Shown<Report> {
  report: Report & { explanation: Explanation };
  summary: string;
}

async function shown<Report>(
  command: string,
  raw: Record<string, unknown>,
  services: Services,
): Promise<Shown<Report>> {
  const report = (await runCommand(commands.get(command)!, raw, services)) as Report & { explanation: Explanation };
  const topic = topics.get(report.explanation.topic)!;
  expect(report.explanation.text).toBe(`${topic.summary} More: \`/explain topic:${topic.id}\``);
  return { report, summary: topic.summary };
}

interface Tokenized {
  results: Array<{
    tokenizer: string;
    algorithm: string;
    tokens: Array<{ piece: string; id: number; special: boolean }>;
    unknownCount: number;
    splits: Array<{ word: string; pieces: string[] }>;
  }>;
  vit: { patchSize: number };
}
const byName = (report: Tokenized, id: string): Tokenized['results'][number] =>
  report.results.find((result) => result.tokenizer === id)!;
const pieces = (result: Tokenized['results'][number]): string => result.tokens.map((token) => token.piece).join(' ');

interface Classified {
  results: Array<{ model: { id: string; architecture: string }; predictions: Array<{ label: string; score: number }> }>;
  agreement?: { top1Agrees: boolean };
}
interface Matched {
  result: { matches: Array<{ label: string; score: number; cosine: number }> };
}
interface Sentiment {
  vader: {
    compound: number;
    contributions: Array<{ word: string; valence: number }>;
    emoji: Array<{ emoji: string; description: string; scored: boolean }>;
  };
  notes: string[];
}

describe('the explanation shown under a result holds for that result', () => {
  it('names every note the code can point to', () => {
    for (const id of REFERENCED_TOPICS) expect(topics.has(id), id).toBe(true);
  });

  describe.skipIf(!HAS_SHARED)('under /tokenize, with the real tokenizers', () => {
    it('[UNK]: WordPiece loses the whole word, byte-level BPE spells everything, the ViT grid is 16×16', async () => {
      const services = (await real)!;
      for (const text of ['hello😀 world', 'ภาษาไทยง่ายนิดเดียว']) {
        const { report, summary } = await shown<Tokenized>('tokenize', { text, tokenizer: 'all' }, services);
        expect(report.explanation.topic).toBe('tokenization-vs-patches');
        expect(summary).toContain("BERT's WordPiece turns a whole word it cannot spell into [UNK]");
        const bert = byName(report, 'bert-base-uncased');
        expect(bert.algorithm).toBe('WordPiece');
        // Each [UNK] stands for a whole space-separated word, known letters included: "hello😀" and the Thai sentence.
        expect(bert.unknownCount).toBe(1);
        expect(bert.tokens.filter((token) => !token.special).length).toBe(text.split(' ').length);
        expect(summary).toContain("GPT-2's byte-level BPE can spell any text, byte by byte");
        const gpt2 = byName(report, 'gpt2');
        expect(gpt2.algorithm).toBe('byte-level BPE');
        expect(gpt2.unknownCount).toBe(0);
        expect(summary).toContain('the same grid of 16×16 patches');
        expect(report.vit.patchSize).toBe(16);
      }
      // The sentence a student was shown before: false for WordPiece, which cannot spell every word.
      expect(topics.get('tokenization-vs-patches')!.summary).not.toMatch(/any word can be spelled/);
    });

    it('a rare word in many pieces: the tokenizer cut it into pieces from its vocabulary', async () => {
      const { report, summary } = await shown<Tokenized>(
        'tokenize',
        { text: 'unaffable', tokenizer: 'bert' },
        (await real)!,
      );
      expect(report.explanation.topic).toBe('tokenization-vs-patches');
      expect(summary).toContain('Tokenizers cut rare words into pieces from a fixed vocabulary');
      expect(byName(report, 'bert-base-uncased').splits).toEqual([
        { word: 'unaffable', pieces: ['una', '##ffa', '##ble'] },
      ]);
    });

    it('plain words: a language model reads whole-number ids from a fixed vocabulary', async () => {
      const { report, summary } = await shown<Tokenized>(
        'tokenize',
        { text: 'Hello world', tokenizer: 'all' },
        (await real)!,
      );
      expect(report.explanation.topic).toBe('pixels-vs-tokens');
      expect(summary).toContain('a language model reads whole-number token ids from a fixed vocabulary');
      const vocabulary = { 'bert-base-uncased': 30_522, gpt2: 50_257, 'clip-vit-base-patch32': 49_408 };
      for (const result of report.results) {
        const size = vocabulary[result.tokenizer as keyof typeof vocabulary];
        expect(result.tokens.every((token) => Number.isInteger(token.id) && token.id >= 0 && token.id < size)).toBe(
          true,
        );
      }
      expect(pieces(byName(report, 'bert-base-uncased'))).toBe('[CLS] hello world [SEP]');
    });
  });

  describe('under /classify', () => {
    it('a CNN and a ViT that disagree: the note on their inductive biases', async () => {
      const image = { name: 'red.png', bytes: await solidPng([255, 0, 0]) };
      const { report, summary } = await shown<Classified>('classify', { image, model: 'both', top: '3' }, tiny);
      expect(report.explanation.topic).toBe('cnn-vs-vit');
      expect(summary).toMatch(/^A CNN is built to look at local neighbourhoods.*a ViT lets every patch attend/);
      expect(report.results.map((result) => result.model.architecture)).toEqual(['cnn', 'vit']);
      expect(report.agreement?.top1Agrees).toBe(false);
    });

    it.skipIf(!HAS_SHARED)('an unsure MobileNetV2: a flat softmax with no clear favourite', async () => {
      const { report, summary } = await shown<Classified>(
        'classify',
        { image: await photo('person.jpg'), model: 'cnn', top: '5' },
        (await real)!,
      );
      expect(report.explanation.topic).toBe('softmax-confidence');
      expect(summary).toContain('numbers that sum to 100%');
      expect(summary).toContain('a flat distribution means the model has no clear favourite');
      const scores = report.results[0]!.predictions.map((prediction) => prediction.score);
      expect(scores.reduce((sum, score) => sum + score, 0)).toBeLessThanOrEqual(1 + 1e-6);
      expect(scores[0]!).toBeLessThan(0.3);
      expect(scores[0]! - scores[1]!).toBeLessThan(0.1);
    });

    it.skipIf(!HAS_SHARED)('a sure MobileNetV2: pixels versus tokens, from a model that reads pixels', async () => {
      const { report, summary } = await shown<Classified>(
        'classify',
        { image: await photo('coffee.png'), model: 'cnn', top: '5' },
        (await real)!,
      );
      expect(report.explanation.topic).toBe('pixels-vs-tokens');
      expect(summary).toContain('A vision model reads a grid of continuous pixel values');
      expect(report.results[0]!.model).toMatchObject({ id: 'mobilenetv2-int8', architecture: 'cnn' });
      expect(report.results[0]!.predictions[0]).toMatchObject({ label: 'espresso' });
    });
  });

  describe('under /match, with the tiny CLIP', () => {
    it('a clear winner: CLIP scores the image against labels it was never trained on', async () => {
      const image = { name: 'blue.png', bytes: await solidPng([0, 0, 255]) };
      const { report, summary } = await shown<Matched>('match', { image, labels: 'red, blue, cat' }, tiny);
      expect(report.explanation.topic).toBe('clip-zero-shot');
      expect(summary).toContain('score an image against labels it was never trained on');
      expect(report.result.matches[0]!.label).toBe('blue');
    });

    it('nearly flat scores: the softmax shares out 100% with no clear favourite', async () => {
      const image = { name: 'blue.png', bytes: await solidPng([0, 0, 255]) };
      const { report, summary } = await shown<Matched>('match', { image, labels: 'teapot, violin, bridge' }, tiny);
      expect(report.explanation.topic).toBe('softmax-confidence');
      expect(summary).toContain('a flat distribution means the model has no clear favourite');
      const scores = report.result.matches.map((match) => match.score);
      expect(scores.reduce((sum, score) => sum + score, 0)).toBeCloseTo(1, 6);
      expect(Math.max(...scores) - Math.min(...scores)).toBeLessThan(0.2);
    });
  });

  describe('under /sentiment, with the real VADER', () => {
    it('text with no English word: VADER finds nothing to score; an English look-alike still counts', async () => {
      const none = await shown<Sentiment>('sentiment', { text: 'La película fue aburrida y demasiado larga.' }, tiny);
      expect(none.report.explanation.topic).toBe('language-specificity');
      expect(none.summary).toContain('a sentence with no English word gives it nothing to score');
      expect(none.report.vader.contributions).toEqual([]);
      expect(none.report.vader.compound).toBe(0);
      const lookAlike = await shown<Sentiment>('sentiment', { text: 'La película fue terrible.' }, tiny);
      expect(lookAlike.report.explanation.topic).toBe('language-specificity');
      expect(lookAlike.summary).toContain('a foreign word spelled like an English one still counts');
      expect(lookAlike.report.vader.contributions.map((c) => c.word)).toEqual(['terrible']);
    });

    it('an emoji that adds nothing: VADER read its English name, or does not know it', async () => {
      const automobile = await shown<Sentiment>('sentiment', { text: 'I drove my 🚗 to work' }, tiny);
      expect(automobile.report.explanation.topic).toBe('vader-myths');
      expect(automobile.summary).toContain(
        'an emoji missing from the list, or whose name has no lexicon word, adds nothing',
      );
      expect(automobile.report.vader.emoji).toEqual([{ emoji: '🚗', description: 'automobile', scored: false }]);
      expect(automobile.report.vader.compound).toBe(0);
      const unknown = await shown<Sentiment>('sentiment', { text: 'I am 🫠 today' }, tiny);
      expect(unknown.report.explanation.topic).toBe('vader-myths');
      expect(unknown.report.vader.emoji).toEqual([]);
      expect(unknown.report.vader.compound).toBe(0);
      const beaming = await shown<Sentiment>('sentiment', { text: 'I love it 😁' }, tiny);
      expect(beaming.report.vader.emoji).toEqual([
        { emoji: '😁', description: 'beaming face with smiling eyes', scored: true },
      ]);
    });

    it('otherwise: VADER adds up fixed word scores, "!" included, and squashes the sum', async () => {
      for (const text of ['Not bad at all', "I love this product! It's absolutely amazing and works perfectly."]) {
        const { report, summary } = await shown<Sentiment>('sentiment', { text }, tiny);
        expect(report.explanation.topic).toBe('lexicon-vs-learned-sentiment');
        expect(summary).toContain('VADER adds up fixed word scores with hand-written rules');
        const sum = report.vader.contributions.reduce((total, c) => total + c.valence, 0);
        expect(report.vader.compound).toBeCloseTo(sum / Math.sqrt(sum * sum + 15), 2);
      }
    });
  });
});

if (!HAS_SHARED) console.warn(`explanations.test.ts: ${SHARED_SKIP_REASON}`);
