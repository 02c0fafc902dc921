import { randomUUID } from 'node:crypto';
import { TextInputStyle, type AutocompleteInteraction, type Interaction } from 'discord.js';
import type { Services } from '../app.js';
import type { Command, MessageCommand, RichReply } from '../command/definition.js';
import type { ServerSettings } from '../server-data/settings.js';
import { describeError, isUserFacing, type ErrorKind } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { LIMITS, clip, toDiscordEmbeds } from './limits.js';
import { runCommand } from '../command/run.js';
import type { DownloadPolicy } from './attachments.js';
import { deliver, replyDeadline, systemClock, type DeliveryOptions, type RetryClock } from './delivery.js';
import { ProgressLine } from './progress.js';
import { FairUse } from './fair-use.js';
import { FairScheduler, type WaitNotice } from './scheduler.js';
import { resolveOptions } from './options.js';
import type { Responder, ResponsePayload } from './responder.js';
import { ANSWER_FIELD, gatewayArrival, toRecord, type Arrival } from './arrival.js';
import {
  HeldInputs,
  buttonId,
  earlierRunMessage,
  followUpOptions,
  followUpRow,
  heldPressCommand,
  heldPressName,
  messageLink,
  offersFollowUp,
  parseButton,
  type FollowUpClaim,
  type FollowUpRun,
} from './buttons.js';
import type { InteractionJournal } from '../journal/journal.js';
import { parseQuizButton, type QuizButton } from '../quiz/ids.js';
import type { AnswerOutcome } from '../quiz/store.js';
import { ButtonStyle, ComponentType, type APIButtonComponent } from 'discord-api-types/v10';
import type { JournaledInteraction, JournaledOptions } from '../journal/entry.js';
import type { JobIntake } from '../queue/queue.js';
import type { QueuedJob } from '../queue/job.js';

/** A context menu's question (a modal): its custom_id names only the key of the input held for it. */
const MODAL_ID = /^sr1m:([A-Za-z0-9_-]{16})$/;

const NO_MENTIONS = { parse: [] as never[] };
const PROGRESS_INTERVAL_MS = 1500;
/** Part of the drain timeout kept for telling the users of unfinished requests to run them again. */
const NOTICE_RESERVE_MS = 2000;
export const RESTART_MESSAGE = "I'm restarting — please run the command again in a minute.";
/** What a button press cut off by a restart says: its input was held in memory only, so it cannot be run again. */
export const heldPressLostMessage = (command: string, when: 'restarting' | 'restarted'): string =>
  `${when === 'restarting' ? "I'm restarting" : 'I restarted'} while running /${command} from a button. ` +
  'The image or text behind buttons is kept in memory only, never written to disk, so it does not survive a ' +
  'restart: run the command again in a minute for new buttons.';
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

/** Options already in hand (a button's held input, or a submitted form's), and whether to journal them. */
interface Prepared {
  options: JournaledOptions;
  /**
   * False for a button press: its input stays in memory, as promised, so the journal records the
   * press without it (`heldPressName`), and a restart can tell its user that it is gone.
   */
  journal: boolean;
  /** Told when the answer is public, with what Discord returned for it (a button's run, shared with later presses). */
  onAnswered?: (sent: unknown) => void;
}

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
  /** The member had Manage Server when the interaction arrived. */
  canManageServer: boolean;
  channelId: string | null;
  /** The interaction's application id and token: what a command that edits its reply later keeps. */
  reply: { applicationId: string; token: string };
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
  /**
   * A live request whose first response has not gone out yet: `take()` makes the answer (or the
   * error) the first response, if it is still possible (true), and `reply` sends it. Absent for
   * a request already acknowledged (resumed after a restart).
   */
  inline?: {
    take(): boolean;
    reply(payload: ResponsePayload, ephemeral: boolean): Promise<unknown>;
  };
  /** Told when the answer is public, with the message Discord returned for it (when the transport has it). */
  onAnswered?: (sent: unknown) => void;
  /** False when its journal row holds no input to run it again from (a button press): a shutdown cannot leave it for the next start. */
  resumable: boolean;
}

/**
 * An interaction's first response, decided once. Until `windowMs` has passed the answer may
 * still be ready in time to be the first response itself (`takeInline`); after that, `defer`
 * records the request and sends "thinking…", and the answer comes later as an edit.
 */
class FirstResponse {
  private state: 'open' | 'inline' | 'deferring' = 'open';
  private readonly window = new AbortController();
  /** Settles as Job.acknowledged does; false at once when the answer took the first response. */
  readonly acknowledged: Promise<boolean>;
  private settleInline: ((journaled: boolean) => void) | undefined;

  constructor(windowMs: number, clock: RetryClock, defer: () => Promise<boolean>) {
    const inline = new Promise<boolean>((resolve) => (this.settleInline = resolve));
    const deferred = (async (): Promise<boolean> => {
      if (windowMs > 0) await clock.sleep(windowMs, this.window.signal);
      if (this.state !== 'open') return inline;
      this.state = 'deferring';
      return defer();
    })();
    this.acknowledged = Promise.race([inline, deferred]);
  }

  /** True when the answer may be the first response (and from now on is); false once "thinking…" is on its way. */
  takeInline(): boolean {
    if (this.state !== 'open') return false;
    this.state = 'inline';
    this.window.abort();
    this.settleInline?.(false);
    return true;
  }
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

/** What a member who pressed a quiz answer sees, privately. */
export function quizAnswerMessage(outcome: AnswerOutcome, now: number): string {
  switch (outcome.status) {
    case 'recorded': {
      const seconds = Math.max(1, Math.ceil((outcome.deadline - now) / 1000));
      return `Your answer is in: ${outcome.label}. The answer is revealed when the round ends, in about ${seconds} s.`;
    }
    case 'already':
      return 'You already answered this round: one answer per member per round.';
    case 'ended':
      return 'This round has ended: answers are no longer taken. Start a new one with `/quiz`.';
    case 'unknown':
      return 'I do not know this quiz round here (it may be from another server, or deleted). Start a new one with `/quiz`.';
    case 'invalid_choice':
      return 'That is not one of this round’s answers.';
  }
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

  /** Entry point for every interaction from the gateway; never rejects, and settles once the interaction has been dealt with. */
  handle(interaction: Interaction): Promise<void> {
    if (interaction.isAutocomplete()) return this.autocomplete(interaction);
    if (
      !interaction.isChatInputCommand() &&
      !interaction.isMessageContextMenuCommand() &&
      !interaction.isButton() &&
      !interaction.isModalSubmit()
    )
      return Promise.resolve();
    return this.accept(gatewayArrival(interaction));
  }

  /**
   * Entry point for an interaction that runs a command, from any transport (the gateway, the
   * HTTP interactions endpoint); never rejects, and settles once it has been dealt with.
   */
  accept(arrival: Arrival): Promise<void> {
    const stop = new AbortController();
    const task = this.run(arrival, stop.signal).catch((error: unknown) =>
      this.services.logger.error({ err: error }, 'interaction handler failed'),
    );
    this.inFlight.set(task, stop);
    void task.finally(() => this.inFlight.delete(task));
    return task;
  }

  /** What autocomplete offers for an option as the user types (at most 25, clipped as Discord requires). */
  autocompleteChoices(commandName: string, option: string, typed: string): Array<{ name: string; value: string }> {
    const command = this.commands.get(commandName);
    const choices = command?.autocomplete?.(option, typed, this.services) ?? [];
    return choices.slice(0, 25).map((choice) => ({ name: clip(choice.name, 100), value: clip(choice.value, 100) }));
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
    const focused = interaction.options.getFocused(true);
    try {
      await interaction.respond(this.autocompleteChoices(interaction.commandName, focused.name, String(focused.value)));
    } catch (error) {
      this.services.logger.warn({ err: error, command: interaction.commandName }, 'autocomplete failed');
    }
  }

  private async rejectEphemeral(arrival: Arrival, content: string): Promise<void> {
    await arrival.reply({ content: clip(content, LIMITS.content), allowedMentions: NO_MENTIONS }, true);
  }

  /** A custom_id that is not one of this bot's buttons (forged, stale, or naming another command): refused privately. */
  private async refuseButton(arrival: Arrival, customId: string, log: Logger): Promise<void> {
    log.info({ customId: customId.slice(0, 100) }, 'refused a button that is not ours');
    await this.rejectEphemeral(
      arrival,
      'That button is not one I know (it may be from an older version of me). Run the command again for new buttons.',
    );
  }

  private requestLog(requestId: string, command: string, user: string, guild: string | null, interactionId: string) {
    return this.services.logger.child({ requestId, command, user, guild, interactionId });
  }

  private async run(arrival: Arrival, stop: AbortSignal): Promise<void> {
    // A quiz answer is not a command run: recorded and acknowledged privately at once.
    const quizAnswer = arrival.target.kind === 'button' ? parseQuizButton(arrival.target.customId) : undefined;
    if (quizAnswer) return this.answerQuiz(arrival, quizAnswer);
    const started = performance.now();
    const receivedAt = this.clock.now();
    const requestId = randomUUID();
    const { target } = arrival;
    const button = target.kind === 'button' ? parseButton(target.customId) : undefined;
    // A submitted form runs the context menu that asked it, on the input held for it.
    const form = target.kind === 'form' ? MODAL_ID.exec(target.customId)?.[1] : undefined;
    const formInput = form === undefined ? undefined : this.heldInputs.get(form);
    const name =
      target.kind === 'button'
        ? (button?.command ?? 'button')
        : target.kind === 'form'
          ? (formInput?.source ?? 'form')
          : target.name;
    const log = this.requestLog(requestId, name, arrival.userId, arrival.guildId, arrival.id);
    const { metrics } = this.services;
    const command = this.commands.get(name);
    if (target.kind === 'form' && (!formInput || command?.kind !== 'message' || !command.ask)) {
      log.info({ customId: target.customId.slice(0, 100) }, 'refused a form whose input is gone');
      await this.rejectEphemeral(
        arrival,
        'This form has expired: I keep the image behind it for 15 minutes, and not across a restart. ' +
          'Use the menu on the message again.',
      );
      return;
    }
    if (target.kind === 'button' && (!button || command?.kind !== 'slash'))
      return this.refuseButton(arrival, target.customId, log);
    if (!command) {
      await this.rejectEphemeral(
        arrival,
        'I do not know that command any more; it may have been removed. Try `/help`.',
      );
      return;
    }
    // A button runs on the input of the reply it sits under, held in memory for a while only.
    let prepared: Prepared | undefined;
    if (formInput && target.kind === 'form') {
      // The input the context menu read from its message, and the answer: journaled like a command's options.
      if (target.answer === undefined) {
        await this.rejectEphemeral(arrival, 'That form came back without its answer; use the menu again.');
        return;
      }
      prepared = { options: { ...formInput.options, answer: target.answer }, journal: true };
    }
    // The press that runs a button under its reply, once its own checks pass (see claimFollowUp).
    let followUp: FollowUpClaim | undefined;
    let pressed: { key: string; label: string } | undefined;
    if (button) {
      const held = this.heldInputs.get(button.key);
      const source = held ? this.commands.get(held.source) : undefined;
      // A real key under a custom_id naming a command its reply did not offer (/quiz, /classify…).
      if (held && !offersFollowUp(source, command.name))
        return this.refuseButton(arrival, buttonId(command.name, button.key), log);
      if (!held) {
        await this.rejectEphemeral(
          arrival,
          'This button has expired: I keep the input behind buttons for 15 minutes, and not across a restart. ' +
            'Run the command again for new buttons.',
        );
        return;
      }
      pressed = {
        key: button.key,
        label: source?.followUps?.find((offered) => offered.command === command.name)?.label ?? `/${command.name}`,
      };
      // One run per button per reply: a class pressing it together gets one answer, not thirty.
      const earlier = this.heldInputs.earlierRun(button.key, command.name);
      if (earlier) return this.pointToEarlierRun(arrival, command, pressed.label, earlier, log);
      prepared = {
        options: followUpOptions(command, held),
        journal: false,
        onAnswered: (sent) => followUp?.answered(messageLink(arrival.guildId, arrival.channelId, sent)),
      };
    }
    try {
      if (!this.accepting) {
        await this.rejectEphemeral(arrival, 'I am restarting right now; please try again in a minute.');
        return;
      }
      // A context menu that asks first answers with its form at once: no work, no cooldown yet.
      if (target.kind === 'command' && command.kind === 'message' && command.ask) {
        await this.askFirst(arrival, command, log);
        return;
      }
      const settings = await this.settingsFor(arrival.guildId, log);
      const cooldown = this.fairUse.claim(arrival.userId, command.name, settings.cooldownSeconds * 1000);
      if (!cooldown.allowed) {
        metrics.requests.inc({ command: command.name, outcome: 'cooldown' });
        await this.rejectEphemeral(
          arrival,
          `Slow down a little: you can use /${command.name} again in ${cooldown.waitSeconds} s.`,
        );
        return;
      }
      if (pressed) {
        // Claimed only now, when it will run: a press refused above never makes others wait on it.
        const claimed = this.heldInputs.claimFollowUp(pressed.key, command.name, arrival.userId, arrival.id);
        if ('earlier' in claimed) {
          cooldown.withdraw();
          return this.pointToEarlierRun(arrival, command, pressed.label, claimed.earlier, log);
        }
        followUp = claimed.claim;
      }
      let outcome: Outcome = 'failed';
      try {
        outcome = await this.intake(arrival, command, prepared, { requestId, log, stop, started, receivedAt });
      } finally {
        if (outcome !== 'answered') cooldown.withdraw();
        metrics.commandSeconds.observe({ command: command.name }, (performance.now() - started) / 1000);
      }
    } finally {
      // Ended without a public answer (refused, failed, restarting): the next press runs it.
      followUp?.release();
    }
  }

  /** A press of a button already run (or running) under its reply: told privately where the answer is. */
  private async pointToEarlierRun(
    arrival: Arrival,
    command: Command,
    label: string,
    earlier: FollowUpRun,
    log: Logger,
  ): Promise<void> {
    if (earlier.interactionId === arrival.id) {
      log.info('button press delivered twice: answered by its first delivery');
      return;
    }
    log.info({ state: earlier.state }, 'button already pressed under this reply: pointed to its answer');
    this.services.metrics.requests.inc({ command: command.name, outcome: 'shared' });
    await this.rejectEphemeral(arrival, earlierRunMessage(label, earlier, arrival.userId));
  }

  /**
   * A live interaction, before any work: its options as references (a context menu's target
   * message read now), then its first response. The work starts at once. An answer ready within
   * INLINE_ANSWER_MS is the first response itself: nothing is left to lose, so nothing is
   * journaled. Otherwise the request is recorded in the journal, then acknowledged ("thinking…"),
   * and answered by editing that reply.
   */
  private async intake(
    arrival: Arrival,
    command: Command,
    prepared: Prepared | undefined,
    request: { requestId: string; log: Logger; stop: AbortSignal; started: number; receivedAt: number },
  ): Promise<Outcome> {
    const { log } = request;
    let options: JournaledOptions;
    try {
      options = prepared ? prepared.options : arrival.options(command);
    } catch (error) {
      if (!isUserFacing(error)) throw error;
      // Nothing to run (a context menu on a message without an image or text): answered at once, privately.
      log.info({ code: error.code, reason: error.message }, 'command refused');
      await this.rejectEphemeral(arrival, `⚠️ ${error.message}`);
      return 'answered';
    }
    // The one seam between the two transports: the job itself runs in serve() either way.
    if (this.queue) {
      // Replies that go through the queue carry no buttons (worker.ts); a press that reaches one
      // anyway is refused: its job would carry the input behind it into Redis.
      if (prepared && !prepared.journal) {
        await this.rejectEphemeral(arrival, 'That button cannot run here; run the command again.');
        return 'refused';
      }
      return this.enqueue(this.queue, arrival, command, options, request);
    }
    // Held open only for what may be ready in time: a command whose runs at the models have
    // taken longer than the window (a /classify on CPU) is recorded and acknowledged at once, so
    // the journal's write overlaps its download, not its inference.
    const { INLINE_ANSWER_MS } = this.services.config;
    const expectedMs = command.usesModels ? this.scheduler.costOf(command.name) : 0;
    const windowMs = arrival.answersInline && expectedMs < INLINE_ANSWER_MS ? INLINE_ANSWER_MS : 0;
    const first = new FirstResponse(windowMs, this.clock, async (): Promise<boolean> => {
      // A button's input stays in memory, as promised: its press is journaled without it.
      const journaled = await this.record(arrival, command, prepared && !prepared.journal ? undefined : options, log);
      if (journaled === 'duplicate') throw new NotAcknowledged('already recorded: answered elsewhere');
      try {
        await arrival.defer();
      } catch (error) {
        log.warn({ err: error }, 'could not acknowledge the interaction');
        if (journaled === 'recorded') await this.finishJournal(arrival.id, 'failed', log, 'not acknowledged');
        throw new NotAcknowledged('the acknowledgement failed', { cause: error });
      }
      return journaled === 'recorded';
    });
    return this.serve({
      ...request,
      id: arrival.id,
      command,
      userId: arrival.userId,
      guildId: arrival.guildId,
      canManageServer: arrival.canManageServer,
      channelId: arrival.channelId,
      reply: { applicationId: arrival.applicationId, token: arrival.token },
      options,
      responder: arrival.responder,
      deadline: replyDeadline(arrival.createdTimestamp, request.receivedAt),
      acknowledged: first.acknowledged,
      inline: {
        take: () => first.takeInline(),
        reply: (payload, ephemeral) => arrival.reply(payload, ephemeral),
      },
      onAnswered: prepared?.onAnswered,
      resumable: !prepared || prepared.journal,
    });
  }

  /**
   * With a job queue: durable in Redis before the acknowledgement, runnable only after it (so a
   * worker never edits a reply Discord does not have yet). Redis that cannot take the job within
   * a second: the user is told privately to try again, and nothing else is acknowledged.
   */
  private async enqueue(
    queue: JobIntake,
    arrival: Arrival,
    command: Command,
    options: JournaledOptions,
    request: { log: Logger; receivedAt: number },
  ): Promise<Outcome> {
    const { log } = request;
    const { metrics } = this.services;
    const queued = await queue
      .enqueue({ ...toRecord(arrival, command.name, options), receivedAt: request.receivedAt })
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
      await this.rejectEphemeral(arrival, QUEUE_BUSY_MESSAGE);
      return 'refused';
    }
    try {
      await arrival.defer();
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
      // Its journaled (or queued) options run it again.
      resumable: true,
      log,
      stop,
      started,
      receivedAt: job.receivedAt,
      command,
      userId: job.userId,
      guildId: job.guildId,
      canManageServer: job.canManageServer,
      channelId: job.channelId,
      reply: { applicationId: job.applicationId, token: job.token },
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
   * Without `options`, a button press: recorded under `heldPressName`, its input written nowhere.
   */
  private async record(
    arrival: Arrival,
    command: Command,
    options: JournaledOptions | undefined,
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
    const recording = journal.record(
      options ? toRecord(arrival, command.name, options) : toRecord(arrival, heldPressName(command.name), {}),
    );
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
        (inserted) => inserted && journal.markFailed(arrival.id, 'recorded too late; answered without the journal'),
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
    const heldCommand = heldPressCommand(entry.commandName);
    if (heldCommand !== undefined) {
      // Nothing to run it again from: the image or text behind a button is never written down.
      await this.fail(responder, heldPressLostMessage(heldCommand, 'restarted'), delivery).catch((error: unknown) =>
        log.warn({ err: error }, 'could not tell the user their button press was lost'),
      );
      await this.finishJournal(
        entry.id,
        'failed',
        log,
        'a button press cut off by a restart: its input was in memory only',
      );
      return;
    }
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
      // Its journaled (or queued) options run it again.
      resumable: true,
      log,
      stop,
      started,
      receivedAt: created,
      command,
      userId: entry.userId,
      guildId: entry.guildId,
      canManageServer: entry.canManageServer,
      channelId: entry.channelId,
      reply: { applicationId: entry.applicationId, token: entry.token },
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
    const heldCommand = heldPressCommand(entry.commandName);
    await this.fail(
      responder,
      heldCommand !== undefined
        ? heldPressLostMessage(heldCommand, 'restarted')
        : `I could not answer this /${entry.commandName}: I stopped while working on it ${entry.attempts} times. ` +
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
    const progress = new ProgressLine(
      (text) => responder.edit({ content: clip(`⏳ ${text}`, LIMITS.content), allowedMentions: NO_MENTIONS }),
      this.clock,
      PROGRESS_INTERVAL_MS,
    );
    let release: (() => void) | undefined;
    let journaled = false;
    let inlineTaken = false;
    let renewal: AbortController | undefined;
    // Work stops when the shutdown says so, or when the request turns out not to be ours to answer.
    const unacknowledged = new AbortController();
    const signal = AbortSignal.any([stop, unacknowledged.signal]);
    const acknowledged = job.acknowledged.then(
      (recorded) => {
        journaled = recorded;
        // A request that waits long in the queue keeps its claim on the journal row.
        if (recorded && this.journal) renewal = this.keepClaim(job.id, log);
        // An answer sent as the first response left no "thinking…" to edit.
        if (!inlineTaken) progress.acknowledged();
      },
      (error: unknown) => {
        unacknowledged.abort(error);
        throw error;
      },
    );
    acknowledged.catch(() => undefined);
    const say = (text: string): void => progress.say(text);
    try {
      if (command.usesModels) {
        release = await this.scheduler.turn(
          { guild, user: job.userId, kind: command.name },
          (notice) => say(waitingLine(notice)),
          signal,
        );
      }
      const raw = await unlessAborted(resolveOptions(job.options, this.policy), signal);
      const report = await unlessAborted(
        runCommand(command, raw, this.services, say, job.requestId, {
          guildId: job.guildId ?? undefined,
          userId: job.userId,
          canManageServer: job.canManageServer,
          channelId: job.channelId ?? undefined,
          reply: job.reply,
        }),
        signal,
      );
      const reply = await unlessAborted(Promise.resolve(command.toEmbeds(report)), signal);
      // The models are free for the next request while the reply travels (and is retried).
      release?.();
      // Computed once: a reply Discord does not take at first is sent again as it is.
      const { buttons } = await this.settingsFor(job.guildId, log);
      const payload = this.answerPayload(
        reply,
        this.answerButtons(command, report) ?? (buttons ? this.followUpButtons(command, job.options) : undefined),
      );
      if (job.inline?.take()) {
        // Ready before "thinking…" went out: the answer is the first response, and unjournaled.
        inlineTaken = true;
        await progress.finish();
        // Sent first, then told: `onAnswered?.(await …)` would skip the send when nobody listens.
        const sent = await deliver(() => job.inline!.reply(payload, false), delivery);
        job.onAnswered?.(sent);
        metrics.requests.inc({ command: command.name, outcome: 'ok' });
        log.info({ ms: Math.round(performance.now() - job.started), inline: true }, 'command answered');
        return 'answered';
      }
      // No line after this point: one held for the acknowledgement would only delay the answer.
      await progress.finish();
      await unlessAborted(acknowledged, signal);
      const sent = await deliver(() => responder.edit(payload), delivery);
      job.onAnswered?.(sent);
      metrics.requests.inc({ command: command.name, outcome: 'ok' });
      log.info({ ms: Math.round(performance.now() - job.started) }, 'command answered');
      if (journaled) await this.finishJournal(job.id, 'done', log);
      return 'answered';
    } catch (error) {
      await progress.finish();
      // The first response was the answer, and Discord did not take it: nothing more can be sent.
      if (inlineTaken) {
        log.warn({ err: error }, 'could not send the answer as the first response');
        return 'failed';
      }
      // An error ready before "thinking…" went out is the first response, privately.
      const first = job.inline?.take() ? job.inline : undefined;
      const tell = (message: string): Promise<unknown> =>
        first
          ? deliver(
              () => first.reply({ content: clip(`⚠️ ${message}`, LIMITS.content), allowedMentions: NO_MENTIONS }, true),
              delivery,
            )
          : this.fail(responder, message, delivery);
      // Nothing can be said to the user without the acknowledgement (it was logged where it failed).
      if (!first && unacknowledged.signal.aborted) return 'failed';
      const ours = first
        ? true
        : await acknowledged.then(
            () => true,
            () => false,
          );
      if (!ours) return 'failed';
      if (stop.aborted) {
        metrics.requests.inc({ command: command.name, outcome: 'interrupted' });
        if (journaled && job.resumable) {
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
        await tell(!job.resumable ? heldPressLostMessage(command.name, 'restarting') : RESTART_MESSAGE).catch(
          (replyError: unknown) => log.warn({ err: replyError }, 'could not send the restart notice'),
        );
        if (journaled) await this.finishJournal(job.id, 'failed', log, 'a button press cut off by a shutdown');
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
      const delivered = await tell(message).then(
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

  /**
   * A server's settings for a request (its cooldown, its buttons); the defaults when they cannot
   * be read, so that a database hiccup never refuses a request.
   */
  private async settingsFor(guildId: string | null, log: Logger): Promise<ServerSettings> {
    try {
      return await this.services.settings.effective(guildId ?? undefined);
    } catch (error) {
      log.warn({ err: error }, "could not read the server's settings; using the defaults");
      return this.services.settings.defaults;
    }
  }

  /**
   * A context menu that needs an answer first (Teach this image: which class?): the message's
   * input is held in memory like a button's, and the member gets a form whose custom_id names
   * only its key. The submitted form runs the command (see `run`).
   */
  private async askFirst(arrival: Arrival, command: MessageCommand, log: Logger): Promise<void> {
    const question = command.ask!;
    let options: JournaledOptions;
    try {
      options = arrival.options(command);
    } catch (error) {
      if (!isUserFacing(error)) throw error;
      log.info({ code: error.code, reason: error.message }, 'command refused');
      await this.rejectEphemeral(arrival, `⚠️ ${error.message}`);
      return;
    }
    const key = this.heldInputs.hold(command.name, options);
    if (!key) throw new Error('a context menu input that cannot be held');
    await arrival.showModal({
      custom_id: `sr1m:${key}`,
      title: clip(question.title, 45),
      components: [
        {
          type: ComponentType.ActionRow,
          components: [
            {
              type: ComponentType.TextInput,
              custom_id: ANSWER_FIELD,
              style: TextInputStyle.Short,
              label: clip(question.label, 45),
              min_length: 1,
              max_length: question.maxLength,
              required: true,
              ...(question.placeholder ? { placeholder: clip(question.placeholder, 100) } : {}),
            },
          ],
        },
      ],
    });
    log.info('asked a question before running the command');
  }

  /** A command's own buttons under this report's reply (quiz answers), or undefined for none. */
  private answerButtons(command: Command, report: unknown): ResponsePayload['components'] {
    const buttons = command.answerButtons?.(report as never);
    if (!buttons?.length) return undefined;
    const components = buttons.slice(0, 5).map((button): APIButtonComponent => ({
      type: ComponentType.Button,
      style: ButtonStyle.Primary,
      label: clip(button.label, 80),
      custom_id: button.customId,
    }));
    return [{ type: ComponentType.ActionRow, components }];
  }

  /**
   * A press of a quiz answer button: one answer per member per round, taken only while the round
   * runs, in the server the round belongs to. Recorded, then acknowledged privately; nothing public.
   */
  private async answerQuiz(arrival: Arrival, press: QuizButton): Promise<void> {
    const log = this.requestLog(randomUUID(), 'quiz', arrival.userId, arrival.guildId, arrival.id);
    if (!arrival.guildId) {
      await this.rejectEphemeral(arrival, 'Quiz rounds belong to a server; this one is not here.');
      return;
    }
    let outcome: AnswerOutcome;
    try {
      outcome = await this.services.quiz.answer({
        roundId: press.round,
        guildId: arrival.guildId,
        userId: arrival.userId,
        choice: press.choice,
      });
    } catch (error) {
      if (isUserFacing(error)) {
        await this.rejectEphemeral(arrival, `⚠️ ${error.message}`);
        return;
      }
      log.error({ err: error }, 'could not record a quiz answer');
      await this.rejectEphemeral(arrival, 'I could not record your answer just now; please press again.');
      return;
    }
    log.info({ round: press.round, status: outcome.status }, 'quiz answer');
    await this.rejectEphemeral(arrival, quizAnswerMessage(outcome, this.clock.now()));
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

  /** The answer as Discord takes it, as a first response or as the edit of "thinking…". */
  private answerPayload(result: RichReply, components?: ResponsePayload['components']): ResponsePayload {
    return {
      ...(components ? { components } : {}),
      content: '',
      embeds: toDiscordEmbeds(result.embeds),
      files: result.files.map((file) => ({ attachment: file.data, name: file.name })),
      allowedMentions: NO_MENTIONS,
    };
  }

  /** Errors are ephemeral: replace the public "thinking…" with a private message. */
  private async fail(responder: Responder, message: string, delivery: DeliveryOptions): Promise<void> {
    const content = clip(`⚠️ ${message}`, LIMITS.content);
    await deliver(() => responder.remove(), delivery).catch(() => undefined);
    await deliver(() => responder.followUp({ content, ephemeral: true, allowedMentions: NO_MENTIONS }), delivery);
  }
}
