import { randomUUID } from 'node:crypto';
import { HTTPError, MessageFlags, PermissionFlagsBits, PermissionsBitField, type Interaction } from 'discord.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/journal/database.js';
import {
  snowflakeAt,
  type InteractionToRecord,
  type JournaledInteraction,
  type JournaledOptions,
} from '../../../src/journal/entry.js';
import { InteractionJournal } from '../../../src/journal/journal.js';
import type { Responder, ResponsePayload } from '../../../src/discord/responder.js';
import { CapturingLogger, embeddedBackend, type TestDatabase } from '../journal/support.js';
import { messageCommand, slashCommand, type Command } from '../../../src/command/definition.js';
import { option } from '../../../src/command/options.js';
import type { RetryClock } from '../../../src/discord/delivery.js';
import { RESTART_MESSAGE, RESUME_NOTICE, Router } from '../../../src/discord/router.js';
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

let sequence = 0;
type Sent = { kind: 'reply' | 'defer' | 'edit' | 'delete' | 'followUp'; payload?: Record<string, unknown> };

/** What the router uses of a discord.js chat-input interaction, recording what it is sent. */
class FakeInteraction {
  readonly sent: Sent[] = [];
  deferred = false;
  replied = false;
  readonly guildId = '200000000000000002';
  readonly channelId = '300000000000000003';
  readonly applicationId = '100000000000000001';
  readonly id: string;
  readonly token = `token-${randomUUID()}`;
  readonly options: { data: Array<{ name: string; type: number; value: string }> };
  /** Errors the next edits throw, in order. */
  readonly editFailures: Error[] = [];
  /** The member's permissions, as Discord resolved them (null in a DM). */
  memberPermissions: PermissionsBitField | null = new PermissionsBitField();

  constructor(
    readonly commandName: string,
    text: string,
    readonly user: { id: string },
    readonly createdTimestamp: number,
  ) {
    this.options = { data: [{ name: 'text', type: 3, value: text }] };
    this.id = snowflakeAt(createdTimestamp, (sequence += 1));
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
  isButton(): boolean {
    return false;
  }
  isModalSubmit(): boolean {
    return false;
  }
  /** As discord.js answers `withResponse: true`: the callback's resource, with the message it made (its id is the interaction's own, here). */
  async reply(payload: Record<string, unknown>): Promise<{ resource: { message: { id: string } } }> {
    this.replied = true;
    this.sent.push({ kind: 'reply', payload });
    return { resource: { message: { id: this.id } } };
  }
  async deferReply(): Promise<void> {
    this.deferred = true;
    this.sent.push({ kind: 'defer' });
  }
  /** As discord.js answers: the reply's message (its id is the interaction's own, here). */
  async editReply(payload: Record<string, unknown>): Promise<{ id: string }> {
    const failure = this.editFailures.shift();
    if (failure) throw failure;
    this.sent.push({ kind: 'edit', payload });
    return { id: this.id };
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
  execute: async ({ options, progress }): Promise<string> => {
    executions += 1;
    if (options.text.startsWith('say ')) progress(options.text.slice('say '.length));
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
/** `whoami`: says whether the router let it know its user may manage the server. */
const whoami = slashCommand({
  name: 'whoami',
  description: 'Says whether you may manage the server',
  help: { what: 'Permissions.' },
  options: { text: option.string('Anything', { required: true }) },
  positional: ['text'],
  execute: async ({ place }): Promise<string> => `manager: ${String(place.canManageServer)}`,
  toJson: (report) => report,
  toText: (report) => report,
  toEmbeds: (report) => ({ embeds: [{ title: report }], files: [] }),
});
/** `Name it`: a context menu that asks for a name first, then answers with the name and the message's text. */
const nameIt = messageCommand({
  name: 'Name it',
  target: 'text',
  ask: { title: 'Name it', label: 'Name', maxLength: 20 },
  help: { what: 'Names a message.' },
  execute: async ({ options }): Promise<string> => `${options.answer ?? '?'}: ${options.text ?? ''}`,
  toJson: (report) => report,
  toText: (report) => report,
  toEmbeds: (report) => ({ embeds: [{ title: report }], files: [] }),
});
/** `offers-echo`: a reply with one button under it, which runs `echo` on its text. */
const offersEcho = slashCommand({
  name: 'offers-echo',
  followUps: [{ label: 'Echo it', command: 'echo' }],
  description: 'Offers echo',
  help: { what: 'Offers echo.' },
  options: { text: option.string('Anything', { required: true }) },
  positional: ['text'],
  execute: async ({ options }): Promise<string> => options.text,
  toJson: (report) => report,
  toText: (report) => report,
  toEmbeds: (report) => ({ embeds: [{ title: report }], files: [] }),
});
const commands = new Map<string, Command>([
  ['echo', echo as Command],
  ['whoami', whoami as Command],
  ['Name it', nameIt as Command],
  ['offers-echo', offersEcho as Command],
]);

/** A message context menu on a message with `content`; records the form it is answered with. */
class FakeContextMenu extends FakeInteraction {
  readonly forms: Array<Record<string, unknown>> = [];
  readonly targetMessage: { content: string; attachments: Map<string, never>; embeds: never[] };
  constructor(commandName: string, content: string, user: { id: string }, createdTimestamp: number) {
    super(commandName, '', user, createdTimestamp);
    this.targetMessage = { content, attachments: new Map<string, never>(), embeds: [] };
  }
  override isChatInputCommand(): boolean {
    return false;
  }
  override isMessageContextMenuCommand(): boolean {
    return true;
  }
  async showModal(form: Record<string, unknown>): Promise<void> {
    this.replied = true;
    this.forms.push(form);
  }
}

/** A submitted form (MODAL_SUBMIT) with a custom_id and its text fields. */
class FakeFormSubmit extends FakeInteraction {
  readonly fields: { getTextInputValue: (id: string) => string };
  constructor(
    readonly customId: string,
    values: Record<string, string>,
    user: { id: string },
    createdTimestamp: number,
  ) {
    super('', '', user, createdTimestamp);
    this.fields = {
      getTextInputValue: (id) => {
        const value = values[id];
        if (value === undefined) throw new Error(`no field ${id}`);
        return value;
      },
    };
  }
  override isChatInputCommand(): boolean {
    return false;
  }
  override isModalSubmit(): boolean {
    return true;
  }
}

/** A press of a button with `customId` (MESSAGE_COMPONENT), by `user`. */
class FakeButtonPress extends FakeInteraction {
  constructor(
    readonly customId: string,
    user: { id: string },
    createdTimestamp: number,
  ) {
    super('', '', user, createdTimestamp);
  }
  override isChatInputCommand(): boolean {
    return false;
  }
  override isButton(): boolean {
    return true;
  }
}

/** A button press whose first response Discord takes only when the test says so. */
class SlowReplyPress extends FakeButtonPress {
  readonly arrived = gate();
  override async reply(payload: Record<string, unknown>): Promise<{ resource: { message: { id: string } } }> {
    const sent = await super.reply(payload);
    await this.arrived.promise;
    return sent;
  }
}

// These tests follow the acknowledged path ("thinking…", then an edit); the inline answer has its own below.
const services = testServices({ COOLDOWN_SECONDS: '30', INFERENCE_SLOTS: '1', QUEUE_MAX: '1', INLINE_ANSWER_MS: '0' });
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

  it('shows the progress a running command reports after "thinking…", and the answer after it', async () => {
    const { router, clock } = setup();
    const text = 'say cnn done; still running: vit';
    waiting.set(text, gate());
    const interaction = new FakeInteraction('echo', text, { id: 'frank' }, clock.now());
    const task = router.handle(interaction as unknown as Interaction);
    await until(() => interaction.sent.find((sent) => sent.kind === 'edit'));
    expect(interaction.sent.map((sent) => sent.kind)).toEqual(['defer', 'edit']);
    expect(interaction.sent[1]!.payload!.content).toBe('⏳ cnn done; still running: vit');
    waiting.get(text)!.open();
    await task;
    expect(interaction.sent.map((sent) => sent.kind)).toEqual(['defer', 'edit', 'edit']);
    expect(interaction.answer).toBe(`echo: ${text}`);
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

/** A journal whose `record` the test can hold, and which notes when it was called. */
class WatchedJournal extends InteractionJournal {
  recordGate: ReturnType<typeof gate<void>> | undefined;
  readonly calls: string[] = [];
  override async record(interaction: InteractionToRecord): Promise<boolean> {
    this.calls.push('record');
    await this.recordGate?.promise;
    return super.record(interaction);
  }
}

/** What a resumed interaction's token is sent, in order. */
class RecordingResponder implements Responder {
  readonly acknowledged = true;
  readonly sent: Sent[] = [];
  async edit(payload: ResponsePayload): Promise<void> {
    this.sent.push({ kind: 'edit', payload: { ...payload } });
  }
  async remove(): Promise<void> {
    this.sent.push({ kind: 'delete' });
  }
  async followUp(payload: ResponsePayload & { ephemeral?: boolean }): Promise<void> {
    this.sent.push({ kind: 'followUp', payload: { ...payload } });
  }
}

/** A shutdown whose 8-second grace period runs out with the request still running. */
async function drainPastGrace(router: Router, clock: TestClock): Promise<Awaited<ReturnType<Router['drain']>>> {
  const drain = router.drain(10_000);
  await until(() => clock.held.find((sleep) => sleep.ms === 8000));
  clock.held.find((sleep) => sleep.ms === 8000)!.end();
  return drain;
}

describe('the router with the interaction journal (embedded PostgreSQL)', () => {
  let db: TestDatabase;
  let database: Database;
  beforeAll(async () => {
    db = await embeddedBackend.open();
    database = db.database;
  }, 180_000);
  afterAll(() => db?.dispose());
  beforeEach(() => db.raw('DELETE FROM interaction_journal'));

  function setupJournaled(): {
    router: Router;
    clock: TestClock;
    journal: WatchedJournal;
    ask: (text: string) => FakeInteraction;
  } {
    const clock = new TestClock();
    // No wait passes unless the test ends it: recording is never "too slow" by accident.
    clock.holdSleeps = true;
    const journal = new WatchedJournal(database, { logger: new CapturingLogger(), clock, workerId: 'this-process' });
    const router = new Router(commands, services, { clock, journal });
    const ask = (text: string): FakeInteraction =>
      new FakeInteraction('echo', text, { id: String(600000000000000000n + BigInt((users += 1))) }, clock.now());
    return { router, clock, journal, ask };
  }

  /** A row recorded for `interaction`, released as at a process's exit, and claimed by the next start. */
  async function leftByACrash(
    journal: WatchedJournal,
    interaction: FakeInteraction,
    commandName: string,
    options: JournaledOptions,
  ): Promise<JournaledInteraction> {
    await journal.record({
      id: interaction.id,
      applicationId: interaction.applicationId,
      token: interaction.token,
      commandName,
      options,
      guildId: interaction.guildId,
      channelId: interaction.channelId,
      userId: interaction.user.id,
    });
    expect(await journal.release()).toBe(1);
    return (await journal.claim(interaction.id)) as JournaledInteraction;
  }

  const stored = async (id: string): Promise<Record<string, unknown> | undefined> =>
    (await db.raw('SELECT * FROM interaction_journal WHERE interaction_id = $1', [id]))[0] as
      Record<string, unknown> | undefined;

  it('records a request before acknowledging it, and closes its row once the answer is delivered', async () => {
    const { router, journal, ask } = setupJournaled();
    const interaction = ask('journaled');
    const original = interaction.deferReply.bind(interaction);
    interaction.deferReply = async () => {
      journal.calls.push('defer');
      await original();
    };
    await handled(router, interaction);
    expect(journal.calls).toEqual(['record', 'defer']);
    expect(interaction.answer).toBe('echo: journaled');
    expect(await stored(interaction.id)).toMatchObject({
      state: 'done',
      token: null,
      options: null,
      command_name: 'echo',
      user_id: interaction.user.id,
    });
  });

  it('closes the row as failed when the answer is an error, so it is never resumed', async () => {
    const { router, ask } = setupJournaled();
    const interaction = await handled(router, ask('input'));
    expect(interaction.answer).toMatch(/That text is empty/);
    expect(await stored(interaction.id)).toMatchObject({ state: 'failed', failure_reason: 'empty_text', token: null });
  });

  it('answers without the journal when recording takes longer than a second, and a row that lands late is closed', async () => {
    const { router, clock, journal, ask } = setupJournaled();
    journal.recordGate = gate();
    const interaction = ask('slow database');
    const answered = handled(router, interaction);
    await until(() => clock.held.find((sleep) => sleep.ms === 1000));
    clock.held.find((sleep) => sleep.ms === 1000)!.end();
    await answered;
    expect(interaction.answer).toBe('echo: slow database');
    journal.recordGate.open();
    const row = await until(async () => {
      const found = await stored(interaction.id);
      return found?.state === 'failed' ? found : undefined;
    });
    expect(row).toMatchObject({ failure_reason: 'recorded too late; answered without the journal', token: null });
    expect(await journal.unfinished()).toEqual([]);
  });

  it('on shutdown, leaves a journaled request for the next start and tells its user it is saved', async () => {
    const { router, clock, journal, ask } = setupJournaled();
    waiting.set('saved', gate());
    const interaction = ask('saved');
    const task = router.handle(interaction as unknown as Interaction);
    await until(() => interaction.deferred || undefined);
    expect(await drainPastGrace(router, clock)).toEqual({ drained: false, interrupted: 1, unsettled: 0 });
    await task;
    expect(interaction.sent.map((sent) => sent.kind)).toEqual(['defer', 'edit']);
    expect(interaction.sent.at(-1)!.payload!.content).toBe(RESUME_NOTICE);
    // Still this process's until it releases it at exit; then the next start resumes it.
    expect(await stored(interaction.id)).toMatchObject({ state: 'running', claimed_by: 'this-process' });
    expect(await journal.release()).toBe(1);
    expect((await journal.unfinished()).map((entry) => entry.id)).toEqual([interaction.id]);
    waiting.get('saved')!.open();
  });

  it('on shutdown, tells the member whose button press is running that it cannot be resumed, and closes its row', async () => {
    const { router, clock, journal } = setupJournaled();
    waiting.set('held at shutdown', gate());
    const key = router.heldInputs.hold('offers-echo', { text: 'held at shutdown' })!;
    const press = new FakeButtonPress(
      `sr1:echo:${key}`,
      { id: String(600000000000000000n + BigInt((users += 1))) },
      clock.now(),
    );
    const task = router.handle(press as unknown as Interaction);
    await until(() => press.deferred || undefined);
    expect(await drainPastGrace(router, clock)).toEqual({ drained: false, interrupted: 1, unsettled: 0 });
    await task;
    expect(press.sent.map((sent) => sent.kind)).toEqual(['defer', 'delete', 'followUp']);
    expect(press.sent.at(-1)!.payload!.content).toMatch(/^⚠️ I'm restarting while running \/echo from a button\./);
    expect(await stored(press.id)).toMatchObject({ state: 'failed', command_name: 'held:echo', options: {} });
    expect(await journal.release()).toBe(0);
    waiting.get('held at shutdown')!.open();
  });

  it('resumes a journaled interaction through its token: says so, answers, and closes the row', async () => {
    const { router, journal, ask } = setupJournaled();
    const interaction = ask('resumed');
    const entry = await leftByACrash(journal, interaction, 'echo', { text: 'resumed after a crash' });
    const responder = new RecordingResponder();
    await router.resume(entry, responder);
    expect(responder.sent.map((sent) => sent.payload?.content)).toEqual([
      '⏳ I restarted while working on this; picking it up again now.',
      '',
    ]);
    expect((responder.sent.at(-1)!.payload!.embeds as Array<{ title: string }>)[0]!.title).toBe(
      'echo: resumed after a crash',
    );
    // A clean release does not count the interrupted attempt: this was its first.
    expect(await stored(interaction.id)).toMatchObject({ state: 'done', attempts: 1, token: null });
  });

  it('journals a button press without its input, and after a restart tells its user privately that it is gone', async () => {
    const { router, clock, journal } = setupJournaled();
    const member = (): { id: string } => ({ id: String(600000000000000000n + BigInt((users += 1))) });
    const key = router.heldInputs.hold('offers-echo', { text: 'a private sentence' })!;
    const press = new FakeButtonPress(`sr1:echo:${key}`, member(), clock.now());
    await handled(router, press);
    expect(press.answer).toBe('echo: a private sentence');
    const row = await stored(press.id);
    expect(row).toMatchObject({ command_name: 'held:echo', options: {}, state: 'done' });
    expect(JSON.stringify(row)).not.toContain('private sentence');

    // A press cut off by a crash: its row is all a new start has.
    const cut = new FakeButtonPress(`sr1:echo:${key}`, member(), clock.now());
    const entry = await leftByACrash(journal, cut, 'held:echo', {});
    const responder = new RecordingResponder();
    const before = executions;
    await router.resume(entry, responder);
    expect(executions).toBe(before);
    expect(responder.sent.map((sent) => sent.kind)).toEqual(['delete', 'followUp']);
    expect(responder.sent[1]!.payload).toMatchObject({ ephemeral: true });
    expect(responder.sent[1]!.payload!.content).toBe(
      '⚠️ I restarted while running /echo from a button. The image or text behind buttons is kept in memory only, never written to disk, so it does not survive a restart: run the command again in a minute for new buttons.',
    );
    expect(await stored(cut.id)).toMatchObject({ state: 'failed', token: null });
  });

  describe('with an inline window (INLINE_ANSWER_MS)', () => {
    const inlineServices = testServices({ COOLDOWN_SECONDS: '0', INLINE_ANSWER_MS: '250' });
    afterAll(() => inlineServices.dispose());
    function setupInline(): {
      router: Router;
      clock: TestClock;
      journal: WatchedJournal;
      ask: (text: string) => FakeInteraction;
    } {
      const parts = setupJournaled();
      return { ...parts, router: new Router(commands, inlineServices, { clock: parts.clock, journal: parts.journal }) };
    }

    it('answers a request ready within the window in its first response, and journals nothing', async () => {
      const { router, clock, journal, ask } = setupInline();
      const interaction = await handled(router, ask('quick'));
      expect(interaction.sent.map((sent) => sent.kind)).toEqual(['reply']);
      expect((interaction.sent[0]!.payload!.embeds as Array<{ title: string }>)[0]!.title).toBe('echo: quick');
      expect(interaction.sent[0]!.payload!.flags).toBeUndefined();
      expect(journal.calls).toEqual([]);
      expect(await stored(interaction.id)).toBeUndefined();
      // The window was the only wait, and it was never ended: the answer came first.
      expect(clock.held.map((sleep) => sleep.ms)).toEqual([250]);
    });

    it('links a later press of a button to an answer sent as the first response', async () => {
      const { router, clock } = setupInline();
      const key = router.heldInputs.hold('offers-echo', { text: 'inline' })!;
      const member = (): { id: string } => ({ id: String(600000000000000000n + BigInt((users += 1))) });
      const first = await handled(router, new FakeButtonPress(`sr1:echo:${key}`, member(), clock.now()));
      expect(first.sent.map((sent) => sent.kind)).toEqual(['reply']);
      const later = await handled(router, new FakeButtonPress(`sr1:echo:${key}`, member(), clock.now()));
      expect(later.answer).toContain(`https://discord.com/channels/${first.guildId}/${first.channelId}/${first.id}.`);
    });

    it('records and acknowledges a request still running when the window ends, then edits the answer in', async () => {
      const { router, clock, journal, ask } = setupInline();
      waiting.set('slow inline', gate());
      const interaction = ask('slow inline');
      const task = router.handle(interaction as unknown as Interaction);
      const window = await until(() => clock.held.find((sleep) => sleep.ms === 250));
      expect(interaction.sent).toEqual([]);
      window.end();
      await until(() => interaction.deferred || undefined);
      expect(journal.calls).toEqual(['record']);
      waiting.get('slow inline')!.open();
      await task;
      expect(interaction.sent.map((sent) => sent.kind)).toEqual(['defer', 'edit']);
      expect(interaction.answer).toBe('echo: slow inline');
      expect(await stored(interaction.id)).toMatchObject({ state: 'done', token: null });
    });

    it('acknowledges at once a command whose runs have taken longer than the window', async () => {
      const { router, clock, journal, ask } = setupInline();
      waiting.set('measured slow', gate());
      const first = router.handle(ask('measured slow') as unknown as Interaction);
      const window = await until(() => clock.held.find((sleep) => sleep.ms === 250));
      window.end();
      // Its run at the models takes a second.
      clock.time += 1000;
      waiting.get('measured slow')!.open();
      await first;
      expect(router.scheduler.costOf('echo')).toBe(1000);
      const held = clock.held.length;
      const next = ask('next');
      await handled(router, next);
      expect(next.sent.map((sent) => sent.kind)).toEqual(['defer', 'edit']);
      expect(clock.held.slice(held).map((sleep) => sleep.ms)).not.toContain(250);
      expect(journal.calls).toEqual(['record', 'record']);
    });

    it('sends an error ready within the window as a private first response', async () => {
      const { router, journal, ask } = setupInline();
      const interaction = await handled(router, ask('input'));
      expect(interaction.sent.map((sent) => sent.kind)).toEqual(['reply']);
      expect(interaction.answer).toMatch(/That text is empty/);
      expect(interaction.sent[0]!.payload!.flags).toBe(MessageFlags.Ephemeral);
      expect(journal.calls).toEqual([]);
    });
  });

  it('journals whether the member may manage the server, and a resumed request gets what was journaled', async () => {
    const { router, journal, clock } = setupJournaled();
    const interaction = new FakeInteraction('whoami', 'hi', { id: '600000000000000777' }, clock.now());
    interaction.memberPermissions = new PermissionsBitField(PermissionFlagsBits.ManageGuild);
    await handled(router, interaction);
    expect(interaction.answer).toBe('manager: true');
    expect(await stored(interaction.id)).toMatchObject({ state: 'done', can_manage_server: true });

    // After a restart only the journal is left: the permission comes from the row, not a live interaction.
    const later = new FakeInteraction('whoami', 'hi', { id: '600000000000000778' }, clock.now());
    await journal.record({
      id: later.id,
      applicationId: later.applicationId,
      token: later.token,
      commandName: 'whoami',
      options: { text: 'hi' },
      guildId: later.guildId,
      channelId: later.channelId,
      userId: later.user.id,
      canManageServer: true,
    });
    await journal.release();
    const entry = (await journal.claim(later.id)) as JournaledInteraction;
    expect(entry.canManageServer).toBe(true);
    const responder = new RecordingResponder();
    await router.resume(entry, responder);
    expect((responder.sent.at(-1)!.payload!.embeds as Array<{ title: string }>)[0]!.title).toBe('manager: true');
  });

  it('tells the user of an interaction the journal gave up on, privately, instead of leaving "thinking…"', async () => {
    const { router, clock } = setupJournaled();
    const responder = new RecordingResponder();
    await router.giveUp(
      {
        id: snowflakeAt(clock.now()),
        applicationId: '100000000000000001',
        token: 'token',
        commandName: 'classify',
        options: {},
        guildId: null,
        channelId: null,
        userId: '600000000000000001',
        canManageServer: false,
        createdAt: new Date(clock.now()),
        state: 'pending',
        attempts: 3,
      },
      responder,
    );
    expect(responder.sent.map((sent) => sent.kind)).toEqual(['delete', 'followUp']);
    expect(responder.sent[1]!.payload).toMatchObject({
      content: expect.stringMatching(/could not answer this \/classify: I stopped while working on it 3 times/),
      ephemeral: true,
    });
  });
});

describe('the router and the member', () => {
  it("tells the command whether the member may manage the server, from the interaction's permissions", async () => {
    const { router, clock } = setup();
    const ask = (permissions: PermissionsBitField | null): FakeInteraction => {
      const interaction = new FakeInteraction('whoami', 'hi', { id: `user-${(users += 1)}` }, clock.now());
      interaction.memberPermissions = permissions;
      return interaction;
    };
    const manager = new PermissionsBitField([PermissionFlagsBits.ManageGuild, PermissionFlagsBits.SendMessages]);
    expect((await handled(router, ask(manager))).answer).toBe('manager: true');
    expect((await handled(router, ask(new PermissionsBitField(PermissionFlagsBits.SendMessages)))).answer).toBe(
      'manager: false',
    );
    expect((await handled(router, ask(null))).answer).toBe('manager: false');
  });

  it("asks a context menu's question in a form, then runs it with the answer; an unknown form is refused privately", async () => {
    const { router, clock } = setup();
    const user = { id: `user-${(users += 1)}` };
    const menu = new FakeContextMenu('Name it', 'a photo of our cat', user, clock.now());
    await handled(router, menu);
    expect(menu.sent).toEqual([]);
    const form = menu.forms[0]!;
    expect(form).toMatchObject({
      title: 'Name it',
      components: [{ type: 1, components: [{ type: 4, custom_id: 'answer', label: 'Name', max_length: 20 }] }],
    });
    expect(form.custom_id).toMatch(/^sr1m:[A-Za-z0-9_-]{16}$/);

    const submitted = await handled(
      router,
      new FakeFormSubmit(String(form.custom_id), { answer: 'Whiskers' }, user, clock.now()),
    );
    expect(submitted.sent.map((sent) => sent.kind)).toEqual(['defer', 'edit']);
    expect(submitted.answer).toBe('Whiskers: a photo of our cat');

    const forged = await handled(
      router,
      new FakeFormSubmit('sr1m:AAAAAAAAAAAAAAAA', { answer: 'x' }, user, clock.now()),
    );
    expect(forged.answer).toMatch(/This form has expired/);
    expect(forged.sent[0]!.payload!.flags).toBe(MessageFlags.Ephemeral);
  });
});

describe('the router and the buttons under results', () => {
  it('runs on a held input only the follow-ups its reply offered: a custom_id naming another command is refused privately', async () => {
    const { router, clock } = setup();
    const key = router.heldInputs.hold('offers-echo', { text: 'held text' })!;
    const press = (customId: string): FakeButtonPress =>
      new FakeButtonPress(customId, { id: `user-${(users += 1)}` }, clock.now());
    expect((await handled(router, press(`sr1:echo:${key}`))).answer).toBe('echo: held text');
    // The same key under another command's name: /whoami is not a button under /offers-echo.
    const forged = await handled(router, press(`sr1:whoami:${key}`));
    expect(forged.sent).toHaveLength(1);
    expect(forged.answer).toMatch(/That button is not one I know/);
    expect(forged.sent[0]!.payload!.flags).toBe(MessageFlags.Ephemeral);
    // Nor is /offers-echo itself.
    expect((await handled(router, press(`sr1:offers-echo:${key}`))).answer).toMatch(/not one I know/);
  });

  it('runs a button once per reply: later presses are pointed privately to the run, then to its answer', async () => {
    const { router, clock } = setup();
    const press = (key: string): FakeButtonPress =>
      new FakeButtonPress(`sr1:echo:${key}`, { id: `${(users += 1)}` }, clock.now());
    waiting.set('held slow', gate());
    const key = router.heldInputs.hold('offers-echo', { text: 'held slow' })!;
    const before = executions;
    const first = press(key);
    const running = router.handle(first as unknown as Interaction);
    await until(() => executions > before);
    const during = await handled(router, press(key));
    expect(during.sent).toHaveLength(1);
    expect(during.sent[0]!.payload!.flags).toBe(MessageFlags.Ephemeral);
    expect(during.answer).toMatch(
      new RegExp(`\\*Echo it\\* under this message is already running for <@${first.user.id}>`),
    );
    waiting.get('held slow')!.open();
    await running;
    expect(first.answer).toBe('echo: held slow');
    const after = await handled(router, press(key));
    expect(after.answer).toContain(
      `was answered for <@${first.user.id}> <t:${Math.floor(clock.now() / 1000)}:R>: https://discord.com/channels/${first.guildId}/${first.channelId}/${first.id}.`,
    );
    expect(after.sent.map((sent) => sent.kind)).toEqual(['reply']);
    expect(executions - before).toBe(1);
  });

  it('lets the next press run a button whose run failed: only a public answer is shared', async () => {
    const { router, clock } = setup();
    const press = (key: string): FakeButtonPress =>
      new FakeButtonPress(`sr1:echo:${key}`, { id: `${(users += 1)}` }, clock.now());
    const key = router.heldInputs.hold('offers-echo', { text: 'internal' })!;
    const before = executions;
    expect((await handled(router, press(key))).answer).toMatch(/Something went wrong on my side/);
    expect((await handled(router, press(key))).answer).toMatch(/Something went wrong on my side/);
    expect(executions - before).toBe(2);
  });

  it('makes no one wait on a press refused for its cooldown: the next member’s press runs', async () => {
    const { router, clock, send } = setup();
    const slowLearner = `${(users += 1)}`;
    const asked = send('ok', slowLearner);
    await until(() => asked.answer);
    const key = router.heldInputs.hold('offers-echo', { text: 'shared text' })!;
    // Its refusal is still on its way to Discord when the next member presses.
    const refused = new SlowReplyPress(`sr1:echo:${key}`, { id: slowLearner }, clock.now());
    const refusing = router.handle(refused as unknown as Interaction);
    await until(() => refused.sent.length > 0);
    expect(refused.answer).toMatch(/Slow down a little/);
    const next = await handled(router, new FakeButtonPress(`sr1:echo:${key}`, { id: `${(users += 1)}` }, clock.now()));
    expect(next.answer).toBe('echo: shared text');
    refused.arrived.open();
    await refusing;
  });

  it('answers a press delivered twice once: the second delivery is not told the button is running', async () => {
    const { router, clock } = setup();
    waiting.set('twice', gate());
    const key = router.heldInputs.hold('offers-echo', { text: 'twice' })!;
    const first = new FakeButtonPress(`sr1:echo:${key}`, { id: `${(users += 1)}` }, clock.now());
    const running = router.handle(first as unknown as Interaction);
    await until(() => first.deferred || undefined);
    const again = new FakeButtonPress(`sr1:echo:${key}`, first.user, clock.now());
    Object.defineProperty(again, 'id', { value: first.id });
    await handled(router, again);
    expect(again.sent).toEqual([]);
    waiting.get('twice')!.open();
    await running;
    expect(first.answer).toBe('echo: twice');
  });

  it('refuses a press that reaches a job queue, which would carry its input into Redis', async () => {
    const clock = new TestClock();
    const enqueued: unknown[] = [];
    const queue = {
      enqueue: async (job: unknown) => {
        enqueued.push(job);
        return 'duplicate' as const;
      },
      release: async () => undefined,
      withdraw: async () => undefined,
    };
    const router = new Router(commands, services, { clock, queue });
    const key = router.heldInputs.hold('offers-echo', { text: 'not for Redis' })!;
    const press = await handled(router, new FakeButtonPress(`sr1:echo:${key}`, { id: `${(users += 1)}` }, clock.now()));
    expect(press.answer).toBe('That button cannot run here; run the command again.');
    expect(press.sent[0]!.payload!.flags).toBe(MessageFlags.Ephemeral);
    expect(enqueued).toEqual([]);
  });
});

/** Resolves once `check` gives a value, yielding to the event loop between tries (for I/O the test does not control). */
async function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
  for (let tries = 0; tries < 2000; tries += 1) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('condition never held');
}
