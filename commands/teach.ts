import { slashCommand, type EmbedSpec } from '../src/command/definition.js';
import { option } from '../src/command/options.js';
import { renderProbeChart, SERIES_COLORS } from '../src/render/probe-chart.js';
import { bar, ms, percent, table } from '../src/render/format.js';
import type { TeachReport, TrainReport } from '../src/teach/service.js';
import { UserFacingError } from '../src/util/errors.js';

const ACTIONS = ['add', 'train', 'classify', 'show', 'remove', 'reset'] as const;

const kib = (bytes: number): string => `${Math.ceil(bytes / 1024)} KiB`;
const rate = (value: number | undefined): string => (value === undefined ? '—' : percent(value));

/** What a linear probe can and cannot learn: the note's short form, under every training reply. */
const PROBE_LIMITS =
  'A linear probe draws straight boundaries in the embedding space: it learns what the frozen model already tells apart (cats vs cars, your mascot vs other animals), not features the model never learned (a texture it ignores, text in the picture, left vs right), and a class that is really two groups may need more examples. Few examples per class: expect the validation curve to wobble. `/explain topic:transfer-learning` says more.';

function requireWith<T>(value: T | undefined, action: string, option: string): T {
  if (value === undefined) {
    throw new UserFacingError(`/teach action:${action} needs ${option}.`, { code: 'invalid_options' });
  }
  return value;
}

function trainJson(report: TrainReport): unknown {
  return {
    classes: report.classes,
    examples: report.examples,
    embedder: report.embedder,
    dimensions: report.dimensions,
    validationExamples: report.validationExamples,
    epochs: report.epochs.map((epoch) => ({
      epoch: epoch.epoch,
      trainLoss: epoch.trainLoss,
      trainAccuracy: epoch.trainAccuracy,
      valLoss: epoch.valLoss ?? null,
      valAccuracy: epoch.valAccuracy ?? null,
    })),
    leaveOneOutAccuracy: report.leaveOneOutAccuracy,
    confusion: report.confusion,
    dataHunger: report.dataHunger,
    ms: report.ms,
  };
}

function trainText(report: TrainReport): string {
  const last = report.epochs.at(-1);
  const every = Math.max(1, Math.floor(report.epochs.length / 6));
  const shown = report.epochs.filter((epoch) => epoch.epoch === 1 || epoch.epoch % every === 0);
  return [
    `Trained a linear probe on ${report.examples} examples of ${report.classes.length} classes (${report.embedder}, ${report.dimensions} numbers each) in ${ms(report.ms)}; ${report.validationExamples} held out for validation.`,
    table(
      ['epoch', 'train loss', 'train acc', 'val loss', 'val acc'],
      shown.map((epoch) => [
        String(epoch.epoch),
        epoch.trainLoss.toFixed(3),
        rate(epoch.trainAccuracy),
        epoch.valLoss?.toFixed(3) ?? '—',
        rate(epoch.valAccuracy),
      ]),
    ),
    `Final: training ${rate(last?.trainAccuracy)}, validation ${rate(last?.valAccuracy)}; leave-one-out accuracy ${percent(report.leaveOneOutAccuracy)} (chance: ${percent(1 / report.classes.length)}).`,
    `Confusion (leave-one-out; rows true, columns predicted):\n${table(
      ['', ...report.classes],
      report.confusion.map((row, index) => [report.classes[index]!, ...row.map(String)]),
    )}`,
    report.dataHunger.length > 0
      ? `Data hunger: ${report.dataHunger.map((point) => `${point.perClass}/class → ${percent(point.accuracy)}`).join(', ')}.`
      : 'Data hunger: every class needs at least 2 examples beyond the first to measure it.',
    ...(report.otherEmbedder > 0
      ? [`${report.otherEmbedder} stored examples came from another embedder and were left out.`]
      : []),
    PROBE_LIMITS,
  ].join('\n\n');
}

function text(report: TeachReport): string {
  switch (report.action) {
    case 'add':
      return `Added an example of "${report.className}" (${report.embedder}, ${report.dimensions} numbers; the image itself is not kept).\n${table(
        ['class', 'examples'],
        report.classes.map((entry) => [entry.name, String(entry.examples)]),
      )}\nStored: ${kib(report.storedBytes)} of ${kib(report.maxBytes)}.`;
    case 'train':
      return trainText(report);
    case 'classify':
      return `${table(
        ['class', 'score', ''],
        report.predictions.map((prediction) => [prediction.label, percent(prediction.score), bar(prediction.score)]),
      )}\nProbe trained on ${report.trainedOn} examples (${report.embedder}) at ${report.trainedAt.toISOString()}.`;
    case 'show':
      return [
        report.classes.length
          ? table(
              ['class', 'examples'],
              report.classes.map((entry) => [entry.name, String(entry.examples)]),
            )
          : 'No classes yet: /teach action:add class:<name> image:<picture>.',
        `Embedder: ${report.embedder}. ${report.trained ? `Trained at ${report.trained.at.toISOString()} on ${report.trained.examples} examples.` : 'Not trained yet.'}`,
        `Stored: ${kib(report.storedBytes)} of ${kib(report.maxBytes)}; at most ${report.limits.maxClasses} classes of ${report.limits.maxExamplesPerClass} examples.`,
      ].join('\n');
    case 'remove':
      return `Removed "${report.className}" and its ${report.examples} examples; train again to update the probe.`;
    case 'reset':
      return `Deleted this server's ${report.classes} classes, ${report.examples} examples and its trained probe.`;
  }
}

export default slashCommand({
  name: 'teach',
  description: "Train the server's own image classifier: a linear probe on frozen image embeddings",
  help: {
    what: 'Your group adds pictures to its own classes and trains a linear probe on frozen image embeddings: curves, leave-one-out accuracy, confusion and data hunger.',
    example: { action: 'add', class: 'cat', image: 'cat.jpg' },
  },
  options: {
    action: option.string('What to do: add, train, classify, show, remove, reset', {
      required: true,
      choices: ACTIONS.map((action) => ({ name: action, value: action })),
    }),
    class: option.string('The class to add an example to, or to remove (e.g. "cat")', { maxLength: 200 }),
    image: option.attachment('The picture to add or to classify', { required: false }),
  },
  positional: ['action', 'class', 'image'],
  positionalFile: 'image',
  repeatable: 'image',
  usesModels: true,
  usesDatabase: true,

  async execute({ options, services, place }): Promise<TeachReport> {
    const guildId = place.guildId;
    if (!guildId) {
      throw new UserFacingError(
        "/teach works in a server: each server trains its own classes. Use it in one of your server's channels.",
        { code: 'server_only' },
      );
    }
    const teach = services.teach;
    switch (options.action) {
      case 'add':
        return teach.add(
          guildId,
          requireWith(options.class, 'add', 'class:<name>'),
          requireWith(options.image, 'add', 'image:<picture>'),
          place.userId,
        );
      case 'train':
        return teach.train(guildId);
      case 'classify':
        return teach.classify(guildId, requireWith(options.image, 'classify', 'image:<picture>'));
      case 'show':
        return teach.show(guildId);
      case 'remove':
        return teach.remove(guildId, requireWith(options.class, 'remove', 'class:<name>'));
      default:
        return teach.reset(guildId);
    }
  },

  toJson(report) {
    switch (report.action) {
      case 'train':
        return trainJson(report);
      case 'classify':
        return { predictions: report.predictions, embedder: report.embedder, trainedOn: report.trainedOn };
      default:
        return report;
    }
  },

  toText: text,

  async toEmbeds(report) {
    const embed: EmbedSpec = { title: `/teach ${report.action}`, description: text(report).slice(0, 4000) };
    if (report.action !== 'train') return { embeds: [embed], files: [] };
    const chart = await renderProbeChart({
      accuracy: [
        { name: 'training', color: SERIES_COLORS.train, values: report.epochs.map((e) => e.trainAccuracy) },
        { name: 'validation', color: SERIES_COLORS.validation, values: report.epochs.map((e) => e.valAccuracy) },
      ],
      loss: [
        { name: 'training', color: SERIES_COLORS.train, values: report.epochs.map((e) => e.trainLoss) },
        { name: 'validation', color: SERIES_COLORS.validation, values: report.epochs.map((e) => e.valLoss) },
      ],
      confusion: { labels: report.classes, counts: report.confusion },
      hunger: report.dataHunger,
    });
    return {
      embeds: [{ ...embed, image: 'teach-training.png' }],
      files: [{ name: 'teach-training.png', data: chart }],
    };
  },
});
