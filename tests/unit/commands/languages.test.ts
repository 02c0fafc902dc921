import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { threadId } from 'node:worker_threads';
import { writeFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { Services } from '../../../src/app.js';
import { cliOptions, parseArgs } from '../../../src/cli/args.js';
import type { SlashCommand } from '../../../src/command/definition.js';
import { loadCommands } from '../../../src/command/loader.js';
import { runAndPresent } from '../../../src/command/run.js';
import { parseSentences } from '../../../src/text/languages.js';
import { UDHR_ARTICLE_1 } from '../../../src/text/parallel-text.js';
import { loadO200k } from '../../../src/text/tiktoken.js';
import {
  HAS_SHARED,
  ROOT,
  SHARED,
  SHARED_SKIP_REASON,
  silentLogger,
  tempDir,
  testConfig,
  testServices,
} from '../../helpers.js';

const languages = (await loadCommands()).get('languages') as SlashCommand;
const fixtures = testServices({ BATCH_MAX_SIZE: '32' });
afterAll(() => fixtures.dispose());

interface LanguagesJson {
  imageTokens: number;
  languages: Array<{
    code: string;
    name: string;
    text: string;
    tokenizers: Record<string, { tokens: number; perChar: number; unknown?: number }>;
    vader: { label: string };
    transformer: { label: string; score: number } | { unavailable: string };
  }>;
  unavailable: Array<{ tokenizer: string }>;
  transformer: { model: { id: string }; timings: { batchSize: number } };
  reading: string;
}

describe('/languages', () => {
  it('prices Article 1 of the UDHR in 16 languages across scripts, beside the ViT’s fixed image price', async () => {
    const runs = (): number => fixtures.engine.batcherStats()['tiny-sentiment:fp32']?.runs ?? 0;
    const before = runs();
    const result = await runAndPresent(languages, {}, fixtures);
    const data = result.data as LanguagesJson;
    expect(data.languages.map((row) => row.code)).toEqual(UDHR_ARTICLE_1.map((s) => s.code));
    expect(data.languages).toHaveLength(16);
    expect(new Set(UDHR_ARTICLE_1.map((s) => s.script)).size).toBeGreaterThanOrEqual(10);
    // The fixture ViT: 16×16 input in 4×4 patches, plus [CLS].
    expect(data.imageTokens).toBe(17);
    // The fixtures have CLIP's tokenizer (tiny) and o200k ships in js-tiktoken; BERT and GPT-2 are missing.
    expect(Object.keys(data.languages[0]!.tokenizers).sort()).toEqual(['clip', 'o200k']);
    expect(data.unavailable.map((u) => u.tokenizer).sort()).toEqual(['bert', 'gpt2']);
    // All 16 sentences in one transformer run.
    expect(runs() - before).toBe(1);
    expect(data.transformer.timings.batchSize).toBe(16);
    expect(data.transformer.model.id).toBe('tiny-sentiment');
    // VADER's lexicon is English: it scores the English sentence and finds nothing in the Thai one.
    expect(data.languages.find((row) => row.code === 'en')!.vader.label).toBe('positive');
    expect(data.languages.find((row) => row.code === 'th')!.vader.label).toBe('neutral');
    expect(result.files.map((file) => file.name)).toEqual(['languages.png']);
    expect(result.text).toContain('eric-muller/udhr');
  });

  it('builds and runs o200k in its own worker thread, so its second-long build never stalls the event loop', async () => {
    const o200k = await loadO200k();
    expect(o200k.threadId).not.toBe(threadId);
    expect(o200k.threadId).toBeGreaterThan(0);
    // One encoder, shared: a second load is the same worker.
    expect(await loadO200k()).toBe(o200k);
  });

  it('lets a process whose o200k encoder is idle exit, and keeps it alive while building or encoding', async () => {
    // Once the encoder has been used (the first /languages), a CLI run or benchmark must still end when done.
    const script = `const { loadO200k } = await import(${JSON.stringify(join(ROOT, 'src/text/tiktoken.ts'))});
      const o200k = await loadO200k();
      console.log(JSON.stringify(await o200k.encode(['Hello world'])));`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: ROOT, timeout: 60_000 },
    );
    expect(JSON.parse(stdout)).toEqual([[13225, 2375]]);
  }, 60_000);

  it('counts o200k tokens as OpenAI publishes them', async () => {
    const o200k = await loadO200k();
    // tiktoken's o200k_base: "Hello" = 13225, " world" = 2375.
    expect(await o200k.encode(['Hello world', 'Hello'])).toEqual([[13225, 2375], [13225]]);
    const result = await runAndPresent(languages, { text: 'en: Hello world' }, fixtures);
    const row = (result.data as LanguagesJson).languages[0]!;
    expect(row.tokenizers.o200k).toEqual({ tokens: 2, perChar: Math.round((2 / 11) * 1000) / 1000 });
  });

  it('takes the user’s sentences, names their language from a prefix or the script, and bounds the list', async () => {
    expect(parseSentences('fr: Bonjour le monde | Привет, мир\nสวัสดีครับ | 안녕하세요 | I love this film')).toEqual([
      { code: 'fr', name: 'French', text: 'Bonjour le monde' },
      { code: 'und', name: 'Cyrillic script (language not identified)', text: 'Привет, мир' },
      { code: 'th', name: 'Thai', text: 'สวัสดีครับ' },
      { code: 'ko', name: 'Korean', text: '안녕하세요' },
      { code: 'en', name: 'English', text: 'I love this film' },
    ]);
    expect(parseSentences('人間は理性と良心とを授けられており')[0]!.code).toBe('ja');
    expect(parseSentences('人人生而自由')[0]!.code).toBe('zh');
    await expect(runAndPresent(languages, { text: '  |  ' }, fixtures)).rejects.toThrow(/sentence list is empty/);
    await expect(runAndPresent(languages, { text: 'Hello | 😀😀 🎉' }, fixtures)).rejects.toThrow(
      /Sentence 2 has no letters/,
    );
    const many = Array.from({ length: 17 }, (_, i) => `sentence ${i}`).join(' | ');
    await expect(runAndPresent(languages, { text: many }, fixtures)).rejects.toThrow(
      /17 sentences; compare at most 16/,
    );
    await expect(runAndPresent(languages, { text: 'a'.repeat(2001) }, fixtures)).rejects.toThrow(
      /at most 2000 characters/,
    );
    const long = Array.from({ length: 5 }, () => 'word '.repeat(70).trim()).join('\n');
    await expect(runAndPresent(languages, { text: long }, fixtures)).rejects.toThrow(/keep the list under 1500/);
  });

  it('reads every positional argument of the terminal as one sentence', async () => {
    const raw = await cliOptions(languages, parseArgs(['en: Hello', 'de: Hallo Welt', '--json']));
    expect(raw).toEqual({ text: 'en: Hello\nde: Hallo Welt' });
  });

  it.skipIf(!HAS_SHARED)(
    'counts the real BERT, GPT-2 and CLIP tokens of every language as transformers.js does',
    async () => {
      const dir = await tempDir();
      const manifest = join(dir, 'manifest.json');
      const entry = (id: string): object => ({
        id,
        name: id,
        task: 'tokenizer',
        architecture: 'tokenizer',
        source: { type: 'local', path: join(SHARED, 'tokenizers', id) },
        files: [{ path: 'tokenizer.json' }, { path: 'tokenizer_config.json' }],
      });
      await writeFile(
        manifest,
        JSON.stringify({
          $schemaVersion: 1,
          models: ['bert-base-uncased', 'gpt2', 'clip-vit-base-patch32'].map(entry),
        }),
      );
      const services = new Services(
        testConfig({ MODELS_MANIFEST: manifest, CLIP_MODEL: 'clip-vit-base-patch32', VISION_VIT_MODEL: 'none' }),
        silentLogger,
      );
      try {
        const result = await runAndPresent(languages, {}, services);
        const data = result.data as LanguagesJson;
        // An independent implementation: transformers.js on the same tokenizer files.
        const { AutoTokenizer, env } = await import('@huggingface/transformers');
        env.allowRemoteModels = false;
        env.localModelPath = `${join(SHARED, 'tokenizers')}/`;
        for (const [name, id] of [
          ['bert', 'bert-base-uncased'],
          ['gpt2', 'gpt2'],
          ['clip', 'clip-vit-base-patch32'],
        ] as const) {
          const tokenizer = await AutoTokenizer.from_pretrained(id);
          for (const row of data.languages) {
            const expected = tokenizer.encode(row.text, { add_special_tokens: false }).length;
            expect({ language: row.code, name, tokens: row.tokenizers[name]?.tokens }).toEqual({
              language: row.code,
              name,
              tokens: expected,
            });
          }
        }
        const en = data.languages.find((row) => row.code === 'en')!;
        const th = data.languages.find((row) => row.code === 'th')!;
        // The English-trained byte-level BPE spends many times more tokens on Thai than o200k does.
        expect(th.tokenizers.gpt2!.tokens / th.tokenizers.o200k!.tokens).toBeGreaterThan(2);
        expect(en.tokenizers.gpt2!.tokens).toBeLessThan(th.tokenizers.gpt2!.tokens);
        // BERT's few Thai tokens are unknown tokens: lost text, not a bargain, and the reply says so.
        expect(th.tokenizers.bert!.unknown).toBe(th.tokenizers.bert!.tokens);
        expect(en.tokenizers.bert!.unknown).toBeUndefined();
        // So the reading's cheapest language for BERT is one it encoded whole, not Thai's 3 unknowns.
        const cheapest = /bert: ([^,]+?) \d+ tokens/.exec(data.reading)?.[1];
        const whole = data.languages.filter((row) => !row.tokenizers.bert!.unknown).map((row) => row.name);
        expect(whole).toContain(cheapest);
        // No transformer in this manifest: the reading does not describe its answers.
        expect(data.transformer).toBeUndefined();
        expect(data.reading).not.toContain('confident label');
      } finally {
        await services.dispose();
      }
    },
  );
});

if (!HAS_SHARED) console.warn(`/languages with real tokenizers: ${SHARED_SKIP_REASON}`);
