import { ApplicationCommandType } from 'discord-api-types/v10';
import { z } from 'zod';
import { defineCommand } from '../src/command/definition.js';
import { ms, table } from '../src/render/format.js';

const duration = (seconds: number): string => {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return [d && `${d}d`, (d || h) && `${h}h`, `${m}m`, `${seconds % 60}s`].filter(Boolean).join(' ');
};

export default defineCommand({
  data: { name: 'status', type: ApplicationCommandType.ChatInput, description: 'Execution provider, loaded models, queue depth, latency and uptime' },
  options: z.object({}),
  cli: { positional: [], example: 'status --json' },

  async execute({ services }) {
    const { engine } = services;
    const loaded = await services.loaded();
    const stats = engine.batcherStats();
    const models = [...engine.latency].map(([model, recorder]) => {
      const { p50, p95, count } = recorder.percentiles();
      return { model, p50Ms: p50, p95Ms: p95, batches: count, requests: stats[model]?.items ?? 0, largestBatch: stats[model]?.largestBatch ?? 0, waiting: stats[model]?.depth ?? 0 };
    });
    const uptimeSeconds = Math.round((Date.now() - services.startedAt) / 1000);
    const data = {
      executionProvider: engine.activeProvider,
      executionProviderSetting: engine.providerSetting,
      precision: services.precision,
      loaded,
      queueDepth: engine.queueDepth(),
      eventLoopLagP99Ms: services.metrics.eventLoopP99Ms(),
      models,
      uptimeSeconds,
    };
    const rows = models.map((m) => [m.model, ms(m.p50Ms), ms(m.p95Ms), String(m.batches), String(m.requests), String(m.waiting)]);
    const latency = rows.length ? table(['model', 'p50', 'p95', 'batches', 'requests', 'queued'], rows) : 'No inference yet.';
    return {
      data,
      embeds: [
        {
          title: 'sightread status',
          fields: [
            { name: 'Execution provider', value: `${engine.activeProvider} (setting: ${engine.providerSetting}, precision ${services.precision})`, inline: true },
            { name: 'Queue depth', value: String(engine.queueDepth()), inline: true },
            { name: 'Uptime', value: duration(uptimeSeconds), inline: true },
            { name: 'Event-loop lag p99', value: ms(services.metrics.eventLoopP99Ms()), inline: true },
            { name: 'Loaded', value: loaded.join('\n') || 'nothing yet' },
            { name: 'Latency per model (batched session runs)', value: `\`\`\`\n${latency}\n\`\`\`` },
          ],
        },
      ],
      files: [],
      text: [`execution provider: ${engine.activeProvider} (setting ${engine.providerSetting}), precision ${services.precision}`, `queue depth: ${engine.queueDepth()}`, `uptime: ${duration(uptimeSeconds)}`, `loaded: ${loaded.join(', ') || 'nothing yet'}`, latency].join('\n'),
    };
  },
});
