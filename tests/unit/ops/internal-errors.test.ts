import { copyFile, cp } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Services } from '../../../src/app.js';
import { FIXTURES_DIR, recordingLogger, tempDir, testConfig } from '../../helpers.js';

/**
 * A model that loads but fails inside onnxruntime (here: each tiny model's file swapped for
 * another's, so its inputs are not the ones the pipeline feeds) is an internal error. The reply
 * goes on without that model and says so, but the error's own text (onnxruntime's message, with
 * tensor names and shapes, sometimes paths) stays in the log, as the router's rule is for whole
 * requests.
 */
describe('a model failing with an internal error', () => {
  const { logger, entries } = recordingLogger();
  let services: Services;

  beforeAll(async () => {
    const dir = await tempDir();
    await cp(FIXTURES_DIR, dir, { recursive: true });
    await copyFile(join(FIXTURES_DIR, 'tiny-cnn/model.onnx'), join(dir, 'tiny-sentiment/model.onnx'));
    await copyFile(join(FIXTURES_DIR, 'tiny-sentiment/model.onnx'), join(dir, 'tiny-vit/model.onnx'));
    services = new Services(
      testConfig({ MODELS_MANIFEST: join(dir, 'manifest.json'), MODELS_DIR: join(dir, 'store') }),
      logger,
    );
  });
  afterAll(() => services.dispose());

  const loggedErrors = (): string[] =>
    entries.filter((entry) => entry.level === 50).map((entry) => JSON.stringify(entry.err ?? entry));

  it("tells the user the transformer is unavailable without onnxruntime's message, which is logged", async () => {
    const before = loggedErrors().length;
    const report = await services.text.sentiment('What a great day');
    expect(report.vader.label).toBe('positive');
    expect(report.transformer).toEqual({ unavailable: "an internal error (the details are in the bot's log)" });
    const logged = loggedErrors().slice(before);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/input/i);
  });

  it("answers an image experiment with the model that works and keeps the other's error text in the log", async () => {
    const before = loggedErrors().length;
    const photo = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#c03020' } })
      .png()
      .toBuffer();
    const outcome = await services.vision.stress(photo, 'both', 1);
    expect(outcome.results.map((result) => result.model.id)).toEqual(['tiny-cnn']);
    expect(outcome.unavailable).toEqual([
      { model: 'tiny-vit', reason: "an internal error (the details are in the bot's log)" },
    ]);
    expect(loggedErrors().slice(before).join('\n')).toMatch(/input/i);
  });
});
