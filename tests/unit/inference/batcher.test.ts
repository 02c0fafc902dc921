import { describe, expect, it } from 'vitest';
import { MicroBatcher } from '../../../src/inference/batcher.js';
import { BusyError } from '../../../src/util/errors.js';

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function doubling(options: Partial<ConstructorParameters<typeof MicroBatcher<number, number>>[0]> = {}) {
  const batches: number[][] = [];
  const batcher = new MicroBatcher<number, number>({
    name: 'test',
    maxBatchSize: 8,
    maxWaitMs: 5,
    maxQueue: 100,
    timeoutMs: 1000,
    run: async (inputs) => {
      batches.push(inputs);
      await delay(20);
      return inputs.map((input) => input * 2);
    },
    ...options,
  });
  return { batcher, batches };
}

describe('micro-batching queue', () => {
  it('gathers concurrent requests into fewer runs and gives each caller its own result', async () => {
    const { batcher, batches } = doubling();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => batcher.submit(i)));
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
    expect(batches.length).toBeLessThan(20);
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(8);
    expect(batcher.stats.items).toBe(20);
  });

  it('rejects with a clear busy error when the queue is full', async () => {
    const { batcher } = doubling({ maxQueue: 2, maxBatchSize: 1 });
    const first = batcher.submit(1);
    await delay(1);
    const waiting = [batcher.submit(2), batcher.submit(3)];
    await expect(batcher.submit(4)).rejects.toBeInstanceOf(BusyError);
    await expect(batcher.submit(4)).rejects.toThrow(/queue is full/);
    expect(await Promise.all([first, ...waiting])).toEqual([2, 4, 6]);
  });

  it('times out a request that waits too long', async () => {
    const slow = new MicroBatcher<number, number>({ name: 'stuck', maxBatchSize: 1, maxWaitMs: 0, maxQueue: 10, timeoutMs: 30, run: () => new Promise(() => {}) });
    await expect(slow.submit(1)).rejects.toThrow(/did not answer within 30 ms/);
    expect(slow.stats.timedOut).toBe(1);
  });

  it('reports the queue position to requests stuck behind a running batch', async () => {
    const { batcher } = doubling({ maxBatchSize: 1 });
    const positions: number[] = [];
    const running = batcher.submit(1);
    await delay(1);
    const queued = batcher.submit(2, { onPosition: (p) => positions.push(p) });
    await Promise.all([running, queued]);
    expect(positions[0]).toBe(1);
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

  it('rejects queued work cleanly on close', async () => {
    const { batcher } = doubling({ maxBatchSize: 1 });
    const running = batcher.submit(1);
    await delay(1);
    const queued = batcher.submit(2);
    batcher.close();
    await expect(queued).rejects.toThrow(/shutting down/);
    expect(await running).toBe(2);
    await expect(batcher.submit(3)).rejects.toThrow(/shutting down/);
  });
});

describe('arrival hints', () => {
  it('runs a lone announced request at once instead of waiting for a batch', async () => {
    const { batcher } = doubling({ maxWaitMs: 500 });
    const arrived = batcher.announce();
    const started = Date.now();
    expect(await batcher.submit(21, { announced: arrived })).toBe(42);
    expect(Date.now() - started).toBeLessThan(250);
  });

  it('waits for announced requests still being prepared, and batches them', async () => {
    const { batcher, batches } = doubling({ maxWaitMs: 200 });
    const arrivals = Array.from({ length: 4 }, () => batcher.announce());
    const results = arrivals.map(async (arrived, i) => {
      await delay(5 * i);
      return batcher.submit(i, { announced: arrived });
    });
    expect(await Promise.all(results)).toEqual([0, 2, 4, 6]);
    expect(batches).toEqual([[0, 1, 2, 3]]);
  });
});
