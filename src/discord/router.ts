import { randomUUID } from 'node:crypto';
import {
  MessageFlags,
  type AutocompleteInteraction,
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
import { chatInputOptions, messageOptions } from './options.js';

type CommandInteraction = ChatInputCommandInteraction | MessageContextMenuCommandInteraction;

const NO_MENTIONS = { parse: [] as never[] };
const PROGRESS_INTERVAL_MS = 1500;
/** Part of the drain timeout kept for telling the users of unfinished requests to run them again. */
const NOTICE_RESERVE_MS = 2000;
export const RESTART_MESSAGE = "I'm restarting — please run the command again in a minute.";
/** What a request is assumed to cost at the models until its command has been measured. */
const DEFAULT_COST_MS = 100;
/** Errors about what the user sent: an answer to their request, which their cooldown counts. */
const ANSWER_KINDS: ReadonlySet<ErrorKind> = new Set(['input', 'usage', 'image']);

/**
 * How a request ended. Only an answered one (its result, or an error about the user's own
 * input, delivered) starts the user's cooldown.
 */
type Outcome = 'answered' | 'refused' | 'failed' | 'interrupted';

/** What a shutdown's drain did. */
export interface DrainReport {
  /** Every request in flight finished on its own within the grace period. */
  drained: boolean;
  /** Requests stopped at the end of the grace period, whose users were asked to run them again. */
  interrupted: number;
  /** Requests still unsettled when the drain timed out (their notice could not be delivered in time). */
  unsettled: number;
}

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

  constructor(
    private readonly commands: ReadonlyMap<string, Command>,
    private readonly services: Services,
    options: { clock?: RetryClock } = {},
  ) {
    const { config } = services;
    this.clock = options.clock ?? systemClock;
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
    if (!interaction.isChatInputCommand() && !interaction.isMessageContextMenuCommand()) return Promise.resolve();
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

  private async run(interaction: CommandInteraction, stop: AbortSignal): Promise<void> {
    const started = performance.now();
    const receivedAt = this.clock.now();
    const requestId = randomUUID();
    const log = this.services.logger.child({
      requestId,
      command: interaction.commandName,
      user: interaction.user.id,
      guild: interaction.guildId,
    });
    const { metrics } = this.services;
    const command = this.commands.get(interaction.commandName);
    if (!command) {
      await this.rejectEphemeral(
        interaction,
        'I do not know that command any more; it may have been removed. Try `/help`.',
      );
      return;
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
      outcome = await this.serve(interaction, command, { requestId, log, stop, started, receivedAt });
    } finally {
      if (outcome !== 'answered') cooldown.withdraw();
      metrics.commandSeconds.observe({ command: command.name }, (performance.now() - started) / 1000);
    }
  }

  /** Capacity checks, then the command and its reply (or its error); says how the request ended. */
  private async serve(
    interaction: CommandInteraction,
    command: Command,
    request: { requestId: string; log: Logger; stop: AbortSignal; started: number; receivedAt: number },
  ): Promise<Outcome> {
    const { metrics } = this.services;
    const { log, stop } = request;
    const guild = interaction.guildId ?? `dm:${interaction.user.id}`;
    const delivery: DeliveryOptions = {
      deadline: replyDeadline(interaction.createdTimestamp, request.receivedAt),
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
    let finished = false;
    let release: (() => void) | undefined;
    try {
      // Acknowledged first, within Discord's 3 s, even when the request then waits its turn.
      await interaction.deferReply();
      let lastProgress = 0;
      const progress = (text: string): void => {
        const now = Date.now();
        if (finished || now - lastProgress < PROGRESS_INTERVAL_MS) return;
        lastProgress = now;
        void interaction
          .editReply({ content: clip(`⏳ ${text}`, LIMITS.content), allowedMentions: NO_MENTIONS })
          .catch(() => undefined);
      };
      if (command.usesModels) {
        release = await this.scheduler.turn(
          { guild, user: interaction.user.id, kind: command.name },
          (notice) => progress(waitingLine(notice)),
          stop,
        );
      }
      const raw = await unlessAborted(
        interaction.isChatInputCommand()
          ? chatInputOptions(interaction, this.policy)
          : messageOptions(command, interaction, this.policy),
        stop,
      );
      const report = await unlessAborted(runCommand(command, raw, this.services, progress, request.requestId), stop);
      const reply = await unlessAborted(Promise.resolve(command.toEmbeds(report)), stop);
      // The models are free for the next request while the reply travels (and is retried).
      release?.();
      finished = true;
      // Computed once: a reply Discord does not take at first is sent again as it is.
      await this.reply(interaction, reply, delivery);
      metrics.requests.inc({ command: command.name, outcome: 'ok' });
      log.info({ ms: Math.round(performance.now() - request.started) }, 'command answered');
      return 'answered';
    } catch (error) {
      finished = true;
      if (stop.aborted) {
        metrics.requests.inc({ command: command.name, outcome: 'interrupted' });
        log.info({ reason: describeError(error) }, 'request interrupted by shutdown; asking the user to run it again');
        await this.fail(interaction, RESTART_MESSAGE, delivery).catch((replyError: unknown) =>
          log.warn({ err: replyError }, 'could not send the restart notice'),
        );
        return 'interrupted';
      }
      const userFacing = isUserFacing(error);
      if (userFacing && error.kind === 'capacity') {
        metrics.requests.inc({ command: command.name, outcome: 'busy' });
        log.info({ code: error.code, reason: error.message }, 'request refused: no room to wait');
        await this.fail(interaction, error.message, delivery).catch((replyError: unknown) =>
          log.warn({ err: replyError }, 'could not send the refusal'),
        );
        return 'refused';
      }
      metrics.requests.inc({ command: command.name, outcome: 'error' });
      metrics.errors.inc({ command: command.name, kind: userFacing ? 'user' : 'internal' });
      if (userFacing) log.info({ code: error.code, reason: error.message }, 'command refused');
      else log.error({ err: error }, 'command failed');
      // An internal error's text can hold paths or provider bodies: it stays in the log.
      const message = userFacing
        ? error.message
        : `Something went wrong on my side. It has been logged (request ${request.requestId}); please try again.`;
      const delivered = await this.fail(interaction, message, delivery).then(
        () => true,
        (replyError: unknown) => {
          log.warn({ err: replyError }, 'could not send the error reply');
          return false;
        },
      );
      return delivered && userFacing && ANSWER_KINDS.has(error.kind) ? 'answered' : 'failed';
    } finally {
      release?.();
    }
  }

  private async reply(interaction: CommandInteraction, result: RichReply, delivery: DeliveryOptions): Promise<void> {
    const payload = {
      content: '',
      embeds: toDiscordEmbeds(result.embeds),
      files: result.files.map((file) => ({ attachment: file.data, name: file.name })),
      allowedMentions: NO_MENTIONS,
    };
    await deliver(() => interaction.editReply(payload), delivery);
  }

  /** Errors are ephemeral: replace the public "thinking…" with a private message. */
  private async fail(interaction: CommandInteraction, message: string, delivery: DeliveryOptions): Promise<void> {
    const content = clip(`⚠️ ${message}`, LIMITS.content);
    if (!interaction.deferred && !interaction.replied) {
      await interaction.reply({ content, flags: MessageFlags.Ephemeral, allowedMentions: NO_MENTIONS });
      return;
    }
    await deliver(() => interaction.deleteReply(), delivery).catch(() => undefined);
    await deliver(
      () => interaction.followUp({ content, flags: MessageFlags.Ephemeral, allowedMentions: NO_MENTIONS }),
      delivery,
    );
  }
}
