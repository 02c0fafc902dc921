import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { Services } from '../../../src/app.js';
import { loadCommands } from '../../../src/command/loader.js';
import { runAndPresent } from '../../../src/command/run.js';
import { HAS_SHARED, SHARED, silentLogger, tempDir, testConfig, testServices } from '../../helpers.js';

const tokenize = (await loadCommands()).get('tokenize')!;
const fixtures = testServices();
afterAll(() => fixtures.dispose());

describe('/tokenize', () => {
  it('lists pieces and ids next to the ViT patch count', async () => {
    const result = await runAndPresent(tokenize, { text: 'a photo of a cat', tokenizer: 'clip' }, fixtures);
    const data = result.data as {
      results: Array<{
        tokenizer: string;
        tokens: Array<{ piece: string; id: number; special?: boolean }>;
        count: number;
      }>;
      vit: { patches: number; tokens: number };
    };
    // One shape whether one tokenizer or three were asked for.
    expect(data.results).toHaveLength(1);
    const [clip] = data.results;
    expect(clip!.tokenizer).toBe('tiny-clip');
    expect(clip!.tokens.map((t) => t.piece)).toEqual(['[CLS]', 'a', 'photo', 'of', 'a', 'cat', '[SEP]']);
    expect(clip!.tokens[0]).toEqual({ piece: '[CLS]', id: 2, special: true });
    expect(clip!.count).toBe(7);
    // The fixture ViT (16×16 input, 4×4 patches) makes 16 patches + [CLS].
    expect(data.vit).toMatchObject({ patches: 16, tokens: 17 });
  });

  it('rejects an unknown tokenizer choice and empty text', async () => {
    await expect(runAndPresent(tokenize, { text: 'hi', tokenizer: 'xlnet' }, fixtures)).rejects.toThrow(
      /tokenizer: must be one of all, bert, gpt2, clip/,
    );
    await expect(runAndPresent(tokenize, { text: '   ' }, fixtures)).rejects.toThrow(/whitespace/);
  });

  it.skipIf(!HAS_SHARED)('shows all three real tokenizers side by side', async () => {
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
      JSON.stringify({ $schemaVersion: 1, models: ['bert-base-uncased', 'gpt2', 'clip-vit-base-patch32'].map(entry) }),
    );
    const services = new Services(
      testConfig({ MODELS_MANIFEST: manifest, CLIP_MODEL: 'clip-vit-base-patch32', VISION_VIT_MODEL: 'none' }),
      silentLogger,
    );
    const result = await runAndPresent(tokenize, { text: 'Hello world' }, services);
    const data = result.data as {
      results: Array<{ tokenizer: string; tokens: Array<{ id: number }> }>;
      vit: { patches: number; tokens: number };
    };
    expect(data.results.map((r) => r.tokens.map((t) => t.id))).toEqual([
      [101, 7592, 2088, 102],
      [15496, 995],
      [49406, 3306, 1002, 49407],
    ]);
    expect(data.vit).toMatchObject({ patches: 196, tokens: 197 });
    expect(result.text).toContain('196 patches of 16×16×3');
    await services.dispose();
  });
});
