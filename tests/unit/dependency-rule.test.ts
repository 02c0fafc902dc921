import { ESLint } from 'eslint';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

const eslint = new ESLint({ cwd: ROOT });

/** Lints source text as if it were a file at `path`, returning the dependency-rule messages. */
async function ruleMessages(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, path) });
  return (result?.messages ?? [])
    .filter((message) => message.ruleId === 'import-x/no-restricted-paths')
    .map((message) => message.message);
}

describe('the dependency rule (dependency-rule.js)', () => {
  it('fails a wrong-way import: render/ drawing from a vision module', async () => {
    const messages = await ruleMessages(
      'src/render/planted.ts',
      "import { patchGrid } from '../vision/patches.js';\nexport const grid = patchGrid;\n",
    );
    expect(messages).toEqual([expect.stringContaining('render may not import vision')]);
  });

  it('fails a command that reaches past the services into the engine', async () => {
    const messages = await ruleMessages(
      'commands/planted.ts',
      "import { InferenceEngine } from '../src/inference/engine.js';\nexport const engine = InferenceEngine;\n",
    );
    expect(messages).toEqual([expect.stringContaining('commands may not import inference')]);
  });

  it('fails a model kind that imports another side (text ← vision)', async () => {
    const messages = await ruleMessages(
      'src/text/planted.ts',
      "import { decodeImage } from '../vision/preprocess.js';\nexport const decode = decodeImage;\n",
    );
    expect(messages).toEqual([expect.stringContaining('text may not import vision')]);
  });

  it('fails the journal reaching up into the Discord front end', async () => {
    const messages = await ruleMessages(
      'src/journal/planted.ts',
      "import { Router } from '../discord/router.js';\nexport const router = Router;\n",
    );
    expect(messages).toEqual([expect.stringContaining('journal may not import discord')]);
  });

  it('allows imports that point down the layers', async () => {
    const messages = await ruleMessages(
      'src/vision/planted.ts',
      "import { stack } from '../inference/pipeline.js';\nimport { inTurn } from '../util/turns.js';\nexport const both = [stack, inTurn];\n",
    );
    expect(messages).toEqual([]);
  });
});
