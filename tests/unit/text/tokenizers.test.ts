import { mkdtempSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SPECIAL_TOKENS, tinyWordPieceTokenizer } from '../../../scripts/fixtures/tiny-models.js';
import { parseManifest } from '../../../src/models/manifest.js';
import { ModelStore } from '../../../src/models/store.js';
import { TokenizerRegistry, tokenizeText } from '../../../src/text/tokenizers.js';
import { UserFacingError } from '../../../src/util/errors.js';
import { HAS_SHARED, SHARED, silentLogger, tempDir } from '../../helpers.js';

function registry(dirs: Record<string, string>): TokenizerRegistry {
  const manifest = parseManifest(
    {
      $schemaVersion: 1,
      models: Object.entries(dirs).map(([id, path]) => ({
        id,
        name: id,
        task: 'tokenizer',
        architecture: 'tokenizer',
        source: { type: 'local', path },
        files: [{ path: 'tokenizer.json' }, { path: 'tokenizer_config.json' }],
      })),
    },
    '/',
  );
  return new TokenizerRegistry(
    new ModelStore({
      manifest,
      // A folder of its own for the lock file: a shared one would carry hashes from test to test.
      modelsDir: mkdtempSync(join(tmpdir(), 'sightread-tokenizers-')),
      hubEndpoint: 'http://127.0.0.1:9',
      allowDownloads: false,
      downloadTimeoutMs: 100,
      logger: silentLogger,
    }),
  );
}

async function writeTokenizer(files: { tokenizer: object; config: object }): Promise<string> {
  const dir = await tempDir('tokenizer-');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(files.tokenizer));
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(files.config));
  return dir;
}

/** A classic (not byte-level) BPE: characters, then merges applied in order. */
function tinyBpe(): { tokenizer: object; config: object } {
  const vocab = ['<unk>', 'l', 'o', 'w', 'e', 'r', 'n', 's', 't', 'lo', 'low', 'er', 'es', 'est', 'lowest'];
  return {
    tokenizer: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [
        { id: 0, content: '<unk>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      ],
      normalizer: null,
      pre_tokenizer: { type: 'Whitespace' },
      post_processor: null,
      decoder: null,
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: '<unk>',
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        vocab: Object.fromEntries(vocab.map((token, index) => [token, index])),
        merges: ['l o', 'lo w', 'e r', 'e s', 'es t', 'low est'],
      },
    },
    config: { tokenizer_class: 'PreTrainedTokenizerFast', unk_token: '<unk>' },
  };
}

describe('tokenizers on tiny vocabularies built here', () => {
  it('WordPiece splits a word it lacks into the longest known prefix plus ## continuations', async () => {
    const dir = await writeTokenizer(
      tinyWordPieceTokenizer([...SPECIAL_TOKENS, 'un', 'fun', '##fun', 'the', 'movie', '##s'], 32),
    );
    const result = tokenizeText(await registry({ tiny: dir }).get('tiny'), 'The UNFUN movies');
    expect(result.algorithm).toBe('WordPiece');
    expect(result.tokens.map((t) => t.piece)).toEqual(['[CLS]', 'the', 'un', '##fun', 'movie', '##s', '[SEP]']);
    expect(result.tokens.filter((t) => t.special).map((t) => t.id)).toEqual([2, 3]);
    expect(result.splits).toEqual([
      { word: 'unfun', pieces: ['un', '##fun'] },
      { word: 'movies', pieces: ['movie', '##s'] },
    ]);
    expect(result.notes.join(' ')).toMatch(/Lowercased/);
    const unknown = tokenizeText(await registry({ tiny: dir }).get('tiny'), 'the zebra');
    expect(unknown.unknownCount).toBe(1);
  });

  it('a cut-short tokenizer.json is reported corrupted by the store, naming the manifest id, not a JSON stack', async () => {
    const files = tinyWordPieceTokenizer([...SPECIAL_TOKENS, 'the'], 32);
    const whole = JSON.stringify(files.tokenizer);
    const dir = await writeTokenizer(files);
    await writeFile(join(dir, 'tokenizer.json'), whole.slice(0, whole.length - 40));
    const error = await registry({ 'tiny-bert': dir })
      .get('tiny-bert')
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UserFacingError);
    expect(error).toMatchObject({ code: 'model_corrupt' });
    expect((error as Error).message).toMatch(
      /tiny-bert on this bot is corrupted: tokenizer\.json is not valid JSON.*put a good copy back in its local folder/s,
    );
  });

  it('BPE applies its merges in order', async () => {
    const dir = await writeTokenizer(tinyBpe());
    const result = tokenizeText(await registry({ bpe: dir }).get('bpe'), 'lowest lower slow');
    expect(result.tokens.map((t) => t.piece)).toEqual(['lowest', 'low', 'er', 's', 'low']);
    expect(result.specialCount).toBe(0);
  });
});

describe.skipIf(!HAS_SHARED)('the real vocabularies in ../shared/tokenizers', () => {
  const real = (): TokenizerRegistry =>
    registry({
      'bert-base-uncased': join(SHARED, 'tokenizers/bert-base-uncased'),
      gpt2: join(SHARED, 'tokenizers/gpt2'),
      clip: join(SHARED, 'tokenizers/clip-vit-base-patch32'),
    });

  it('reproduce the published token ids', async () => {
    const tokenizers = real();
    expect(tokenizeText(await tokenizers.get('bert-base-uncased'), 'Hello world').tokens.map((t) => t.id)).toEqual([
      101, 7592, 2088, 102,
    ]);
    expect(tokenizeText(await tokenizers.get('gpt2'), 'Hello world').tokens.map((t) => t.id)).toEqual([15496, 995]);
    expect(tokenizeText(await tokenizers.get('clip'), 'Hello World!').tokens.map((t) => t.id)).toEqual([
      49406, 3306, 1002, 256, 49407,
    ]);
  });

  it('show each piece as the vocabulary spells it, and mark only the tokens wrapped around the text as special', async () => {
    const tokenizers = real();
    const view = async (id: string, text: string): Promise<Array<[string, number, boolean]>> =>
      tokenizeText(await tokenizers.get(id), text).tokens.map((t) => [t.piece, t.id, t.special]);
    expect(await view('bert-base-uncased', 'Hello world')).toEqual([
      ['[CLS]', 101, true],
      ['hello', 7592, false],
      ['world', 2088, false],
      ['[SEP]', 102, true],
    ]);
    expect(await view('gpt2', 'hello😀 world')).toEqual([
      ['hello', 31373, false],
      ['ðŁĺ', 47249, false],
      ['Ģ', 222, false],
      ['Ġworld', 995, false],
    ]);
    expect(await view('clip', 'Hello World!')).toEqual([
      ['<|startoftext|>', 49406, true],
      ['hello</w>', 3306, false],
      ['world</w>', 1002, false],
      ['!</w>', 256, false],
      ['<|endoftext|>', 49407, true],
    ]);
    // An empty text is only the wrapping; GPT-2 adds none.
    expect(await view('bert-base-uncased', '')).toEqual([
      ['[CLS]', 101, true],
      ['[SEP]', 102, true],
    ]);
    expect(await view('gpt2', '')).toEqual([]);
  });

  it("count unknown pieces among the text's own tokens only", async () => {
    const tokenizers = real();
    // Thai is not in BERT's vocabulary: each word becomes [UNK].
    expect(tokenizeText(await tokenizers.get('bert-base-uncased'), 'สวัสดีครับ ภาษาไทย').unknownCount).toBe(2);
    // CLIP's unknown token is <|endoftext|>, which also closes every text: that one is not unknown.
    expect(tokenizeText(await tokenizers.get('clip'), 'Hello World!').unknownCount).toBe(0);
    // GPT-2's byte-level BPE has no unknown token at all.
    expect(tokenizeText(await tokenizers.get('gpt2'), 'สวัสดี <|endoftext|>').unknownCount).toBe(0);
  });

  it('show what each algorithm does to a rare word, accents and emoji', async () => {
    const tokenizers = real();
    const bert = tokenizeText(await tokenizers.get('bert-base-uncased'), 'unaffable café 😀');
    expect(bert.splits[0]).toEqual({ word: 'unaffable', pieces: ['una', '##ffa', '##ble'] });
    expect(bert.unknownCount).toBe(1);
    expect(bert.notes.join(' ')).toMatch(/Accents are stripped/);
    const gpt2 = tokenizeText(await tokenizers.get('gpt2'), 'café 😀');
    expect(gpt2.algorithm).toBe('byte-level BPE');
    expect(gpt2.unknownCount).toBe(0);
    expect(gpt2.notes.join(' ')).toMatch(/raw UTF-8 bytes/);
    const clip = tokenizeText(await tokenizers.get('clip'), 'unaffable');
    expect(clip.algorithm).toBe('BPE with end-of-word markers');
    expect(clip.splits[0]).toEqual({ word: 'unaffable', pieces: ['un', 'aff', 'able</w>'] });
    expect(gpt2.notes.join(' ')).not.toMatch(/Lowercased/);
    // CLIP's normalizer is a Sequence (NFC, Replace, Lowercase): it lowercases but keeps accents.
    const clipNotes = tokenizeText(await tokenizers.get('clip'), 'Café').notes.join(' ');
    expect(clipNotes).toMatch(/Lowercased/);
    expect(clipNotes).not.toMatch(/Accents are stripped/);
    expect(clip.splits[0]!.pieces.at(-1)).toMatch(/<\/w>$/);
  });
});
