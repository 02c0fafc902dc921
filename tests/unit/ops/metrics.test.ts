import { setTimeout as timer } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../../src/util/metrics.js';
import { solidPng, testServices } from '../../helpers.js';

const LAG = 'sightread_event_loop_lag_seconds';

/** Cumulative bucket counts of one histogram in Prometheus text, by upper bound. */
const buckets = (text: string, name: string): Map<string, number> =>
  new Map(
    [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)$`, 'gm'))].map((m) => [m[1]!, Number(m[2])]),
  );

/** The period of the lag histogram's timer, as its help text states it. */
const tickMs = (text: string): number =>
  Number(new RegExp(`^# HELP ${LAG} How late a timer due every (\\d+) ms fired\\.$`, 'm').exec(text)![1]);

describe('metrics', () => {
  // The lag histogram measures real event-loop delay: a real setInterval read with
  // performance.now(). Fake timers fire every timer exactly on time, so they cannot produce a
  // blocked loop; the block below is real. The waits around it are not margins, though: a timer
  // of two ticks, started after the lag timer was last armed, is due after it, and Node runs
  // expired timers in order of due time. So when the wait ends, the lag timer has fired.
  it('records a blocked event loop in the lag histogram, so a window can be read from two scrapes', async () => {
    const metrics = new Metrics();
    const tick = tickMs(metrics.render({}));
    await timer(2 * tick);
    const before = buckets(metrics.render({}), LAG);
    expect(before.get('+Inf')).toBeGreaterThanOrEqual(1);

    const blockedUntil = performance.now() + 180;
    while (performance.now() < blockedUntil) {
      // Hold the event loop the way a long synchronous task would.
    }
    await timer(2 * tick);

    const text = metrics.render({});
    const after = buckets(text, LAG);
    const samples = after.get('+Inf')! - before.get('+Inf')!;
    const underTenthOfASecond = after.get('0.1')! - before.get('0.1')!;
    // The tick due during the block fired at least 170 ms late.
    expect(samples - underTenthOfASecond).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^sightread_event_loop_lag_p99_seconds [\d.e-]+$/m);
  });
});

describe('model latency percentiles for /status', () => {
  it('estimates a quantile from the histogram buckets as Prometheus does, linear within the bucket', () => {
    const metrics = new Metrics();
    // Buckets (seconds) … 0.01, 0.015, 0.025 …: 2 runs in (0.01, 0.015], 2 in (0.015, 0.025].
    for (const seconds of [0.012, 0.014, 0.02, 0.024]) metrics.modelSeconds.observe({ model: 'cnn:q8' }, seconds);
    // Rank 2 of 4 is the top of the (0.01, 0.015] bucket; rank 3 is halfway through (0.015, 0.025].
    expect(metrics.modelSeconds.quantile({ model: 'cnn:q8' }, 0.5)).toBeCloseTo(0.015, 9);
    expect(metrics.modelSeconds.quantile({ model: 'cnn:q8' }, 0.75)).toBeCloseTo(0.02, 9);
    expect(metrics.modelSeconds.count({ model: 'cnn:q8' })).toBe(4);
    expect(metrics.modelSeconds.labelSets()).toEqual([{ model: 'cnn:q8' }]);
    expect(metrics.modelSeconds.quantile({ model: 'never ran' }, 0.5)).toBe(0);
  });

  it('reads /status latencies from the same histogram /metrics exports', async () => {
    const services = testServices();
    try {
      await services.vision.classify(await solidPng([255, 0, 0]), 'tiny-cnn', 2);
      const status = await services.status();
      const cnn = status.models.find((model) => model.model === 'tiny-cnn:fp32');
      expect(cnn).toBeDefined();
      expect(cnn!.batches).toBe(services.metrics.modelSeconds.count({ model: 'tiny-cnn:fp32' }));
      expect(cnn!.p50Ms).toBeCloseTo(services.metrics.modelSeconds.quantile({ model: 'tiny-cnn:fp32' }, 0.5) * 1000, 9);
      expect(cnn!.requests).toBe(1);
    } finally {
      await services.dispose();
    }
  });
});
