import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getModel, loadManifest, parseManifest, weightFiles } from '../../../src/models/manifest.js';
import { UserFacingError } from '../../../src/util/errors.js';
import { ROOT, thrownBy } from '../../helpers.js';

const shipped = JSON.parse(readFileSync(join(ROOT, 'models/manifest.json'), 'utf8')) as {
  models: Array<Record<string, unknown>>;
};

describe('model manifest', () => {
  it('accepts the shipped manifest and pins MobileNetV2 by sha256', () => {
    const manifest = loadManifest(join(ROOT, 'models/manifest.json'));
    const mobilenet = getModel(manifest, 'mobilenetv2-int8');
    expect(mobilenet.files[0]?.sha256).toBe('83530ad811bc31d2b60a5599a21265a5057608c9b044b4ee758cc22f2309f54f');
    expect(mobilenet.preprocess).toMatchObject({
      shorterSide: 256,
      size: { width: 224, height: 224 },
      mean: [0.485, 0.456, 0.406],
    });
    for (const id of [
      'resnet-50',
      'vit-base-patch16-224',
      'clip-vit-base-patch32',
      'distilbert-sst2',
      'bert-base-uncased',
      'gpt2',
    ]) {
      expect(manifest.models.has(id)).toBe(true);
    }
  });

  it('ships an ImageNet label file with 1000 classes where 967 is espresso', () => {
    const labels = JSON.parse(readFileSync(join(ROOT, 'models/labels/imagenet-1k.json'), 'utf8')) as {
      labels: string[];
    };
    expect(labels.labels).toHaveLength(1000);
    expect(labels.labels[967]).toBe('espresso');
    expect(labels.labels[281]).toBe('tabby');
  });

  it('rejects an entry with every problem listed by its path', () => {
    const broken = {
      $schemaVersion: 1,
      models: [
        { ...shipped.models[0], id: 'Bad Id', files: [{ path: '../escape.onnx', sha256: 'xyz' }] },
        { ...shipped.models[1], preprocess: undefined },
      ],
    };
    const { message } = thrownBy(() => parseManifest(broken, ROOT), UserFacingError);
    expect(message).toContain('models.0.id');
    expect(message).toContain('models.0.files.0.path');
    expect(message).toContain('models.0.files.0.sha256');
    expect(message).toContain('models.0.files.0.url');
    expect(message).toContain('models.1.preprocess');
  });

  it('rejects duplicate ids', () => {
    expect(() => parseManifest({ $schemaVersion: 1, models: [shipped.models[0], shipped.models[0]] }, ROOT)).toThrow(
      /duplicate id "mobilenetv2-int8"/,
    );
  });

  it('names the known models when an id is unknown', () => {
    const manifest = loadManifest(join(ROOT, 'models/manifest.json'));
    expect(() => getModel(manifest, 'resnet-9000')).toThrow(/Unknown model "resnet-9000".*mobilenetv2-int8/);
  });

  it('picks the int8 file on request and falls back to what a model ships', () => {
    const manifest = loadManifest(join(ROOT, 'models/manifest.json'));
    expect(weightFiles(getModel(manifest, 'resnet-50'), 'q8').files.map((f) => f.path)).toEqual([
      'onnx/model_quantized.onnx',
    ]);
    expect(weightFiles(getModel(manifest, 'resnet-50'), 'fp32').files.map((f) => f.path)).toEqual(['onnx/model.onnx']);
    expect(weightFiles(getModel(manifest, 'mobilenetv2-int8'), 'fp32').precision).toBe('int8');
    expect(weightFiles(getModel(manifest, 'clip-vit-base-patch32'), 'q8').files.map((f) => f.part)).toEqual([
      'text',
      'vision',
    ]);
  });
});
