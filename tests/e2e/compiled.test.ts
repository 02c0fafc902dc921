import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, solidPng } from '../helpers.js';
import { finalEdit, startBot, until, type BotProcess } from './bot-process.js';
import { DiscordEmulator } from './emulator.js';

/**
 * `npm start` runs the compiled JavaScript in dist/, not the sources: paths to prompts/, the
 * command modules and the inference worker must all resolve from there too.
 */
const emulator = new DiscordEmulator();
let bot: BotProcess;

beforeAll(async () => {
  await promisify(execFile)('npm', ['run', '-s', 'build'], { cwd: ROOT });
  await emulator.start();
  bot = await startBot(emulator, {}, 30_000, true);
}, 90_000);

afterAll(async () => {
  if (bot.child.exitCode === null) bot.child.kill('SIGKILL');
  await emulator.stop();
});

describe('the compiled bot that npm start runs', () => {
  it('classifies an image and answers from the study notes', async () => {
    const png = emulator.attachment('green.png', 'image/png', await solidPng([0, 200, 0]));
    const classify = emulator.interact({
      name: 'classify',
      type: 1,
      options: [{ name: 'image', type: 11, value: png.id }],
      resolved: { attachments: { [png.id]: png } },
    });
    const ask = emulator.interact(
      { name: 'ask', type: 1, options: [{ name: 'question', type: 3, value: 'What is a patch embedding?' }] },
      { userId: '600000000000000999' },
    );
    // The answer: the first response itself when ready in time (INLINE_ANSWER_MS), else the edit of "thinking…".
    await until(() => (finalEdit(classify) && finalEdit(ask) ? true : undefined), 20_000, 'both answers');
    const classified = finalEdit(classify)!;
    expect(classified.files.map((file) => file.name)).toEqual(['classify.png', 'patches.jpg']);
    const answer = (
      finalEdit(ask)!.json.embeds as Array<{
        fields: Array<{ name: string; value: string }>;
      }>
    )[0]!;
    expect(answer.fields.find((field) => field.name === 'Sources')!.value).toContain('/explain topic:');
    expect(bot.logs.some((entry) => entry.msg === 'models loaded; ready')).toBe(true);
  });
});
