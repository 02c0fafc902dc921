import { setImmediate as turn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { FairScheduler, type Ticket, type WaitNotice } from '../../../src/discord/scheduler.js';

/** A scheduler on a clock the test moves, and a log of the order in which requests start. */
function classroom(options: Partial<ConstructorParameters<typeof FairScheduler>[0]> = {}) {
  let clock = 0;
  const scheduler = new FairScheduler({
    slots: 1,
    maxQueued: 64,
    perUserQueued: 3,
    perGuildRunning: 8,
    defaultCostMs: 100,
    now: () => clock,
    ...options,
  });
  const started: string[] = [];
  const releases = new Map<string, () => void>();
  const notices = new Map<string, WaitNotice[]>();
  const ask = (name: string, ticket: Partial<Ticket> & { guild: string }): Promise<void> =>
    scheduler
      .turn({ user: name, kind: 'classify', ...ticket }, (notice) =>
        notices.set(name, [...(notices.get(name) ?? []), notice]),
      )
      .then((release) => {
        started.push(name);
        releases.set(name, release);
      });
  /** Runs one request of `kind` alone for `ms` on the test clock, so the scheduler learns its cost. */
  const measure = async (kind: string, ms: number): Promise<void> => {
    const release = await scheduler.turn({ guild: 'lab', user: 'lab', kind });
    clock += ms;
    release();
  };
  /** Lets the running request finish; the next one starts. */
  const finish = async (name: string): Promise<void> => {
    releases.get(name)!();
    await turn();
  };
  return { scheduler, started, ask, measure, finish, notices };
}

describe('fair turns for a whole class', () => {
  it('serves servers in turn, so every server gets its first answer before any server gets its second', async () => {
    const { ask, started, finish } = classroom();
    void ask('teacher', { guild: 'A' });
    await turn();
    expect(started).toEqual(['teacher']);
    // While the teacher's request runs, server A sends four, B one, C two (each from a different member).
    for (const name of ['a1', 'a2', 'a3', 'a4']) void ask(name, { guild: 'A' });
    void ask('b1', { guild: 'B' });
    for (const name of ['c1', 'c2']) void ask(name, { guild: 'C' });
    // Worked by hand (equal costs, quantum = one request): A's visit serves a1; B serves b1 and
    // leaves the ring; C serves c1; A a2; C c2 and leaves; then A alone: a3, a4.
    for (const name of ['teacher', 'a1', 'b1', 'c1', 'a2', 'c2', 'a3']) await finish(name);
    expect(started).toEqual(['teacher', 'a1', 'b1', 'c1', 'a2', 'c2', 'a3', 'a4']);
  });

  it('shares model time by cost: a server of quick requests is not held behind one of slow ones', async () => {
    const { ask, started, finish, measure, scheduler } = classroom();
    await measure('classify', 100);
    await measure('sentiment', 10);
    expect([scheduler.costOf('classify'), scheduler.costOf('sentiment')]).toEqual([100, 10]);
    void ask('busy', { guild: 'A' });
    await turn();
    for (const name of ['k1', 'k2', 'k3']) void ask(name, { guild: 'A', kind: 'classify' });
    const quick = Array.from({ length: 12 }, (_, i) => `s${i + 1}`);
    for (const name of quick) void ask(name, { guild: 'B', kind: 'sentiment', user: name });
    // Quantum = the largest cost waiting (100 ms): A's visit buys one classify, B's ten sentiments.
    const expected = ['busy', 'k1', ...quick.slice(0, 10), 'k2', 's11', 's12', 'k3'];
    for (const name of expected.slice(0, -1)) await finish(name);
    expect(started).toEqual(expected);
  });

  it('tells each waiting request its place and a wait estimated from the costs ahead of it', async () => {
    const { ask, finish, notices } = classroom({ slots: 1 });
    void ask('first', { guild: 'A' });
    await turn();
    void ask('a1', { guild: 'A' });
    void ask('b1', { guild: 'B' });
    await turn();
    expect(notices.get('a1')).toEqual([{ position: 1, estimatedWaitMs: 0 }]);
    expect(notices.get('b1')).toEqual([{ position: 2, estimatedWaitMs: 100 }]);
    await finish('first');
    expect(notices.get('b1')!.at(-1)).toEqual({ position: 1, estimatedWaitMs: 0 });
  });

  it('estimates the wait of a server whose class fills its own queue from what that server may run at once', async () => {
    const { ask, notices } = classroom({ slots: 8, perGuildRunning: 2 });
    for (const name of ['r1', 'r2']) void ask(name, { guild: 'A' });
    await turn();
    for (const name of ['w1', 'w2', 'w3', 'w4', 'w5']) void ask(name, { guild: 'A' });
    await turn();
    // w5 has four requests of 100 ms ahead of it in A's queue and A runs two at a time: 200 ms,
    // not the 50 ms the eight slots alone would suggest.
    expect(notices.get('w5')!.at(-1)).toEqual({ position: 5, estimatedWaitMs: 200 });
  });

  it('lets one member have only a few requests waiting, without refusing the rest of the class', async () => {
    const { ask, scheduler } = classroom({ perUserQueued: 2 });
    void ask('running', { guild: 'A' });
    await turn();
    void ask('x', { guild: 'A', user: 'eager' });
    void ask('y', { guild: 'A', user: 'eager' });
    await expect(ask('z', { guild: 'A', user: 'eager' })).rejects.toThrow(/You already have 2 requests waiting/);
    void ask('classmate', { guild: 'A' });
    expect(scheduler.waiting).toBe(3);
  });

  it('refuses only at the global bound, saying roughly when to come back', async () => {
    const { ask, scheduler } = classroom({ slots: 2, maxQueued: 4 });
    void ask('r1', { guild: 'A' });
    void ask('r2', { guild: 'B' });
    await turn();
    for (const name of ['w1', 'w2', 'w3', 'w4']) void ask(name, { guild: name });
    // Four waiting at 100 ms each over two slots: 200 ms, said as "about 1 s".
    await expect(ask('late', { guild: 'E' })).rejects.toMatchObject({
      code: 'busy',
      message: expect.stringMatching(/4 requests waiting.*about 1 s/),
    });
    expect(scheduler.waiting).toBe(4);
  });

  it('keeps a burst from one server from taking every slot before the next server arrives', async () => {
    const { ask, started, scheduler } = classroom({ slots: 8, perGuildRunning: 2 });
    // A whole class per server, sent server by server: A's ten arrive before B's first.
    for (const guild of ['A', 'B', 'C', 'D']) {
      for (let i = 1; i <= 10; i += 1) void ask(`${guild}${i}`, { guild });
      await turn();
    }
    // Two per server run at once, so every server's first two are in the first eight.
    expect(started).toEqual(['A1', 'A2', 'B1', 'B2', 'C1', 'C2', 'D1', 'D2']);
    expect([scheduler.running, scheduler.waiting]).toEqual([8, 32]);
  });

  it('gives a freed slot to the server whose turn it is', async () => {
    const { ask, started, finish } = classroom({ slots: 2, perGuildRunning: 1 });
    for (const name of ['A1', 'A2', 'A3']) void ask(name, { guild: 'A' });
    for (const name of ['B1', 'B2']) void ask(name, { guild: 'B' });
    await turn();
    expect(started).toEqual(['A1', 'B1']);
    // A's slot frees: A is next in the ring and has room again.
    await finish('A1');
    expect(started).toEqual(['A1', 'B1', 'A2']);
    // B's slot frees: B2, then A3 once A2 is done.
    await finish('B1');
    await finish('A2');
    expect(started).toEqual(['A1', 'B1', 'A2', 'B2', 'A3']);
  });

  it('refuses everything still waiting at shutdown and lets running requests finish', async () => {
    const { ask, scheduler, started } = classroom();
    void ask('running', { guild: 'A' });
    await turn();
    const waiting = ask('waiting', { guild: 'B' });
    scheduler.refuseWaiting(new Error('restarting'));
    await expect(waiting).rejects.toThrow('restarting');
    expect([scheduler.waiting, scheduler.running, started]).toEqual([0, 1, ['running']]);
  });
});
