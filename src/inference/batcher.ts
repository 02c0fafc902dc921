import { BusyError, UserFacingError } from '../util/errors.js';

export interface BatcherOptions<I, O> {
  name: string;
  maxBatchSize: number;
  maxWaitMs: number;
  maxQueue: number;
  timeoutMs: number;
  /** Runs one batch; must return one output per input, in order. */
  run: (inputs: I[]) => Promise<O[]>;
}

export interface SubmitOptions {
  /** Called with the 1-based position in the queue while the request waits behind a running batch. */
  onPosition?: (position: number) => void;
  /** The function `announce()` returned for this request; submit releases it once the request is queued. */
  announced?: () => void;
}

interface Pending<I, O> {
  input: I;
  /** The submitAll call it came with: a request's inputs leave in the same batch. */
  request: number;
  resolve: (output: O) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
  onPosition: ((position: number) => void) | undefined;
  settled: boolean;
}

export interface BatcherStats {
  runs: number;
  items: number;
  largestBatch: number;
  rejectedBusy: number;
  timedOut: number;
}

/**
 * Gathers concurrent requests for one model into batched runs. One batch runs at a time per
 * model (the session already uses every intra-op thread); while it runs, new requests queue
 * up and leave together as the next batch. The queue is bounded and every request has a deadline.
 */
export class MicroBatcher<I, O> {
  private readonly queue: Pending<I, O>[] = [];
  private running = false;
  private waitTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private requests = 0;
  /** Requests announced (being preprocessed) but not submitted yet. */
  private incoming = 0;
  readonly stats: BatcherStats = { runs: 0, items: 0, largestBatch: 0, rejectedBusy: 0, timedOut: 0 };

  constructor(private readonly options: BatcherOptions<I, O>) {}

  /** Requests waiting, not counting the batch being run. */
  get depth(): number {
    return this.queue.length;
  }

  /**
   * Announces a request that will be submitted soon (its input is being prepared). While any
   * announced request is on its way, a batch waits up to maxWaitMs for it; when none is, an
   * idle model runs at once, so a lone request never pays the batching delay.
   * Returns the release function: pass it to submit as `announced`, or call it if the request is abandoned.
   */
  announce(): () => void {
    this.incoming += 1;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.incoming -= 1;
      if (this.incoming === 0 && this.waitTimer && !this.running) {
        clearTimeout(this.waitTimer);
        this.waitTimer = undefined;
        void this.flush();
      }
    };
  }

  submit(input: I, submitOptions: SubmitOptions = {}): Promise<O> {
    return this.submitAll([input], submitOptions).then((outputs) => outputs[0]!);
  }

  /**
   * Queues several inputs of one request (the variants of an experiment) together, so they
   * leave as one batch: maxBatchSize caps how many unrelated requests are gathered, never splits
   * one request (an experiment's variants share one session run, as the lab's cost assumes).
   * All or nothing: a queue without room for every input refuses the whole request.
   */
  submitAll(inputs: readonly I[], submitOptions: SubmitOptions = {}): Promise<O[]> {
    if (this.closed) {
      submitOptions.announced?.();
      return Promise.reject(
        new UserFacingError('The bot is shutting down; please try again in a minute.', { code: 'shutting_down' }),
      );
    }
    if (this.queue.length + inputs.length > this.options.maxQueue) {
      submitOptions.announced?.();
      this.stats.rejectedBusy += 1;
      return Promise.reject(
        new BusyError(
          `The ${this.options.name} queue is full (${this.queue.length} requests waiting); please try again in a few seconds.`,
        ),
      );
    }
    const request = (this.requests += 1);
    const outputs = inputs.map(
      (input, index) =>
        new Promise<O>((resolve, reject) => {
          const pending: Pending<I, O> = {
            input,
            request,
            resolve,
            reject,
            // The request's position is that of its first input.
            onPosition: index === 0 ? submitOptions.onPosition : undefined,
            settled: false,
            timer: setTimeout(() => this.expire(pending), this.options.timeoutMs),
          };
          this.queue.push(pending);
          // Only a request stuck behind a running batch is really waiting; others leave within maxWaitMs.
          if (this.running) pending.onPosition?.(this.queue.length);
        }),
    );
    submitOptions.announced?.();
    this.schedule();
    return Promise.all(outputs);
  }

  /** Rejects everything still queued; a batch already running finishes. */
  close(): void {
    this.closed = true;
    clearTimeout(this.waitTimer);
    for (const pending of this.queue.splice(0)) {
      this.settle(pending, () =>
        pending.reject(
          new UserFacingError('The bot is shutting down; please try again in a minute.', { code: 'shutting_down' }),
        ),
      );
    }
  }

  private expire(pending: Pending<I, O>): void {
    const index = this.queue.indexOf(pending);
    if (index >= 0) this.queue.splice(index, 1);
    this.stats.timedOut += 1;
    this.settle(pending, () =>
      pending.reject(
        new UserFacingError(
          `The ${this.options.name} model did not answer within ${this.options.timeoutMs} ms; please try again.`,
          {
            code: 'timeout',
          },
        ),
      ),
    );
  }

  private settle(pending: Pending<I, O>, action: () => void): void {
    if (pending.settled) return;
    pending.settled = true;
    clearTimeout(pending.timer);
    action();
  }

  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    if (this.queue.length >= this.options.maxBatchSize || this.options.maxWaitMs === 0 || this.incoming === 0) {
      clearTimeout(this.waitTimer);
      this.waitTimer = undefined;
      void this.flush();
      return;
    }
    this.waitTimer ??= setTimeout(() => {
      this.waitTimer = undefined;
      void this.flush();
    }, this.options.maxWaitMs);
  }

  /**
   * Whole requests from the head of the queue while they fit in maxBatchSize; the first request
   * always leaves whole, however many inputs it has. A request's inputs are queued together, so
   * they are contiguous.
   */
  private nextBatch(): Array<Pending<I, O>> {
    const batch: Array<Pending<I, O>> = [];
    while (this.queue.length > 0) {
      const request = this.queue[0]!.request;
      let size = 1;
      while (size < this.queue.length && this.queue[size]!.request === request) size += 1;
      if (batch.length > 0 && batch.length + size > this.options.maxBatchSize) break;
      batch.push(...this.queue.splice(0, size));
    }
    return batch;
  }

  private async flush(): Promise<void> {
    if (this.running) return;
    const batch = this.nextBatch();
    if (batch.length === 0) return;
    this.running = true;
    this.queue.forEach((pending, index) => pending.onPosition?.(index + 1));
    this.stats.runs += 1;
    this.stats.items += batch.length;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
    try {
      const outputs = await this.options.run(batch.map((pending) => pending.input));
      if (outputs.length !== batch.length)
        throw new Error(`${this.options.name}: batch of ${batch.length} returned ${outputs.length} outputs`);
      batch.forEach((pending, index) => this.settle(pending, () => pending.resolve(outputs[index] as O)));
    } catch (error) {
      batch.forEach((pending) => this.settle(pending, () => pending.reject(error)));
    } finally {
      this.running = false;
      // Requests that arrived during the run leave at once: they have already waited.
      if (this.queue.length > 0) void this.flush();
    }
  }
}
