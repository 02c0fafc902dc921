import { randomUUID } from 'node:crypto';
import {
  MessageFlags,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
  type MessageContextMenuCommandInteraction,
} from 'discord.js';
import type { Services } from '../app.js';
import type { Command, RichReply } from '../command/definition.js';
import { describeError, isUserFacing, type ErrorKind } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { LIMITS, clip, toDiscordEmbeds } from './limits.js';
import { runCommand } from '../command/run.js';
import type { DownloadPolicy } from './attachments.js';
import { deliver, replyDeadline, systemClock, type DeliveryOptions, type RetryClock } from './delivery.js';
import { FairUse } from './fair-use.js';
import { FairScheduler, type WaitNotice } from './scheduler.js';
import { chatInputOptions, messageOptions, resolveOptions } from './options.js';
import { interactionResponder, type Responder, type ResponsePayload } from './responder.js';
import { HeldInputs, followUpOptions, followUpRow, parseButton, type HeldInput } from './buttons.js';
import type { InteractionJournal } from '../journal/journal.js';
import type { JournaledInteraction, JournaledOptions } from '../journal/entry.js';
import type { JobIntake } from '../queue/queue.js';
import type { QueuedJob } from '../queue/job.js';

/** An interaction that runs a command: a slash command, a context menu, or a button under a result. */
type CommandInteraction = ChatInputCommandInteraction | MessageContextMenuCommandInteraction | ButtonInteraction;

const NO_MENTIONS = { parse: [] as never[] };
const PROGRESS_INTERVAL_MS = 1500;
/** Part of the drain timeout kept for telling the users of unfinished requests to run them again. */
const NOTICE_RESERVE_MS = 2000;
export const RESTART_MESSAGE = "I'm restarting — please run the command again in a minute.";
/** What a journaled request interrupted by a shutdown shows until the next start answers it. */
export const RESUME_NOTICE = "⏳ I'm restarting. Your request is saved and will be answered as soon as I'm back.";
/**
 * The longest the journal may take to record a request before it is acknowledged anyway:
 * Discord wants the acknowledgement within 3 s of the interaction, which also has to travel.
 */
const RECORD_TIMEOUT_MS = 1000;
/** What a front end answers when the job queue (Redis) cannot take a request now. */
export const QUEUE_BUSY_MESSAGE = "I'm busy right now and could not take your request; please try again in a minute.";
/** What a request is assumed to cost at the models until its command has been measured. */
const DEFAULT_COST_MS = 100;
/** Errors about what the user sent: an answer to their request, which their cooldown counts. */
const ANSWER_KINDS: ReadonlySet<ErrorKind> = new Set(['input', 'usage', 'image']);

/**
 * How a request ended. Only an answered one (its result, or an error about the user's own
 * input, delivered) starts the user's cooldown.
 */
export type Outcome = 'answered' | 'refused' | 'failed' | 'interrupted';

/** One request to answer, live or resumed from the journal after a restart. */
interface Job {
  /** The interaction's id (the journal's key). */
  id: string;
  requestId: string;
  log: Logger;
  stop: AbortSignal;
  /** performance.now() when it arrived here. */
  started: number;
  receivedAt: number;
  command: Command;
  userId: string;
  guildId: string | null;
  /** Option values, attachments as references still to download. */
  options: JournaledOptions;
  responder: Responder;
  /** No reply retry starts after this (the token's lifetime). */
  deadline: number;
  /**
   * Settles once Discord has the acknowledgement (the reply exists, for edits and follow-ups):
   * true when the request has a row in the journal to close. Rejects with NotAcknowledged when
   * it must not be answered here (recorded twice, or the acknowledgement failed).
   */
  acknowledged: Promise<boolean>;
}

/** A request that has no acknowledged reply to answer through: nothing more is sent for it. */
class NotAcknowledged extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NotAcknowledged';
  }
}

/** What a shutdown's drain did. */
export interface DrainReport {
  /** Every request in flight finished on its own within the grace period. */
  drained: boolean;
  /** Requests stopped at the end of the grace period, whose users were asked to run them again. */
  interrupted: number;
  /** Requests still unsettled when the drain timed out (their notice could not be delivered in time). */
  unsettled: number;
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

const ordinal = (n: number): string => {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
};

/** What a waiting member sees: their place and a rough wait. */
export function waitingLine(notice: WaitNotice): string {
  const seconds = Math.max(1, Math.round(notice.estimatedWaitMs / 1000));
  return `Waiting for a turn at the models: ${ordinal(notice.position)} in line, about ${seconds} s.`;
}

/** Settles when `work` does, or rejects with the signal's reason as soon as it aborts; `work` is left to finish unobserved. */
function unlessAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Turns interactions into command runs: fair-use checks, defer within Discord's 3 s, option
 * resolution, the command, the reply; and the one error boundary that shows expected failures
 * to the user ephemerally and logs everything else.
 */
export class Router {
  private readonly fairUse: FairUse;
  /** Turns at the models, fair across servers and members. */
  readonly scheduler: FairScheduler;
  /** Each request in flight, with what stops it when a shutdown cannot wait for it any longer. */
  private readonly inFlight = new Map<Promise<void>, AbortController>();
  private accepting = true;
  private readonly clock: RetryClock;
  readonly policy: DownloadPolicy;
  /** The inputs of recent replies, for the buttons under them (memory only, 15 minutes). */
  readonly heldInputs: HeldInputs;
  /** Where accepted interactions are recorded until answered; without it, a restart loses them. */
  private readonly journal: InteractionJournal | undefined;
  /** With REDIS_URL: accepted jobs go there for the model workers instead of running here. */
  private readonly queue: JobIntake | undefined;

  constructor(
    private readonly commands: ReadonlyMap<string, Command>,
    private readonly services: Services,
    options: { clock?: RetryClock; journal?: InteractionJournal; queue?: JobIntake } = {},
  ) {
    const { config } = services;
    this.clock = options.clock ?? systemClock;
    this.journal = options.journal;
    this.queue = options.queue;
    this.heldInputs = new HeldInputs(() => this.clock.now());
    this.fairUse = new FairUse(config.COOLDOWN_SECONDS * 1000, () => this.clock.now());
    this.scheduler = new FairScheduler({
      slots: config.INFERENCE_SLOTS,
      maxQueued: config.QUEUE_MAX,
      perUserQueued: config.MEMBER_MAX_WAITING,
      perGuildRunning: config.SERVER_MAX_RUNNING,
      defaultCostMs: DEFAULT_COST_MS,
      now: () => this.clock.now(),
    });
    this.policy = {
      allowedHosts: config.ATTACHMENT_HOSTS,
      maxBytes: config.IMAGE_MAX_BYTES,
      timeoutMs: config.ATTACHMENT_TIMEOUT_MS,
      allowInsecure: config.ATTACHMENT_ALLOW_INSECURE,
    };
  }

  get pending(): number {
    return this.inFlight.size;
  }

  /** Entry point for every interaction; never rejects, and settles once the interaction has been dealt with. */
  handle(interaction: Interaction): Promise<void> {
    if (interaction.isAutocomplete()) return this.autocomplete(interaction);
    if (!interaction.isChatInputCommand() && !interaction.isMessageContextMenuCommand() && !interaction.isButton())
      return Promise.resolve();
    const stop = new AbortController();
    const task = this.run(interaction, stop.signal).catch((error: unknown) =>
      this.services.logger.error({ err: error }, 'interaction handler failed'),
    );
    this.inFlight.set(task, stop);
    void task.finally(() => this.inFlight.delete(task));
    return task;
  }

  /**
   * Stops taking new work and lets requests in flight finish; at the end of the grace period
   * (the timeout less a short reserve) it stops the rest, wherever they are (downloading,
   * queued, computing, retrying a reply), and each tells its user privately to run the command
   * again. Resolves within `timeoutMs`.
   */
  async drain(timeoutMs: number): Promise<DrainReport> {
    this.accepting = false;
    const reserveMs = Math.min(NOTICE_RESERVE_MS, timeoutMs / 2);
    if (await this.settleWithin(timeoutMs - reserveMs)) return { drained: true, interrupted: 0, unsettled: 0 };
    const unfinished = [...this.inFlight.values()];
    for (const stop of unfinished) stop.abort();
    const settled = await this.settleWithin(reserveMs);
    return { drained: false, interrupted: unfinished.length, unsettled: settled ? 0 : this.inFlight.size };
  }

  private async settleWithin(ms: number): Promise<boolean> {
    if (this.inFlight.size === 0) return true;
    const timer = new AbortController();
    const settled = await Promise.race([
      Promise.all(this.inFlight.keys()).then(() => true),
      this.clock.sleep(ms, timer.signal).then(() => false),
    ]);
    timer.abort();
    return settled;
  }

  private async autocomplete(interaction: AutocompleteInteraction): Promise<void> {
    const command = this.commands.get(interaction.commandName);
    const focused = interaction.options.getFocused(true);
    try {
      const choices = command?.autocomplete?.(focused.name, String(focused.value), this.services) ?? [];
      await interaction.respond(
        choices.slice(0, 25).map((choice) => ({ name: clip(choice.name, 100), value: clip(choice.value, 100) })),
      );
    } catch (error) {
      this.services.logger.warn({ err: error, command: interaction.commandName }, 'autocomplete failed');
    }
  }

  private async rejectEphemeral(interaction: CommandInteraction, content: string): Promise<void> {
    await interaction.reply({
      content: clip(content, LIMITS.content),
      flags: MessageFlags.Ephemeral,
      allowedMentions: NO_MENTIONS,
    });
  }

  private requestLog(requestId: string, command: string, user: string, guild: string | null, interactionId: string) {
    return this.services.logger.child({ requestId, command, user, guild, interactionId });
  }

  private async run(interaction: CommandInteraction, stop: AbortSignal): Promise<void> {
    const started = performance.now();
    const receivedAt = this.clock.now();
    const requestId = randomUUID();
    const button = interaction.isButton() ? parseButton(interaction.customId) : undefined;
    const name = interaction.isButton() ? (button?.command ?? 'button') : interaction.commandName;
    const log = this.requestLog(requestId, name, interaction.user.id, interaction.guildId, interaction.id);
    const { metrics } = this.services;
    const command = this.commands.get(name);
    if (interaction.isButton() && (!button || command?.kind !== 'slash')) {
      log.info({ customId: interaction.customId.slice(0, 100) }, 'refused a button that is not ours');
      await this.rejectEphemeral(
        interaction,
        'That button is not one I know (it may be from an older version of me). Run the command again for new buttons.',
      );
      return;
    }
    if (!command) {
      await this.rejectEphemeral(
        interaction,
        'I do not know that command any more; it may have been removed. Try `/help`.',
      );
      return;
    }
    // A button runs on the input of the reply it sits under, held in memory for a while only.
    let held: HeldInput | undefined;
    if (button) {
      held = this.heldInputs.get(button.key);
      if (!held) {
        await this.rejectEphemeral(
          interaction,
          'This button has expired: I keep the input behind buttons for 15 minutes, and not across a restart. ' +
            'Run the command again for new buttons.',
        );
        return;
      }
    }
    if (!this.accepting) {
      await this.rejectEphemeral(interaction, 'I am restarting right now; please try again in a minute.');
      return;
    }
    const cooldown = this.fairUse.claim(interaction.user.id, command.name);
    if (!cooldown.allowed) {
      metrics.requests.inc({ command: command.name, outcome: 'cooldown' });
      await this.rejectEphemeral(
        interaction,
        `Slow down a little: you can use /${command.name} again in ${cooldown.waitSeconds} s.`,
      );
      return;
    }
    let outcome: Outcome = 'failed';
    try {
      outcome = await this.intake(interaction, command, held, { requestId, log, stop, started, receivedAt });
    } finally {
      if (outcome !== 'answered') cooldown.withdraw();
      metrics.commandSeconds.observe({ command: command.name }, (performance.now() - started) / 1000);
    }
  }

  /**
   * A live interaction, before any work: its options as references (a context menu's target
   * message read now), recorded in the journal, then acknowledged within Discord's 3 s.
   */
  private async intake(
    interaction: CommandInteraction,
    command: Command,
    held: HeldInput | undefined,
    request: { requestId: string; log: Logger; stop: AbortSignal; started: number; receivedAt: number },
  ): Promise<Outcome> {
    const { log } = request;
    let options: JournaledOptions;
    try {
      if (held) options = followUpOptions(command, held);
      else if (interaction.isChatInputCommand()) options = chatInputOptions(interaction);
      else if (interaction.isMessageContextMenuCommand()) options = messageOptions(command, interaction);
      else throw new Error('a button without its held input');
    } catch (error) {
      if (!isUserFacing(error)) throw error;
      // Nothing to run (a context menu on a message without an image or text): answered at once, privately.
      log.info({ code: error.code, reason: error.message }, 'command refused');
      await this.rejectEphemeral(interaction, `⚠️ ${error.message}`);
      return 'answered';
    }
    // The one seam between the two transports: the job itself runs in serve() either way.
    if (this.queue) return this.enqueue(this.queue, interaction, command, options, request);
    // Recorded, then acknowledged; meanwhile the work starts (its turn, its download, the
    // models), so the journal's write and Discord's round trip for the acknowledgement are not
    // added to the answer's time. Nothing is said to the user before Discord has the acknowledgement.
    const acknowledged = (async (): Promise<boolean> => {
      // A button's input stays in memory, as promised: its press is not journaled.
      const journaled = held ? 'unrecorded' : await this.record(interaction, command, options, log);
      if (journaled === 'duplicate') throw new NotAcknowledged('already recorded: answered elsewhere');
      try {
        await interaction.deferReply();
      } catch (error) {
        log.warn({ err: error }, 'could not acknowledge the interaction');
        if (journaled === 'recorded') await this.finishJournal(interaction.id, 'failed', log, 'not acknowledged');
        throw new NotAcknowledged('the acknowledgement failed', { cause: error });
      }
      return journaled === 'recorded';
    })();
    return this.serve({
      ...request,
      id: interaction.id,
      command,
      userId: interaction.user.id,
      guildId: interaction.guildId,
      options,
      responder: interactionResponder(interaction),
      deadline: replyDeadline(interaction.createdTimestamp, request.receivedAt),
      acknowledged,
    });
  }

  /**
   * With a job queue: durable in Redis before the acknowledgement, runnable only after it (so a
   * worker never edits a reply Discord does not have yet). Redis that cannot take the job within
   * a second: the user is told privately to try again, and nothing else is acknowledged.
   */
  private async enqueue(
    queue: JobIntake,
    interaction: CommandInteraction,
    command: Command,
    options: JournaledOptions,
    request: { log: Logger; receivedAt: number },
  ): Promise<Outcome> {
    const { log } = request;
    const { metrics } = this.services;
    const queued = await queue
      .enqueue({
        id: interaction.id,
        applicationId: interaction.applicationId,
        token: interaction.token,
        commandName: command.name,
        options,
        guildId: interaction.guildId,
        channelId: interaction.channelId,
        userId: interaction.user.id,
        receivedAt: request.receivedAt,
      })
      .catch((error: unknown) => {
        log.warn({ err: error }, 'the job queue could not take the request; answering busy');
        return undefined;
      });
    if (queued === 'duplicate') {
      log.info('interaction already queued (delivered twice): answered elsewhere');
      return 'refused';
    }
    if (!queued) {
      metrics.requests.inc({ command: command.name, outcome: 'busy' });
      await this.rejectEphemeral(interaction, QUEUE_BUSY_MESSAGE);
      return 'refused';
    }
    try {
      await interaction.deferReply();
    } catch (error) {
      log.warn({ err: error }, 'could not acknowledge the interaction');
      await queue
        .withdraw(queued)
        .catch((withdrawError: unknown) =>
          log.warn({ err: withdrawError }, 'could not withdraw the queued job; its worker will find it unknown'),
        );
      return 'failed';
    }
    // Not promoted (Redis went away since): it starts on its own once its delay is over.
    await queue
      .release(queued)
      .catch((error: unknown) =>
        log.warn({ err: error }, 'could not release the queued job; it will start on its own'),
      );
    metrics.requests.inc({ command: command.name, outcome: 'queued' });
    log.info('request queued for a worker');
    return 'answered';
  }

  /**
   * A job from the queue, on a model worker: answered through its token (`responder`) by the
   * same serve() path as a live request, with neither the journal (Redis holds the job until it
   * is completed) nor a restart notice. Never rejects; says how the request ended.
   */
  runQueued(job: QueuedJob, responder: Responder): Promise<Outcome> {
    const stop = new AbortController();
    const task = this.runQueuedNow(job, responder, stop.signal).catch((error: unknown) => {
      this.services.logger.error({ err: error, interactionId: job.id }, 'queued job failed');
      return 'failed' as const;
    });
    const settled = task.then(() => undefined);
    this.inFlight.set(settled, stop);
    void settled.finally(() => this.inFlight.delete(settled));
    return task;
  }

  private async runQueuedNow(job: QueuedJob, responder: Responder, stop: AbortSignal): Promise<Outcome> {
    const started = performance.now();
    const requestId = randomUUID();
    const log = this.requestLog(requestId, job.commandName, job.userId, job.guildId, job.id);
    const command = this.commands.get(job.commandName);
    const delivery = this.deliveryOptions(replyDeadline(job.receivedAt, job.receivedAt), stop, log);
    if (!command) {
      await this.fail(
        responder,
        'This worker does not have that command (a different version?). Try `/help`.',
        delivery,
      ).catch((error: unknown) => log.warn({ err: error }, 'could not send the error reply'));
      return 'failed';
    }
    const outcome = await this.serve({
      id: job.id,
      requestId,
      log,
      stop,
      started,
      receivedAt: job.receivedAt,
      command,
      userId: job.userId,
      guildId: job.guildId,
      options: job.options,
      responder,
      deadline: delivery.deadline,
      acknowledged: Promise.resolve(false),
    });
    this.services.metrics.commandSeconds.observe({ command: command.name }, (performance.now() - started) / 1000);
    return outcome;
  }

  /**
   * A queued job given up after its last attempt (its worker stopped each time): its user is
   * told, privately, instead of being left on "thinking…". Never rejects.
   */
  async giveUpQueued(job: QueuedJob, responder: Responder, attempts: number): Promise<void> {
    const log = this.requestLog(randomUUID(), job.commandName, job.userId, job.guildId, job.id);
    const delivery = this.deliveryOptions(
      replyDeadline(job.receivedAt, job.receivedAt),
      new AbortController().signal,
      log,
    );
    await this.fail(
      responder,
      `I could not answer this /${job.commandName}: the worker running it stopped ${attempts} times. ` +
        'Please try again, perhaps with a smaller image or shorter text.',
      delivery,
    ).catch((error: unknown) => log.warn({ err: error }, 'could not tell the user their request was given up'));
  }

  /**
   * Journals an interaction before it is acknowledged, so that a crash or a restart loses
   * nothing. Bounded: Discord wants the acknowledgement within 3 s, so a database that is down
   * or slower than RECORD_TIMEOUT_MS is answered without (and logged); the request is not refused.
   */
  private async record(
    interaction: CommandInteraction,
    command: Command,
    options: JournaledOptions,
    log: Logger,
  ): Promise<'recorded' | 'unrecorded' | 'duplicate'> {
    const { journal } = this;
    if (!journal) return 'unrecorded';
    const { journalEvents } = this.services.metrics;
    if (!journal.ready()) {
      journalEvents.inc({ event: 'unrecorded' });
      log.warn('the journal database is unavailable; answering without recording the request');
      return 'unrecorded';
    }
    const recordStarted = performance.now();
    const recording = journal.record({
      id: interaction.id,
      applicationId: interaction.applicationId,
      token: interaction.token,
      commandName: command.name,
      options,
      guildId: interaction.guildId,
      channelId: interaction.channelId,
      userId: interaction.user.id,
    });
    const timer = new AbortController();
    const result = await Promise.race([
      recording.then(
        (inserted) => (inserted ? ('recorded' as const) : ('duplicate' as const)),
        (error: unknown) => {
          log.warn({ err: error }, 'could not record the request in the journal; answering without it');
          return 'unrecorded' as const;
        },
      ),
      this.clock.sleep(RECORD_TIMEOUT_MS, timer.signal).then(() => 'slow' as const),
    ]);
    timer.abort();
    this.services.metrics.journalSeconds.observe({ op: 'record' }, (performance.now() - recordStarted) / 1000);
    log.debug({ ms: round(performance.now() - recordStarted) }, 'journal record');
    if (result === 'slow') {
      log.warn(
        { timeoutMs: RECORD_TIMEOUT_MS },
        'the journal was too slow to record the request; answering without it',
      );
      // Answered here without the journal: a row that lands later must not be resumed after a restart.
      void recording.then(
        (inserted) => inserted && journal.markFailed(interaction.id, 'recorded too late; answered without the journal'),
        () => undefined,
      );
      journalEvents.inc({ event: 'unrecorded' });
      return 'unrecorded';
    }
    if (result === 'duplicate') log.info('interaction already recorded (delivered twice): answered elsewhere');
    journalEvents.inc({ event: result });
    return result;
  }

  /**
   * An interaction from the journal after a restart: answered through its token, with the same
   * scheduling, options (attachments downloaded again) and replies as a live one. Shutdown
   * drains it like any other request. Never rejects.
   */
  resume(entry: JournaledInteraction, responder: Responder): Promise<void> {
    const stop = new AbortController();
    const task = this.resumeNow(entry, responder, stop.signal).catch((error: unknown) =>
      this.services.logger.error({ err: error, interactionId: entry.id }, 'resumed interaction failed'),
    );
    this.inFlight.set(task, stop);
    void task.finally(() => this.inFlight.delete(task));
    return task;
  }

  private async resumeNow(entry: JournaledInteraction, responder: Responder, stop: AbortSignal): Promise<void> {
    const started = performance.now();
    const requestId = randomUUID();
    const log = this.requestLog(requestId, entry.commandName, entry.userId, entry.guildId, entry.id);
    const created = entry.createdAt.getTime();
    const delivery = this.deliveryOptions(replyDeadline(created, created), stop, log);
    log.info({ attempt: entry.attempts, ageMs: this.clock.now() - created }, 'resuming an interaction after a restart');
    this.services.metrics.journalEvents.inc({ event: 'resumed' });
    const command = this.commands.get(entry.commandName);
    if (!command) {
      await this.fail(
        responder,
        'I was restarted with a new version that no longer has this command. Try `/help`.',
        delivery,
      ).catch((error: unknown) => log.warn({ err: error }, 'could not send the error reply'));
      await this.finishJournal(entry.id, 'failed', log, 'command no longer exists');
      return;
    }
    // The user has watched "thinking…" through the restart: say what is happening.
    void responder
      .edit({ content: '⏳ I restarted while working on this; picking it up again now.', allowedMentions: NO_MENTIONS })
      .catch(() => undefined);
    const outcome = await this.serve({
      id: entry.id,
      requestId,
      log,
      stop,
      started,
      receivedAt: created,
      command,
      userId: entry.userId,
      guildId: entry.guildId,
      options: entry.options,
      responder,
      deadline: delivery.deadline,
      acknowledged: Promise.resolve(true),
    });
    this.services.metrics.commandSeconds.observe({ command: command.name }, (performance.now() - started) / 1000);
    log.info({ outcome }, 'resumed interaction settled');
  }

  /**
   * An interaction the journal gave up on (it used every attempt: the process stopped while
   * answering it each time): its user is told, privately, instead of being left on "thinking…".
   */
  async giveUp(entry: JournaledInteraction, responder: Responder): Promise<void> {
    const log = this.requestLog(randomUUID(), entry.commandName, entry.userId, entry.guildId, entry.id);
    const created = entry.createdAt.getTime();
    const delivery = this.deliveryOptions(replyDeadline(created, created), new AbortController().signal, log);
    await this.fail(
      responder,
      `I could not answer this /${entry.commandName}: I stopped while working on it ${entry.attempts} times. ` +
        'Please try again, perhaps with a smaller image or shorter text.',
      delivery,
    ).catch((error: unknown) => log.warn({ err: error }, 'could not tell the user their request was given up'));
  }

  private deliveryOptions(deadline: number, stop: AbortSignal, log: Logger): DeliveryOptions {
    const { metrics } = this.services;
    return {
      deadline,
      clock: this.clock,
      signal: stop,
      onRetry: ({ attempt, reason, delayMs, error }) => {
        metrics.replyRetries.inc({ reason });
        log.warn(
          { attempt, reason, delayMs: Math.round(delayMs), err: error },
          'Discord did not take the reply; retrying',
        );
      },
    };
  }

  /** Closes the journal's row for an interaction; a failure to do so is logged, never thrown. */
  private async finishJournal(id: string, state: 'done' | 'failed', log: Logger, reason = ''): Promise<void> {
    const { journal } = this;
    if (!journal) return;
    try {
      const closeStarted = performance.now();
      const closed = state === 'done' ? await journal.markDone(id) : await journal.markFailed(id, reason);
      this.services.metrics.journalSeconds.observe({ op: 'close' }, (performance.now() - closeStarted) / 1000);
      this.services.metrics.journalEvents.inc({ event: state });
      // Another worker took the row over (this one was presumed dead): the user may get two answers.
      if (!closed) log.warn({ state }, 'the journal row was no longer held by this process');
    } catch (error) {
      log.warn({ err: error, state }, 'could not close the journal row; it may be answered again after a restart');
    }
  }

  /** Capacity checks, then the command and its reply (or its error); says how the request ended. */
  private async serve(job: Job): Promise<Outcome> {
    const { metrics } = this.services;
    const { log, stop, command, responder } = job;
    const guild = job.guildId ?? `dm:${job.userId}`;
    const delivery = this.deliveryOptions(job.deadline, stop, log);
    let finished = false;
    let release: (() => void) | undefined;
    let journaled = false;
    let renewal: AbortController | undefined;
    // Work stops when the shutdown says so, or when the request turns out not to be ours to answer.
    const unacknowledged = new AbortController();
    const signal = AbortSignal.any([stop, unacknowledged.signal]);
    const acknowledged = job.acknowledged.then(
      (recorded) => {
        journaled = recorded;
        // A request that waits long in the queue keeps its claim on the journal row.
        if (recorded && this.journal) renewal = this.keepClaim(job.id, log);
      },
      (error: unknown) => {
        unacknowledged.abort(error);
        throw error;
      },
    );
    acknowledged.catch(() => undefined);
    try {
      let lastProgress = 0;
      const progress = (text: string): void => {
        const now = Date.now();
        if (finished || !responder.acknowledged || now - lastProgress < PROGRESS_INTERVAL_MS) return;
        lastProgress = now;
        void responder
          .edit({ content: clip(`⏳ ${text}`, LIMITS.content), allowedMentions: NO_MENTIONS })
          .catch(() => undefined);
      };
      if (command.usesModels) {
        release = await this.scheduler.turn(
          { guild, user: job.userId, kind: command.name },
          (notice) => progress(waitingLine(notice)),
          signal,
        );
      }
      const raw = await unlessAborted(resolveOptions(job.options, this.policy), signal);
      const report = await unlessAborted(
        runCommand(command, raw, this.services, progress, job.requestId, {
          guildId: job.guildId ?? undefined,
          userId: job.userId,
        }),
        signal,
      );
      const reply = await unlessAborted(Promise.resolve(command.toEmbeds(report)), signal);
      // The models are free for the next request while the reply travels (and is retried).
      release?.();
      await unlessAborted(acknowledged, signal);
      finished = true;
      // Computed once: a reply Discord does not take at first is sent again as it is.
      await this.reply(responder, reply, delivery, this.followUpButtons(command, job.options));
      metrics.requests.inc({ command: command.name, outcome: 'ok' });
      log.info({ ms: Math.round(performance.now() - job.started) }, 'command answered');
      if (journaled) await this.finishJournal(job.id, 'done', log);
      return 'answered';
    } catch (error) {
      finished = true;
      // Nothing can be said to the user without the acknowledgement (it was logged where it failed).
      if (unacknowledged.signal.aborted) return 'failed';
      const ours = await acknowledged.then(
        () => true,
        () => false,
      );
      if (!ours) return 'failed';
      if (stop.aborted) {
        metrics.requests.inc({ command: command.name, outcome: 'interrupted' });
        if (journaled) {
          // Left running in the journal: the shutdown releases it and the next start answers it.
          metrics.journalEvents.inc({ event: 'interrupted' });
          log.info(
            { reason: describeError(error) },
            'request interrupted by shutdown; it will be resumed after the restart',
          );
          await responder
            .edit({ content: RESUME_NOTICE, allowedMentions: NO_MENTIONS })
            .catch((replyError: unknown) => log.warn({ err: replyError }, 'could not send the resume notice'));
          return 'interrupted';
        }
        log.info({ reason: describeError(error) }, 'request interrupted by shutdown; asking the user to run it again');
        await this.fail(responder, RESTART_MESSAGE, delivery).catch((replyError: unknown) =>
          log.warn({ err: replyError }, 'could not send the restart notice'),
        );
        return 'interrupted';
      }
      const userFacing = isUserFacing(error);
      let message: string;
      let outcome: Outcome;
      if (userFacing && error.kind === 'capacity') {
        metrics.requests.inc({ command: command.name, outcome: 'busy' });
        log.info({ code: error.code, reason: error.message }, 'request refused: no room to wait');
        message = error.message;
        outcome = 'refused';
      } else {
        metrics.requests.inc({ command: command.name, outcome: 'error' });
        metrics.errors.inc({ command: command.name, kind: userFacing ? 'user' : 'internal' });
        if (userFacing) log.info({ code: error.code, reason: error.message }, 'command refused');
        else log.error({ err: error }, 'command failed');
        // An internal error's text can hold paths or provider bodies: it stays in the log.
        message = userFacing
          ? error.message
          : `Something went wrong on my side. It has been logged (request ${job.requestId}); please try again.`;
        outcome = userFacing && ANSWER_KINDS.has(error.kind) ? 'answered' : 'failed';
      }
      const delivered = await this.fail(responder, message, delivery).then(
        () => true,
        (replyError: unknown) => {
          log.warn({ err: replyError }, 'could not send the error reply');
          return false;
        },
      );
      if (journaled)
        await this.finishJournal(
          job.id,
          'failed',
          log,
          userFacing ? `${error.code}` : `internal error (request ${job.requestId})`,
        );
      return delivered ? outcome : 'failed';
    } finally {
      release?.();
      renewal?.abort();
    }
  }

  /**
   * Renews this process's claim on a journal row until the returned controller aborts. On real
   * time, not the router's clock: the lease is the journal's, measured on the database's side.
   */
  private keepClaim(id: string, log: Logger): AbortController {
    const stop = new AbortController();
    const journal = this.journal!;
    const timer = setInterval(() => {
      void journal.renew(id).then(
        (held) => {
          if (!held) log.warn('the journal row was taken over by another process while this one was answering it');
        },
        (error: unknown) => log.warn({ err: error }, 'could not renew the claim on the journal row'),
      );
    }, journal.leaseRenewMs);
    timer.unref();
    stop.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
    return stop;
  }

  /** The buttons under a reply: its follow-ups this bot has, on the input held for them. */
  private followUpButtons(command: Command, options: JournaledOptions): ResponsePayload['components'] {
    if (!command.followUps?.length || !this.services.config.BUTTONS_ENABLED) return undefined;
    const usable = command.followUps.filter((followUp) => this.commands.has(followUp.command));
    if (usable.length === 0) return undefined;
    const key = this.heldInputs.hold(command.name, options);
    const row = key ? followUpRow(usable, this.commands, key) : undefined;
    return row ? [row] : undefined;
  }

  private async reply(
    responder: Responder,
    result: RichReply,
    delivery: DeliveryOptions,
    components?: ResponsePayload['components'],
  ): Promise<void> {
    const payload: ResponsePayload = {
      ...(components ? { components } : {}),
      content: '',
      embeds: toDiscordEmbeds(result.embeds),
      files: result.files.map((file) => ({ attachment: file.data, name: file.name })),
      allowedMentions: NO_MENTIONS,
    };
    await deliver(() => responder.edit(payload), delivery);
  }

  /** Errors are ephemeral: replace the public "thinking…" with a private message. */
  private async fail(responder: Responder, message: string, delivery: DeliveryOptions): Promise<void> {
    const content = clip(`⚠️ ${message}`, LIMITS.content);
    await deliver(() => responder.remove(), delivery).catch(() => undefined);
    await deliver(() => responder.followUp({ content, ephemeral: true, allowedMentions: NO_MENTIONS }), delivery);
  }
}
