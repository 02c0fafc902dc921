import { setTimeout as timer } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../../src/util/metrics.js';

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
