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
import { describeError, isUserFacing } from '../util/errors.js';
import { LIMITS, clip, toDiscordEmbeds } from './limits.js';
import { runCommand } from '../command/run.js';
import type { DownloadPolicy } from './attachments.js';
import { FairUse } from './fair-use.js';
import { chatInputOptions, messageOptions } from './options.js';

type CommandInteraction = ChatInputCommandInteraction | MessageContextMenuCommandInteraction;

const NO_MENTIONS = { parse: [] as never[] };
const PROGRESS_INTERVAL_MS = 1500;

/**
 * Turns interactions into command runs: fair-use checks, defer within Discord's 3 s, option
 * resolution, the command, the reply; and the one error boundary that shows expected failures
 * to the user ephemerally and logs everything else.
 */
export class Router {
  private readonly fairUse: FairUse;
  private readonly inFlight = new Set<Promise<void>>();
  private accepting = true;
  readonly policy: DownloadPolicy;

  constructor(
    private readonly commands: ReadonlyMap<string, Command>,
    private readonly services: Services,
  ) {
    const { config } = services;
    this.fairUse = new FairUse(config.COOLDOWN_SECONDS * 1000, config.GUILD_MAX_IN_FLIGHT);
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

  /** Entry point for every interaction; never throws. */
  handle(interaction: Interaction): void {
    if (interaction.isAutocomplete()) {
      void this.autocomplete(interaction);
      return;
    }
    if (!interaction.isChatInputCommand() && !interaction.isMessageContextMenuCommand()) return;
    const task = this.run(interaction).catch((error: unknown) =>
      this.services.logger.error({ err: error }, 'interaction handler failed'),
    );
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
  }

  /** Stops taking new work and waits (up to `timeoutMs`) for requests in flight. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.accepting = false;
    const all = Promise.all([...this.inFlight]).then(() => true);
    const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
    return Promise.race([all, timeout]);
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

  private async run(interaction: CommandInteraction): Promise<void> {
    const started = performance.now();
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
    const wait = this.fairUse.cooldown(interaction.user.id, command.name);
    if (wait > 0) {
      metrics.requests.inc({ command: command.name, outcome: 'cooldown' });
      await this.rejectEphemeral(interaction, `Slow down a little: you can use /${command.name} again in ${wait} s.`);
      return;
    }
    if (this.services.engine.queueDepth() >= this.services.config.QUEUE_MAX) {
      metrics.requests.inc({ command: command.name, outcome: 'busy' });
      await this.rejectEphemeral(interaction, 'I am at capacity right now; please try again in a few seconds.');
      return;
    }
    const guild = interaction.guildId ?? `dm:${interaction.user.id}`;
    if (!this.fairUse.acquire(guild)) {
      metrics.requests.inc({ command: command.name, outcome: 'busy' });
      await this.rejectEphemeral(
        interaction,
        `This server already has ${this.services.config.GUILD_MAX_IN_FLIGHT} requests running; please try again in a few seconds.`,
      );
      return;
    }
    let finished = false;
    try {
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
      const raw = interaction.isChatInputCommand()
        ? await chatInputOptions(interaction, this.policy)
        : await messageOptions(command, interaction, this.policy);
      const report = await runCommand(command, raw, this.services, progress, requestId);
      const reply = await command.toEmbeds(report);
      finished = true;
      await this.reply(interaction, reply);
      metrics.requests.inc({ command: command.name, outcome: 'ok' });
      log.info({ ms: Math.round(performance.now() - started) }, 'command answered');
    } catch (error) {
      finished = true;
      const userFacing = isUserFacing(error);
      metrics.requests.inc({ command: command.name, outcome: 'error' });
      metrics.errors.inc({ command: command.name, kind: userFacing ? 'user' : 'internal' });
      if (userFacing) log.info({ code: error.code, reason: error.message }, 'command refused');
      else log.error({ err: error }, 'command failed');
      const message = userFacing
        ? error.message
        : `Something went wrong on my side (${describeError(error).slice(0, 120)}). It has been logged; please try again.`;
      await this.fail(interaction, message).catch((replyError: unknown) =>
        log.warn({ err: replyError }, 'could not send the error reply'),
      );
    } finally {
      this.fairUse.release(guild);
      metrics.commandSeconds.observe({ command: command.name }, (performance.now() - started) / 1000);
    }
  }

  private async reply(interaction: CommandInteraction, result: RichReply): Promise<void> {
    await interaction.editReply({
      content: '',
      embeds: toDiscordEmbeds(result.embeds),
      files: result.files.map((file) => ({ attachment: file.data, name: file.name })),
      allowedMentions: NO_MENTIONS,
    });
  }

  /** Errors are ephemeral: replace the public "thinking…" with a private message. */
  private async fail(interaction: CommandInteraction, message: string): Promise<void> {
    const content = clip(`⚠️ ${message}`, LIMITS.content);
    if (!interaction.deferred && !interaction.replied) {
      await interaction.reply({ content, flags: MessageFlags.Ephemeral, allowedMentions: NO_MENTIONS });
      return;
    }
    await interaction.deleteReply().catch(() => undefined);
    await interaction.followUp({ content, flags: MessageFlags.Ephemeral, allowedMentions: NO_MENTIONS });
  }
}
