import { HTTPError, MessageFlags, type Interaction } from 'discord.js';
import { afterAll, describe, expect, it } from 'vitest';
import { slashCommand, type Command } from '../../../src/command/definition.js';
import { option } from '../../../src/command/options.js';
import type { RetryClock } from '../../../src/discord/delivery.js';
import { RESTART_MESSAGE, Router } from '../../../src/discord/router.js';
import { UserFacingError } from '../../../src/util/errors.js';
import { testServices } from '../../helpers.js';

/** A promise the test resolves. */
function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

/**
 * Time for the router: `now` moves only by hand; a wait either passes at once (moving the
 * clock), or, with `holdSleeps`, waits until the test ends it.
 */
class TestClock implements RetryClock {
  time = Date.UTC(2026, 0, 1);
  holdSleeps = false;
  readonly held: Array<{ ms: number; end: () => void }> = [];
  readonly waits: number[] = [];
  now(): number {
    return this.time;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.waits.push(ms);
    if (!this.holdSleeps) {
      this.time += ms;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.held.push({ ms, end: resolve });
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  }
  random(): number {
    return 0.5;
  }
}

type Sent = { kind: 'reply' | 'defer' | 'edit' | 'delete' | 'followUp'; payload?: Record<string, unknown> };

/** What the router uses of a discord.js chat-input interaction, recording what it is sent. */
class FakeInteraction {
  readonly sent: Sent[] = [];
  deferred = false;
  replied = false;
  readonly guildId = '200000000000000002';
  readonly options: { data: Array<{ name: string; type: number; value: string }> };
  /** Errors the next edits throw, in order. */
  readonly editFailures: Error[] = [];

  constructor(
    readonly commandName: string,
    text: string,
    readonly user: { id: string },
    readonly createdTimestamp: number,
  ) {
    this.options = { data: [{ name: 'text', type: 3, value: text }] };
  }
  isAutocomplete(): boolean {
    return false;
  }
  isChatInputCommand(): boolean {
    return true;
  }
  isMessageContextMenuCommand(): boolean {
    return false;
  }
  async reply(payload: Record<string, unknown>): Promise<void> {
    this.replied = true;
    this.sent.push({ kind: 'reply', payload });
  }
  async deferReply(): Promise<void> {
    this.deferred = true;
    this.sent.push({ kind: 'defer' });
  }
  async editReply(payload: Record<string, unknown>): Promise<void> {
    const failure = this.editFailures.shift();
    if (failure) throw failure;
    this.sent.push({ kind: 'edit', payload });
  }
  async deleteReply(): Promise<void> {
    this.sent.push({ kind: 'delete' });
  }
  async followUp(payload: Record<string, unknown>): Promise<void> {
    this.sent.push({ kind: 'followUp', payload });
  }

  /** The text the user finally saw: the answer's embed title, or the private message's content. */
  get answer(): string | undefined {
    const last = this.sent.at(-1);
    if (last?.kind === 'edit') return (last.payload?.embeds as Array<{ title: string }>)[0]?.title;
    return last?.payload?.content as string | undefined;
  }
}

/**
 * `echo`: what its `text` option says it should do. `ok` answers; `input` and `internal` fail as
 * the user's mistake or ours; `wait` waits for the test to open the gate (a request stuck in a
 * queue or a download).
 */
const waiting = new Map<string, ReturnType<typeof gate<void>>>();
let executions = 0;
const echo = slashCommand({
  name: 'echo',
  description: 'Echoes',
  help: { what: 'Echoes.' },
  options: { text: option.string('What to do', { required: true }) },
  positional: ['text'],
  usesModels: true,
  execute: async ({ options }): Promise<string> => {
    executions += 1;
    if (options.text === 'input') throw new UserFacingError('That text is empty.', { code: 'empty_text' });
    if (options.text === 'internal') throw new Error('a bug');
    const held = waiting.get(options.text);
    if (held) await held.promise;
    return `echo: ${options.text}`;
  },
  toJson: (report) => report,
  toText: (report) => report,
  toEmbeds: (report) => ({ embeds: [{ title: report }], files: [] }),
});
const commands = new Map<string, Command>([['echo', echo as Command]]);

const services = testServices({ COOLDOWN_SECONDS: '30', INFERENCE_SLOTS: '1', QUEUE_MAX: '1' });
afterAll(() => services.dispose());

let users = 0;
function setup(): { router: Router; clock: TestClock; send: (text: string, user?: string) => FakeInteraction } {
  const clock = new TestClock();
  const router = new Router(commands, services, { clock });
  const send = (text: string, user = `user-${(users += 1)}`): FakeInteraction => {
    const interaction = new FakeInteraction('echo', text, { id: user }, clock.now());
    void router.handle(interaction as unknown as Interaction);
    return interaction;
  };
  return { router, clock, send };
}

/** Sends and waits until the router has dealt with the interaction. */
async function handled(router: Router, interaction: FakeInteraction): Promise<FakeInteraction> {
  await router.handle(interaction as unknown as Interaction);
  return interaction;
}

describe('the router', () => {
  it('does not spend the cooldown of a request refused for capacity: the retry is answered', async () => {
    const { router, clock } = setup();
    const ask = (text: string, user: string): FakeInteraction =>
      new FakeInteraction('echo', text, { id: user }, clock.now());
    waiting.set('slow', gate());
    // One slot and room for one to wait: alice runs, bob waits his turn, carol is refused.
    const first = router.handle(ask('slow', 'alice') as unknown as Interaction);
    await Promise.resolve();
    const second = router.handle(ask('queued', 'bob') as unknown as Interaction);
    await Promise.resolve();
    const refused = await handled(router, ask('hello', 'carol'));
    expect(refused.answer).toMatch(/1 requests waiting right now; please try again in about 1 s/);
    waiting.get('slow')!.open();
    await Promise.all([first, second]);
    clock.time += 1000;
    const retry = await handled(router, ask('hello', 'carol'));
    expect(retry.answer).toBe('echo: hello');
    // The answered retry does start the cooldown.
    expect((await handled(router, ask('hello again', 'carol'))).answer).toMatch(/again in 30 s/);
  });

  it('starts the cooldown for an error about the input, not for one on our side', async () => {
    const { router, clock } = setup();
    const ask = (text: string, user: string): FakeInteraction =>
      new FakeInteraction('echo', text, { id: user }, clock.now());
    expect((await handled(router, ask('internal', 'carol'))).answer).toMatch(/Something went wrong on my side/);
    expect((await handled(router, ask('input', 'carol'))).answer).toMatch(/That text is empty/);
    expect((await handled(router, ask('ok', 'carol'))).answer).toMatch(/Slow down a little/);
  });

  it('delivers the computed answer through server errors, computing it once', async () => {
    const { router, clock } = setup();
    const interaction = new FakeInteraction('echo', 'blip', { id: 'dave' }, clock.now());
    interaction.editFailures.push(...[1, 2, 3].map(() => new HTTPError(503, 'Service Unavailable', 'PATCH', '/x', {})));
    const before = executions;
    await handled(router, interaction);
    expect(interaction.answer).toBe('echo: blip');
    expect(executions - before).toBe(1);
    expect(clock.waits).toHaveLength(3);
    expect(interaction.sent.map((sent) => sent.kind)).toEqual(['defer', 'edit']);
  });

  it('on shutdown, tells the user of a request still waiting to run it again, within the drain timeout', async () => {
    const { router, clock, send } = setup();
    waiting.set('stuck', gate());
    const stuck = send('stuck');
    await Promise.resolve();
    clock.holdSleeps = true;
    const drain = router.drain(10_000);
    // The grace period: the drain waits for the request to finish on its own.
    expect(clock.held.map((sleep) => sleep.ms)).toEqual([8000]);
    clock.held[0]!.end();
    const report = await drain;
    expect(report).toEqual({ drained: false, interrupted: 1, unsettled: 0 });
    // It finished within the reserve: that wait was never ended by the test.
    expect(clock.held.map((sleep) => sleep.ms)).toEqual([8000, 2000]);
    expect(stuck.sent.map((sent) => sent.kind)).toEqual(['defer', 'delete', 'followUp']);
    expect(stuck.answer).toContain(RESTART_MESSAGE);
    expect(stuck.sent.at(-1)!.payload!.flags).toBe(MessageFlags.Ephemeral);
    // The result that arrives after all is not sent.
    waiting.get('stuck')!.open();
    await new Promise((resolve) => setImmediate(resolve));
    expect(stuck.sent).toHaveLength(3);
    // Nor is a new request taken.
    expect((await handled(router, new FakeInteraction('echo', 'late', { id: 'erin' }, clock.now()))).answer).toMatch(
      /restarting/,
    );
    // A drain that does not stop the request never resolves, as the test never ends the reserve's wait: a short timeout fails it.
  }, 5000);
});
