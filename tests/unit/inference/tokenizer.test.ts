import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SPECIAL_TOKENS, tinyWordPieceTokenizer } from '../../../scripts/fixtures/tiny-models.js';
import { loadTokenizer, tokenize } from '../../../src/inference/tokenizer.js';
import { UserFacingError } from '../../../src/util/errors.js';
import { HAS_SHARED, SHARED, tempDir } from '../../helpers.js';

const VOCAB = [...SPECIAL_TOKENS, 'the', 'movie', 'was', 'good', 'un', '##fun'];

async function tokenizerDir(tokenizerJson: string, configJson: string): Promise<string> {
  const dir = await tempDir('tokenizer-');
  await writeFile(join(dir, 'tokenizer.json'), tokenizerJson);
  await writeFile(join(dir, 'tokenizer_config.json'), configJson);
  return dir;
}

async function tinyDir(config?: object): Promise<string> {
  const files = tinyWordPieceTokenizer(VOCAB, 32);
  return tokenizerDir(JSON.stringify(files.tokenizer), JSON.stringify(config ?? files.config));
}

const rows = (data: unknown, width: number): number[][] => {
  const values = Array.from(data as BigInt64Array, Number);
  return Array.from({ length: values.length / width }, (_, r) => values.slice(r * width, (r + 1) * width));
};

describe('tokenize: a padded, truncated int64 batch', () => {
  it('pads with the pad id, masks the padding and reports lengths', async () => {
    const tokenizer = await loadTokenizer(await tinyDir());
    const batch = tokenize(tokenizer, ['the movie was good', 'unfun', ''], 16);
    expect(batch.ids.type).toBe('int64');
    expect(batch.ids.dims).toEqual([3, 6]);
    expect(batch.mask.dims).toEqual([3, 6]);
    // [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 the=4 movie=5 was=6 good=7 un=8 ##fun=9
    expect(rows(batch.ids.data, 6)).toEqual([
      [2, 4, 5, 6, 7, 3],
      [2, 8, 9, 3, 0, 0],
      [2, 3, 0, 0, 0, 0],
    ]);
    expect(rows(batch.mask.data, 6)).toEqual([
      [1, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 0, 0],
      [1, 1, 0, 0, 0, 0],
    ]);
    expect(batch.lengths).toEqual([6, 4, 2]);
    expect(batch.truncated).toEqual([false, false, false]);
  });

  it('truncates to maxTokens and keeps the final [SEP]', async () => {
    const tokenizer = await loadTokenizer(await tinyDir());
    const batch = tokenize(tokenizer, ['the movie was good', 'good'], 4);
    expect(rows(batch.ids.data, 4)).toEqual([
      [2, 4, 5, 3],
      [2, 7, 3, 0],
    ]);
    expect(batch.lengths).toEqual([4, 3]);
    expect(batch.truncated).toEqual([true, false]);
  });

  it('pads with the end-of-sequence token when the config names no pad token, as transformers.js did', async () => {
    const config = Object.fromEntries(
      Object.entries(tinyWordPieceTokenizer(VOCAB, 32).config).filter(([key]) => key !== 'pad_token'),
    );
    const tokenizer = await loadTokenizer(await tinyDir({ ...config, eos_token: '[SEP]' }));
    expect(tokenizer.padId).toBe(3);
    const withoutEither = await loadTokenizer(await tinyDir(config));
    expect(withoutEither.padId).toBe(0);
  });
});

describe('a damaged tokenizer.json', () => {
  const expectModelInvalid = async (load: Promise<unknown>, modelId: string): Promise<UserFacingError> => {
    const error = await load.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(UserFacingError);
    const userFacing = error as UserFacingError;
    expect(userFacing.code).toBe('model_invalid');
    expect(userFacing.message).toContain(`"${modelId}"`);
    expect(userFacing.message).toContain(`npm run models:pull ${modelId}`);
    expect(userFacing.message).not.toMatch(/\n\s+at /);
    return userFacing;
  };

  it('cut short mid-file is a model_invalid error naming the model and how to download it again', async () => {
    const whole = JSON.stringify(tinyWordPieceTokenizer(VOCAB, 32).tokenizer);
    const dir = await tokenizerDir(
      whole.slice(0, Math.floor(whole.length / 2)),
      JSON.stringify(tinyWordPieceTokenizer(VOCAB, 32).config),
    );
    const error = await expectModelInvalid(loadTokenizer(dir, 'tiny-bert'), 'tiny-bert');
    expect(error.message).toMatch(/not valid JSON/);
    // Named as the store lays it out; the absolute path is the operator's, not the channel's.
    expect(error.message).toContain('tiny-bert/tokenizer.json');
    expect(error.message).not.toContain(dir);
  });

  it('valid JSON without a model section is model_invalid too', async () => {
    const dir = await tokenizerDir(JSON.stringify({ version: '1.0', added_tokens: [] }), '{}');
    await expectModelInvalid(loadTokenizer(dir, 'tiny-bert'), 'tiny-bert');
  });

  it('a model section the library cannot build is model_invalid, not a raw TypeError', async () => {
    const files = tinyWordPieceTokenizer(VOCAB, 32);
    const broken = { ...(files.tokenizer as Record<string, unknown>), model: { type: 'NoSuchModel' } };
    const dir = await tokenizerDir(JSON.stringify(broken), JSON.stringify(files.config));
    const error = await expectModelInvalid(loadTokenizer(dir, 'tiny-bert'), 'tiny-bert');
    expect(error.message).toMatch(/NoSuchModel/);
  });

  it('names the folder when no model id is given: store folders are named after the model', async () => {
    const dir = await tokenizerDir('{"model": ', '{}');
    await expectModelInvalid(loadTokenizer(dir), basename(dir));
  });
});

describe.skipIf(!HAS_SHARED)('tokenize on the real vocabularies in ../shared/tokenizers', () => {
  it('gives the published ids and each tokenizer its own padding', async () => {
    const load = (id: string): ReturnType<typeof loadTokenizer> => loadTokenizer(join(SHARED, 'tokenizers', id));
    const bert = tokenize(await load('bert-base-uncased'), ['Hello world', 'Hi'], 512);
    expect(rows(bert.ids.data, 4)).toEqual([
      [101, 7592, 2088, 102],
      [101, 7632, 102, 0],
    ]);
    // GPT-2 has no pad token: transformers.js padded with <|endoftext|> (50256), so do we.
    const gpt2 = tokenize(await load('gpt2'), ['Hello world', 'Hi'], 512);
    expect(rows(gpt2.ids.data, 2)).toEqual([
      [15496, 995],
      [17250, 50256],
    ]);
    // CLIP pads with <|endoftext|> (49407), and truncation keeps the closing one.
    const clip = tokenize(await load('clip-vit-base-patch32'), ['a photo of a cat', 'cat'], 5);
    expect(rows(clip.ids.data, 5)).toEqual([
      [49406, 320, 1125, 539, 49407],
      [49406, 2368, 49407, 49407, 49407],
    ]);
    expect(clip.truncated).toEqual([true, false]);
  });
});
