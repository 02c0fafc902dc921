import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** A minimal Prometheus text-format registry: counters and histograms with labels. */
type Labels = Record<string, string>;

const key = (labels: Labels): string =>
  Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `${name}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');

class Counter {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  render(): string[] {
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} counter`,
      ...[...this.values].map(([k, v]) => `${this.name}${k ? `{${k}}` : ''} ${v}`),
    ];
  }
}

class Histogram {
  private readonly series = new Map<string, { buckets: number[]; sum: number; count: number }>();
  private readonly labelsByKey = new Map<string, Labels>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly bounds: readonly number[],
  ) {}
  observe(labels: Labels, value: number): void {
    const k = key(labels);
    let s = this.series.get(k);
    if (!s) {
      s = { buckets: this.bounds.map(() => 0), sum: 0, count: 0 };
      this.series.set(k, s);
      this.labelsByKey.set(k, { ...labels });
    }
    this.bounds.forEach((bound, index) => {
      if (value <= bound) s.buckets[index]! += 1;
    });
    s.sum += value;
    s.count += 1;
  }
  /** Every label set observed so far. */
  labelSets(): Labels[] {
    return [...this.labelsByKey.values()];
  }

  count(labels: Labels): number {
    return this.series.get(key(labels))?.count ?? 0;
  }

  /**
   * The q-quantile estimated from the buckets as Prometheus's histogram_quantile does: linear
   * within the bucket that holds it, so it is as precise as the bucket bounds (past the last
   * bound, that bound).
   */
  quantile(labels: Labels, q: number): number {
    const s = this.series.get(key(labels));
    if (!s || s.count === 0) return 0;
    const rank = q * s.count;
    let below = 0;
    for (let index = 0; index < this.bounds.length; index += 1) {
      const inBucket = s.buckets[index]!;
      if (inBucket >= rank) {
        const lower = index === 0 ? 0 : this.bounds[index - 1]!;
        const upper = this.bounds[index]!;
        return lower + ((upper - lower) * (rank - below)) / Math.max(1, inBucket - below);
      }
      below = inBucket;
    }
    return this.bounds[this.bounds.length - 1]!;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [k, s] of this.series) {
      const prefix = k ? `${k},` : '';
      this.bounds.forEach((bound, index) =>
        lines.push(`${this.name}_bucket{${prefix}le="${bound}"} ${s.buckets[index]}`),
      );
      lines.push(
        `${this.name}_bucket{${prefix}le="+Inf"} ${s.count}`,
        `${this.name}_sum${k ? `{${k}}` : ''} ${s.sum}`,
        `${this.name}_count${k ? `{${k}}` : ''} ${s.count}`,
      );
    }
    return lines;
  }
}

// Fine at the low end, where a batched run of a small model lands, so /status's percentiles mean something.
const SECONDS = [
  0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];
const LAG_SECONDS = [0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5];
const LAG_TICK_MS = 10;

export class Metrics {
  readonly requests = new Counter(
    'sightread_requests_total',
    'Interactions and CLI commands handled, by command and outcome.',
  );
  readonly errors = new Counter('sightread_errors_total', 'Failed requests, by command and kind (user or internal).');
  readonly commandSeconds = new Histogram(
    'sightread_command_duration_seconds',
    'Time from receiving a command to its final reply.',
    SECONDS,
  );
  readonly modelSeconds = new Histogram(
    'sightread_model_batch_duration_seconds',
    'Time of one batched session run, by model.',
    SECONDS,
  );
  readonly batchItems = new Counter('sightread_model_batch_items_total', 'Requests served by batched runs, by model.');
  readonly replyRetries = new Counter(
    'sightread_reply_retries_total',
    'Replies sent to Discord again after a failure, by reason (server_error, network, rate_limit).',
  );
  readonly gatewayEvents = new Counter(
    'sightread_gateway_events_total',
    'Gateway connection events, by event: disconnect, reconnecting, resume, invalidated (a session that could not be resumed and was started anew).',
  );
  readonly httpInteractions = new Counter(
    'sightread_http_interactions_total',
    'Requests to the HTTP interactions endpoint, by outcome: accepted, ping, autocomplete, refused_signature, refused_replay, refused_body, refused_type.',
  );
  readonly journalSeconds = new Histogram(
    'sightread_journal_write_duration_seconds',
    'Time the interaction journal took to write, by op: record (before the acknowledgement, on the reply path) and close (after the answer).',
    [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
  );
  readonly journalEvents = new Counter(
    'sightread_journal_events_total',
    'Interaction journal events, by event: recorded, unrecorded (answered without the journal: database unavailable or slow), duplicate, done, failed, interrupted (left for the next start), resumed (answered after a restart), gave_up, expired.',
  );

  /** Event-loop delay: what a gateway heartbeat or a new interaction would wait right now. */
  readonly eventLoop: IntervalHistogram = monitorEventLoopDelay({ resolution: LAG_TICK_MS });
  /**
   * The same delay as a Prometheus histogram, so that a window (the last minute, a load test)
   * can be read from the difference of two scrapes; the p99 gauge covers the whole life of the
   * process, start-up included.
   */
  readonly eventLoopLag = new Histogram(
    'sightread_event_loop_lag_seconds',
    `How late a timer due every ${LAG_TICK_MS} ms fired.`,
    LAG_SECONDS,
  );

  constructor() {
    this.eventLoop.enable();
    let due = performance.now() + LAG_TICK_MS;
    setInterval(() => {
      const now = performance.now();
      this.eventLoopLag.observe({}, Math.max(0, now - due) / 1000);
      due = now + LAG_TICK_MS;
    }, LAG_TICK_MS).unref();
  }

  eventLoopP99Ms(): number {
    return this.eventLoop.count > 0 ? this.eventLoop.percentile(99) / 1e6 : 0;
  }

  render(gauges: Record<string, { help: string; value: number }>): string {
    gauges = {
      ...gauges,
      sightread_event_loop_lag_p99_seconds: {
        help: 'p99 event-loop delay since start.',
        value: this.eventLoopP99Ms() / 1000,
      },
    };
    const lines = [
      this.requests,
      this.errors,
      this.commandSeconds,
      this.modelSeconds,
      this.batchItems,
      this.replyRetries,
      this.gatewayEvents,
      this.httpInteractions,
      this.journalEvents,
      this.journalSeconds,
      this.eventLoopLag,
    ].flatMap((metric) => metric.render());
    for (const [name, gauge] of Object.entries(gauges))
      lines.push(`# HELP ${name} ${gauge.help}`, `# TYPE ${name} gauge`, `${name} ${gauge.value}`);
    return `${lines.join('\n')}\n`;
  }
}
