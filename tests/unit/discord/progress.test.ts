import { describe, expect, it } from 'vitest';
import type { RetryClock } from '../../../src/discord/delivery.js';
import { ProgressLine } from '../../../src/discord/progress.js';

/** Time that moves only by hand; each wait is held until the test ends it (or it is aborted). */
class HeldClock implements RetryClock {
  time = 0;
  readonly held: Array<{ ms: number; end: () => void; aborted: () => boolean }> = [];
  now(): number {
    return this.time;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      this.held.push({ ms, end: resolve, aborted: () => signal?.aborted ?? false });
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  }
  random(): number {
    return 0.5;
  }
}

/** A line whose edits are recorded; each edit settles when the test says, unless `instant`. */
function setup(instant = true): {
  line: ProgressLine;
  clock: HeldClock;
  shown: string[];
  pending: Array<() => void>;
} {
  const clock = new HeldClock();
  const shown: string[] = [];
  const pending: Array<() => void> = [];
  const line = new ProgressLine(
    (text) => {
      shown.push(text);
      return instant ? Promise.resolve() : new Promise<void>((resolve) => pending.push(resolve));
    },
    clock,
    1500,
  );
  return { line, clock, shown, pending };
}

const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('a progress line', () => {
  it('holds what is said before the acknowledgement and shows only the newest once there is a reply', async () => {
    const { line, shown } = setup();
    line.say('waiting in the queue, position 2');
    line.say('waiting in the queue, position 1');
    await settled();
    expect(shown).toEqual([]);
    line.acknowledged();
    await settled();
    expect(shown).toEqual(['waiting in the queue, position 1']);
  });

  it('shows at most one line per interval, and the newest when the interval ends', async () => {
    const { line, clock, shown } = setup();
    line.acknowledged();
    line.say('cnn done');
    line.say('vit: 3 of 11');
    line.say('vit: 7 of 11');
    await settled();
    expect(shown).toEqual(['cnn done']);
    // One wait for the rest of the interval, whatever is said meanwhile.
    expect(clock.held.map((sleep) => sleep.ms)).toEqual([1500]);
    clock.time += 1500;
    clock.held[0]!.end();
    await settled();
    expect(shown).toEqual(['cnn done', 'vit: 7 of 11']);
    // Said after the interval: shown at once.
    clock.time += 2000;
    line.say('drawing the reply');
    await settled();
    expect(shown.at(-1)).toBe('drawing the reply');
  });

  it('shows nothing once the answer is on its way, and the answer waits for a line already sent', async () => {
    const { line, clock, shown, pending } = setup(false);
    line.acknowledged();
    line.say('cnn done');
    line.say('vit done');
    await settled();
    expect(shown).toEqual(['cnn done']);
    let finished = false;
    const finishing = line.finish().then(() => (finished = true));
    await settled();
    // The first edit has not been taken yet: the answer must not overtake it.
    expect(finished).toBe(false);
    pending[0]!();
    await finishing;
    // The line said meanwhile was dropped.
    clock.time += 5000;
    line.say('too late');
    await settled();
    expect(shown).toEqual(['cnn done']);
  });

  it('has one line on its way at a time: a slow edit holds the newest line, which follows once it is taken', async () => {
    const { line, clock, shown, pending } = setup(false);
    line.acknowledged();
    line.say('position 3');
    // Discord is slow: the interval passes while the first edit is still on its way.
    clock.time += 5000;
    line.say('position 2');
    line.say('position 1');
    await settled();
    expect(shown).toEqual(['position 3']);
    expect(clock.held).toEqual([]);
    pending[0]!();
    await settled();
    expect(shown).toEqual(['position 3', 'position 1']);
    // The answer waits for that one line only.
    let finished = false;
    const finishing = line.finish().then(() => (finished = true));
    await settled();
    expect(finished).toBe(false);
    pending[1]!();
    await finishing;
    expect(shown).toHaveLength(2);
  });

  it('cuts short the wait for the next interval when the answer comes', async () => {
    const { line, clock, shown } = setup();
    line.acknowledged();
    line.say('cnn done');
    line.say('vit done');
    await settled();
    expect(clock.held.map((sleep) => sleep.ms)).toEqual([1500]);
    await line.finish();
    expect(clock.held[0]!.aborted()).toBe(true);
    clock.time += 1500;
    clock.held[0]!.end();
    await settled();
    expect(shown).toEqual(['cnn done']);
  });

  it('never shows a line when the answer came before the acknowledgement', async () => {
    const { line, shown } = setup();
    line.say('waiting in the queue, position 1');
    await line.finish();
    line.acknowledged();
    await settled();
    expect(shown).toEqual([]);
  });

  it('lets the answer follow when a line could not be shown', async () => {
    const clock = new HeldClock();
    const line = new ProgressLine(() => Promise.reject(new Error('503')), clock, 1500);
    line.acknowledged();
    line.say('cnn done');
    await expect(line.finish()).resolves.toBeUndefined();
  });
});
