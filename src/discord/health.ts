import { createServer, type Server } from 'node:http';
import type { Services } from '../app.js';

export interface HealthState {
  loggedIn: () => boolean;
  models: () => Record<string, string> | undefined;
}

/** /healthz (200 once logged in with every default model loaded, else 503 and why) and /metrics (Prometheus text). */
export function startHealthServer(
  port: number,
  services: Services,
  state: HealthState,
  pending: () => number,
): Promise<Server> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path === '/healthz') {
      const models = state.models();
      // Ready: every default model loaded (Services.modelStatus says which, and why not).
      const ready =
        state.loggedIn() && models !== undefined && Object.values(models).every((status) => status === 'loaded');
      response.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          status: ready ? 'ready' : models === undefined ? 'starting' : 'not ready',
          loggedIn: state.loggedIn(),
          models: models ?? 'loading',
          executionProvider: services.engine.activeProvider,
        }),
      );
      return;
    }
    if (path === '/metrics') {
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      response.end(
        services.metrics.render({
          sightread_queue_depth: { help: 'Requests waiting in inference queues.', value: services.engine.queueDepth() },
          sightread_requests_in_flight: { help: 'Interactions being handled now.', value: pending() },
          sightread_uptime_seconds: {
            help: 'Seconds since start.',
            value: Math.round((Date.now() - services.startedAt) / 1000),
          },
        }),
      );
      return;
    }
    response.writeHead(404).end();
  });
  return new Promise((resolve) => server.listen(port, () => resolve(server)));
}
