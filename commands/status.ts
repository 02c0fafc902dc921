import type { StatusReport } from '../src/app.js';
import { slashCommand } from '../src/command/definition.js';
import { ms, table } from '../src/render/format.js';

const duration = (seconds: number): string => {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return [d && `${d}d`, (d || h) && `${h}h`, `${m}m`, `${seconds % 60}s`].filter(Boolean).join(' ');
};

const latencyTable = (report: StatusReport): string =>
  report.models.length
    ? table(
        ['model', 'p50', 'p95', 'batches', 'requests', 'queued'],
        report.models.map((m) => [
          m.model,
          `≈${ms(m.p50Ms)}`,
          `≈${ms(m.p95Ms)}`,
          String(m.batches),
          String(m.requests),
          String(m.waiting),
        ]),
      )
    : 'No inference yet.';

export default slashCommand({
  name: 'status',
  description: 'Execution provider, loaded models, queue depth, latency and uptime',
  help: { what: 'Execution provider, loaded models, queue depth and latency.' },
  options: {},
  positional: [],

  execute: ({ services }) => services.status(),
  toJson: (report) => report,

  toText: (report) =>
    [
      `execution provider: ${report.executionProvider} (setting ${report.executionProviderSetting}), precision ${report.precision}`,
      `queue depth: ${report.queueDepth}`,
      `uptime: ${duration(report.uptimeSeconds)}`,
      `loaded: ${report.loaded.join(', ') || 'nothing yet'}`,
      latencyTable(report),
    ].join('\n'),

  toEmbeds: (report) => ({
    embeds: [
      {
        title: 'sightread status',
        fields: [
          {
            name: 'Execution provider',
            value: `${report.executionProvider} (setting: ${report.executionProviderSetting}, precision ${report.precision})`,
            inline: true,
          },
          { name: 'Queue depth', value: String(report.queueDepth), inline: true },
          { name: 'Uptime', value: duration(report.uptimeSeconds), inline: true },
          { name: 'Event-loop lag p99', value: ms(report.eventLoopLagP99Ms), inline: true },
          { name: 'Loaded', value: report.loaded.join('\n') || 'nothing yet' },
          {
            name: 'Latency per model (batched session runs, from the metrics histogram)',
            value: `\`\`\`\n${latencyTable(report)}\n\`\`\``,
          },
        ],
      },
    ],
    files: [],
  }),
});
