import { createServer, type Server } from 'node:http';
import type { Services } from '../app.js';
import { ConfigError } from '../config/config.js';

export interface HealthState {
  loggedIn: () => boolean;
  /** Each model's start-up status by manifest id: 'loaded', or why it is unavailable. */
  models: () => Record<string, string> | undefined;
  /** Whether the interaction journal's database can be used; undefined when the bot keeps no journal. */
  journal?: () => boolean | undefined;
  /** Whether Redis (the job queue) is connected; undefined when this process uses no queue. */
  queue?: () => boolean | undefined;
  /** More gauges for /metrics, asked at each scrape (the job queue's depth, oldest job, workers). */
  gauges?: () => Promise<Record<string, { help: string; value: number }>>;
}

/** An absolute path (two or more segments) or a URL: operators' detail, which stays in the log. */
const PATH_OR_URL = /\b[a-z][a-z0-9+.-]*:\/\/\S+|(?:\/[\w.@~-]+){2,}\/?/gi;

/**
 * Each model by id with its state, and for one that is not loaded the reason a user would be
 * given (which names the fix, e.g. the models:pull command). These endpoints have no
 * authentication, so any path or URL left in a reason is cut out.
 */
function modelStatus(models: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(models).map(([id, status]) => [id, status.replace(PATH_OR_URL, '…')]));
}

/** Why the health server could not listen, in one sentence an operator can act on. */
function listenProblem(error: NodeJS.ErrnoException, host: string, port: number): string {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return `HEALTH_PORT: ${where} is already in use by another process; choose a free HEALTH_PORT or stop that process`;
    case 'EACCES':
      return `HEALTH_PORT: not allowed to listen on ${where} (ports below 1024 need privileges); choose a HEALTH_PORT from 1024 up`;
    case 'EADDRNOTAVAIL':
      return `HEALTH_HOST: ${host} is not an address of this machine; use 127.0.0.1, or 0.0.0.0 for every interface`;
    default:
      return `HEALTH_PORT: could not listen on ${where} (${error.code ?? error.message})`;
  }
}

/**
 * /healthz (200 once logged in with every default model loaded, else 503) and /metrics (Prometheus text), on
 * `HEALTH_HOST` (loopback unless the operator opens it). A port that cannot be bound rejects
 * with a ConfigError naming the variable, so the bot stops with one line instead of a stack.
 */
export function startHealthServer(
  port: number,
  services: Services,
  state: HealthState,
  pending: () => number,
): Promise<Server> {
  const host = services.config.HEALTH_HOST;
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path === '/healthz') {
      const models = state.models();
      const journal = state.journal?.();
      const queue = state.queue?.();
      // Ready: every default model loaded (Services.modelStatus says which, and why not), and
      // the journal's database reachable (without it, a crash would lose accepted requests), and
      // Redis connected where jobs go through it (without it, nothing can be taken or run).
      const ready =
        state.loggedIn() &&
        journal !== false &&
        queue !== false &&
        models !== undefined &&
        Object.values(models).every((status) => status === 'loaded');
      response.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          status: ready ? 'ready' : models === undefined ? 'starting' : 'not ready',
          loggedIn: state.loggedIn(),
          models: models ? modelStatus(models) : 'loading',
          journal: journal === undefined ? 'off' : journal ? 'ready' : 'unavailable',
          ...(queue === undefined ? {} : { queue: queue ? 'ready' : 'unavailable' }),
          executionProvider: services.engine.activeProvider,
        }),
      );
      return;
    }
    if (path === '/metrics') {
      void (state.gauges?.() ?? Promise.resolve({})).then((extra) => {
        response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        response.end(
          services.metrics.render({
            ...extra,
            sightread_queue_depth: {
              help: 'Requests waiting in inference queues.',
              value: services.engine.queueDepth(),
            },
            sightread_requests_in_flight: { help: 'Interactions being handled now.', value: pending() },
            sightread_uptime_seconds: {
              help: 'Seconds since start.',
              value: Math.round((Date.now() - services.startedAt) / 1000),
            },
          }),
        );
      });
      return;
    }
    response.writeHead(404).end();
  });
  return new Promise((resolve, reject) => {
    const refused = (error: NodeJS.ErrnoException): void => reject(new ConfigError([listenProblem(error, host, port)]));
    server.once('error', refused);
    server.listen(port, host, () => {
      server.off('error', refused);
      resolve(server);
    });
  });
}
