import { setImmediate as turn } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MicroBatcher, type BatcherOptions } from '../../../src/inference/batcher.js';
import { BusyError } from '../../../src/util/errors.js';

// No test here waits on the clock. Batches finish when a test lets them (`finish`, `drain`),
// time moves only through vi.advanceTimersByTimeAsync, and `turn()` (node:timers/promises,
// which fake timers leave alone) lets promise callbacks already queued run before a check.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}

/** A promise's state, readable synchronously; watching also marks a rejection as handled. */
function watch(promise: Promise<unknown>): { readonly state: 'pending' | 'fulfilled' | 'rejected' } {
  const watched = { state: 'pending' as 'pending' | 'fulfilled' | 'rejected' };
  promise.then(
    () => (watched.state = 'fulfilled'),
    () => (watched.state = 'rejected'),
  );
  return watched;
}

/** A batcher whose run doubles its inputs, but only returns when the test lets that batch finish. */
function doubling(options: Partial<BatcherOptions<number, number>> = {}) {
  const batches: number[][] = [];
  const finishes: Array<Deferred<void>> = [];
  let draining = false;
  const batcher = new MicroBatcher<number, number>({
    name: 'test',
    maxBatchSize: 8,
    maxWaitMs: 5,
    maxQueue: 100,
    timeoutMs: 1000,
    run: async (inputs) => {
      batches.push(inputs);
      const finished = deferred<void>();
      finishes.push(finished);
      if (draining) finished.resolve();
      await finished.promise;
      return inputs.map((input) => input * 2);
    },
    ...options,
  });
  return {
    batcher,
    /** The inputs of every batch started so far, in order. */
    batches,
    /** Lets batch `index` (0-based, in start order) return. */
    finish: (index: number): void => finishes[index]!.resolve(),
    /** Lets every batch return as soon as it runs, from now on. */
    drain: (): void => {
      draining = true;
      for (const finished of finishes) finished.resolve();
    },
  };
}

describe('micro-batching queue', () => {
  it('gathers concurrent requests into fewer runs and gives each caller its own result', async () => {
    const { batcher, batches, drain } = doubling();
    const results = Promise.all(Array.from({ length: 20 }, (_, i) => batcher.submit(i)));
    await turn();
    // An idle model takes the first request at once; the others queue while it runs.
    expect(batches).toEqual([[0]]);
    expect(batcher.depth).toBe(19);
    drain();
    expect(await results).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
    // Then they leave together, at most maxBatchSize at a time.
    expect(batches).toEqual([[0], [1, 2, 3, 4, 5, 6, 7, 8], [9, 10, 11, 12, 13, 14, 15, 16], [17, 18, 19]]);
    expect(batcher.stats.items).toBe(20);
    expect(batcher.stats.runs).toBe(4);
  });

  it('rejects with a clear busy error when the queue is full', async () => {
    const { batcher, batches, drain } = doubling({ maxQueue: 2, maxBatchSize: 1 });
    const first = batcher.submit(1);
    await turn();
    expect(batches).toEqual([[1]]);
    const waiting = [batcher.submit(2), batcher.submit(3)];
    const refused = [batcher.submit(4), batcher.submit(5)];
    const states = refused.map(watch);
    await turn();
    expect(states.map((watched) => watched.state)).toEqual(['rejected', 'rejected']);
    await expect(refused[0]).rejects.toBeInstanceOf(BusyError);
    await expect(refused[1]).rejects.toThrow(/queue is full/);
    expect(batcher.stats.rejectedBusy).toBe(2);
    drain();
    expect(await Promise.all([first, ...waiting])).toEqual([2, 4, 6]);
  });

  it('times out a request that waits too long', async () => {
    const slow = new MicroBatcher<number, number>({
      name: 'stuck',
      maxBatchSize: 1,
      maxWaitMs: 0,
      maxQueue: 10,
      timeoutMs: 30,
      run: () => new Promise(() => {}),
    });
    const request = slow.submit(1);
    const watched = watch(request);
    await vi.advanceTimersByTimeAsync(29);
    expect(watched.state).toBe('pending');
    expect(slow.stats.timedOut).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(watched.state).toBe('rejected');
    await expect(request).rejects.toThrow(/did not answer within 30 ms/);
    expect(slow.stats.timedOut).toBe(1);
  });

  it('reports the queue position to requests stuck behind a running batch', async () => {
    const { batcher, batches, drain } = doubling({ maxBatchSize: 1 });
    const positions: number[] = [];
    const running = batcher.submit(1);
    await turn();
    expect(batches).toEqual([[1]]);
    const queued = batcher.submit(2, { onPosition: (p) => positions.push(p) });
    await turn();
    expect(positions).toEqual([1]);
    drain();
    expect(await Promise.all([running, queued])).toEqual([2, 4]);
  });

  it('fails every caller of a batch whose run throws, then keeps serving', async () => {
    let fail = true;
    const batcher = new MicroBatcher<number, number>({
      name: 'flaky',
      maxBatchSize: 4,
      maxWaitMs: 5,
      maxQueue: 10,
      timeoutMs: 1000,
      run: async (inputs) => {
        if (fail) throw new Error('boom');
        return inputs;
      },
    });
    const failed = await Promise.allSettled([batcher.submit(1), batcher.submit(2)]);
    expect(failed.every((r) => r.status === 'rejected')).toBe(true);
    fail = false;
    expect(await batcher.submit(3)).toBe(3);
  });

  it('rejects queued work cleanly on close, and lets the running batch finish', async () => {
    const { batcher, batches, finish } = doubling({ maxBatchSize: 1 });
    const running = batcher.submit(1);
    await turn();
    expect(batches).toEqual([[1]]);
    const runningState = watch(running);
    const queued = batcher.submit(2);
    const queuedState = watch(queued);
    batcher.close();
    await turn();
    expect(queuedState.state).toBe('rejected');
    await expect(queued).rejects.toThrow(/shutting down/);
    expect(runningState.state).toBe('pending');
    finish(0);
    expect(await running).toBe(2);
    expect(batches).toEqual([[1]]);
    const late = watch(batcher.submit(3));
    await turn();
    expect(late.state).toBe('rejected');
    await expect(batcher.submit(3)).rejects.toThrow(/shutting down/);
  });
});

describe('arrival hints', () => {
  it('runs a lone announced request at once instead of waiting for a batch', async () => {
    const { batcher, batches, finish } = doubling({ maxWaitMs: 500 });
    const arrived = batcher.announce();
    const answer = batcher.submit(21, { announced: arrived });
    await turn();
    // No fake time has passed: the batch started without waiting out maxWaitMs.
    expect(batches).toEqual([[21]]);
    finish(0);
    expect(await answer).toBe(42);
  });

  it('waits for announced requests still being prepared, and batches them', async () => {
    const { batcher, batches, drain } = doubling({ maxWaitMs: 200 });
    const arrivals = Array.from({ length: 4 }, () => batcher.announce());
    const results: Array<Promise<number>> = [];
    for (const [i, arrived] of arrivals.entries()) {
      // Nothing runs while an announced request is still on its way.
      expect(batches).toEqual([]);
      results.push(batcher.submit(i, { announced: arrived }));
      await turn();
    }
    // The last arrival releases the batch at once; no fake time has passed.
    expect(batches).toEqual([[0, 1, 2, 3]]);
    drain();
    expect(await Promise.all(results)).toEqual([0, 2, 4, 6]);
    expect(batches).toEqual([[0, 1, 2, 3]]);
  });

  it('stops waiting for an announced request after maxWaitMs', async () => {
    const { batcher, batches, drain } = doubling({ maxWaitMs: 200 });
    const [first, never] = [batcher.announce(), batcher.announce()];
    const answer = batcher.submit(1, { announced: first });
    await vi.advanceTimersByTimeAsync(199);
    expect(batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches).toEqual([[1]]);
    drain();
    expect(await answer).toBe(2);
    never();
  });

  it('runs the waiting batch at once when the last announced request is abandoned', async () => {
    const { batcher, batches, drain } = doubling({ maxWaitMs: 200 });
    const [first, abandoned] = [batcher.announce(), batcher.announce()];
    const answer = batcher.submit(1, { announced: first });
    await turn();
    expect(batches).toEqual([]);
    abandoned();
    await turn();
    expect(batches).toEqual([[1]]);
    drain();
    expect(await answer).toBe(2);
  });
});

describe('many variants of one request', () => {
  it('queues them together, so they leave as one batch behind the one running', async () => {
    const { batcher, batches, finish, drain } = doubling();
    const running = batcher.submit(100);
    await turn();
    const variants = batcher.submitAll([1, 2, 3, 4]);
    const other = batcher.submit(5);
    finish(0);
    await turn();
    await turn();
    expect(batches).toEqual([[100], [1, 2, 3, 4, 5]]);
    drain();
    expect(await variants).toEqual([2, 4, 6, 8]);
    expect(await Promise.all([running, other])).toEqual([200, 10]);
  });

  it('sends a request with more variants than maxBatchSize as one batch, and never adds others that would overflow it', async () => {
    const { batcher, batches, finish, drain } = doubling({ maxBatchSize: 8 });
    const running = batcher.submit(100);
    await turn();
    const before = batcher.submit(0);
    const variants = batcher.submitAll(Array.from({ length: 11 }, (_, i) => i + 1));
    const after = batcher.submit(12);
    finish(0);
    await turn();
    await turn();
    // The lone request ahead leaves alone: it and the eleven variants would exceed the cap.
    expect(batches).toEqual([[100], [0]]);
    drain();
    expect(await variants).toEqual(Array.from({ length: 11 }, (_, i) => (i + 1) * 2));
    expect(await Promise.all([running, before, after])).toEqual([200, 0, 24]);
    expect(batches.slice(2)).toEqual([Array.from({ length: 11 }, (_, i) => i + 1), [12]]);
  });

  it('refuses the whole request when the queue has no room for every variant', async () => {
    const { batcher, batches, drain } = doubling({ maxQueue: 4, maxBatchSize: 1 });
    const running = batcher.submit(0);
    await turn();
    const queued = batcher.submit(1);
    const refused = watch(batcher.submitAll([2, 3, 4, 5]));
    await turn();
    expect(refused.state).toBe('rejected');
    await expect(batcher.submitAll([2, 3, 4, 5])).rejects.toBeInstanceOf(BusyError);
    // Nothing of the refused request was queued: only the one waiting request is.
    expect(batcher.depth).toBe(1);
    drain();
    expect(await Promise.all([running, queued, batcher.submitAll([6, 7, 8])])).toEqual([0, 2, [12, 14, 16]]);
    expect(batches.flat()).toEqual([0, 1, 6, 7, 8]);
  });
});
