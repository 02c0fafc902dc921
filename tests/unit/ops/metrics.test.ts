import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../../src/util/metrics.js';

/** Cumulative bucket counts of one histogram in Prometheus text, by upper bound. */
const buckets = (text: string, name: string): Map<string, number> =>
  new Map([...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)$`, 'gm'))].map((m) => [m[1]!, Number(m[2])]));

describe('metrics', () => {
  it('records a blocked event loop in the lag histogram, so a window can be read from two scrapes', async () => {
    const metrics = new Metrics();
    await sleep(100);
    const before = buckets(metrics.render({}), 'sightread_event_loop_lag_seconds');
    const blockedUntil = performance.now() + 180;
    while (performance.now() < blockedUntil) {
      // Hold the event loop the way a long synchronous task would.
    }
    await sleep(50);
    const text = metrics.render({});
    const after = buckets(text, 'sightread_event_loop_lag_seconds');
    const samples = after.get('+Inf')! - before.get('+Inf')!;
    const underTenthOfASecond = after.get('0.1')! - before.get('0.1')!;
    expect(samples).toBeGreaterThan(1);
    expect(samples - underTenthOfASecond).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^sightread_event_loop_lag_p99_seconds [\d.e-]+$/m);
  });
});
