import type { Server } from 'node:http';
import { GatewayCloseCodes } from 'discord-api-types/v10';
import { Client, Events, GatewayIntentBits, type WebSocketShard } from 'discord.js';
import { startInteractionsEndpoint } from './interactions-endpoint.js';
import { discordPublicKey } from './signature.js';
import type { Services } from '../app.js';
import type { Command } from '../command/definition.js';
import type { Database } from '../journal/database.js';
import type { InteractionJournal } from '../journal/journal.js';
import { revealView } from '../quiz/service.js';
import type { RevealedRound } from '../quiz/store.js';
import { deliver } from './delivery.js';
import { startHealthServer } from './health.js';
import { toDiscordEmbeds } from './limits.js';
import { tokenResponder } from './responder.js';
import { Router } from './router.js';
import { queueGauges } from '../queue/gauges.js';
import type { JobQueue } from '../queue/queue.js';

/** How often the journal closes what ran out of time or attempts and purges what is past retention. */
const JOURNAL_CHORES_MS = 60_000;

/** The interaction journal and the database it lives in, when the bot keeps one. */
export interface BotJournal {
  journal: InteractionJournal;
  database: Database;
}

/** Close codes that are not Discord's own gateway codes (those are named by GatewayCloseCodes). */
const WEBSOCKET_CLOSE_NAMES: Readonly<Record<number, string>> = {
  1000: 'normal closure',
  1001: 'going away',
  1006: 'connection lost without a close frame',
  1011: 'server error',
  4200: 'closed by discord.js to resume',
};

function closeReason(code: number): string {
  return GatewayCloseCodes[code] ?? WEBSOCKET_CLOSE_NAMES[code] ?? 'unknown';
}

/**
 * The gateway bot: Guilds intent only (no privileged intents), one router for every command,
 * an optional health server, and a graceful shutdown that lets requests in flight finish.
 */
export class Bot {
  readonly client: Client;
  readonly router: Router;
  private health: Server | undefined;
  /** The HTTP interactions endpoint, when interactions come that way instead of through the gateway. */
  private endpoint: Server | undefined;
  private models: Record<string, string> | undefined;
  private stopping = false;
  private chores: NodeJS.Timeout | undefined;

  constructor(
    private readonly services: Services,
    commands: ReadonlyMap<string, Command>,
    private readonly journaling?: BotJournal,
    /** With REDIS_URL: a front end only; jobs go to this queue and the model workers answer them. */
    private readonly queue?: JobQueue,
  ) {
    this.client = new Client({
      intents: [GatewayIntentBits.Guilds],
      rest: {
        api: services.config.DISCORD_API_URL,
        // A 429 on the interaction webhooks (edits, follow-ups) is handed to the router's
        // retries (delivery.ts), which wait the Retry-After Discord asks for only while the
        // token lives and stop waiting on shutdown; left to discord.js, the request would sleep
        // inside REST, past both. Other routes keep discord.js's own handling.
        rejectOnRateLimit: (limit) => limit.route.startsWith('/webhooks/'),
      },
    });
    this.router = new Router(commands, services, {
      ...(journaling ? { journal: journaling.journal } : {}),
      ...(queue ? { queue } : {}),
    });
    this.client.on(Events.InteractionCreate, (interaction) => void this.router.handle(interaction));
    if (journaling) this.watchServers();
    // /quiz rounds live in the journal's database: without it, there are none to reveal.
    if (journaling) services.quiz.onReveal((round) => this.showReveal(round));
    this.client.on(Events.Error, (error) => services.logger.error({ err: error }, 'discord client error'));
    this.watchGateway();
  }

  /**
   * Servers the bot is removed from: the departure is recorded (in the database, so a restart
   * keeps it) and their data is deleted by the chores after FORGET_GRACE_HOURS; being invited
   * back, or finding the server still there at start-up, cancels it. A guild that is merely
   * unavailable (an outage) is not a departure: discord.js reports it as guildUnavailable, and
   * `available === false` is checked here too.
   */
  private watchServers(): void {
    const { logger } = this.services;
    this.client.on(Events.GuildDelete, (guild) => {
      if (!guild.available) return;
      void this.services.serverData.departed(guild.id, Date.now()).then(
        () =>
          logger.info(
            { guild: guild.id, graceHours: this.services.config.FORGET_GRACE_HOURS },
            "removed from a server; its data will be deleted after the grace period unless I'm invited back",
          ),
        (error: unknown) => logger.warn({ err: error, guild: guild.id }, 'could not record leaving a server'),
      );
    });
    const present = (guildIds: string[], why: string): void =>
      void this.services.serverData.present(guildIds).then(
        (cancelled) => {
          if (cancelled > 0) logger.info({ cancelled, why }, 'back in servers it had left: their data is kept');
        },
        (error: unknown) => logger.warn({ err: error }, 'could not cancel the deletion of servers the bot is in'),
      );
    this.client.on(Events.GuildCreate, (guild) => present([guild.id], 'invited back'));
    this.client.on(Events.ClientReady, (client) => present([...client.guilds.cache.keys()], 'start-up'));
  }

  /**
   * One log line and one count (sightread_gateway_events_total) for each change of a gateway
   * connection: interactions sent while it is down reach the bot late or never, so these are
   * what explains a gap in answers.
   */
  private watchGateway(): void {
    const { logger, metrics } = this.services;
    const count = (event: 'disconnect' | 'reconnecting' | 'resume' | 'invalidated'): void =>
      metrics.gatewayEvents.inc({ event });
    const watched = new WeakSet<WebSocketShard>();
    // Shards whose connection closed since their session started: if the next thing they
    // report is a new session (ready) rather than a resume, the old one was invalidated.
    const reconnecting = new Set<number>();
    this.client.on(Events.ShardReady, (shardId) => {
      // Only the shard itself reports the close code of a connection that will be resumed
      // (client-level shardDisconnect is emitted only for closes discord.js gives up on).
      const shard = this.client.ws.shards.get(shardId);
      if (shard && !watched.has(shard)) {
        watched.add(shard);
        shard.on('close', ({ code }) => {
          if (this.stopping) return;
          count('disconnect');
          const reason = closeReason(code);
          // A close during a reconnect is the same outage going on (a resume refused, a new
          // connection lost), not a new one.
          if (reconnecting.has(shardId))
            logger.info({ shardId, code, reason }, 'gateway connection closed again while reconnecting');
          else logger.warn({ shardId, code, reason }, 'gateway disconnected');
          reconnecting.add(shardId);
        });
      }
      if (reconnecting.delete(shardId)) {
        // Whatever Discord sent between the close and the new session (interactions included) is lost.
        count('invalidated');
        logger.warn({ shardId }, 'gateway session could not be resumed; started a new one');
      }
    });
    this.client.on(Events.ShardReconnecting, (shardId) => {
      if (this.stopping) return;
      count('reconnecting');
      logger.info({ shardId }, 'gateway reconnecting');
    });
    this.client.on(Events.ShardResume, (shardId, replayedEvents) => {
      reconnecting.delete(shardId);
      count('resume');
      logger.info({ shardId, replayedEvents }, 'gateway session resumed');
    });
    this.client.on(Events.ShardDisconnect, ({ code }, shardId) =>
      logger.error(
        { shardId, code, reason: closeReason(code) },
        'gateway disconnected for good: discord.js will not reconnect this shard',
      ),
    );
    this.client.on(Events.ShardError, (error, shardId) =>
      logger.warn({ shardId, err: error }, 'gateway connection error'),
    );
  }

  /** Whether answers can be sent: through the gateway's logged-in client, or (HTTP endpoint) through tokens alone. */
  private canReply(): boolean {
    return this.endpoint !== undefined || this.client.isReady();
  }

  /**
   * Starts receiving interactions: through the gateway (logging in with the bot token), or, with
   * INTERACTIONS_PORT, on the HTTP interactions endpoint (no gateway connection at all).
   */
  async start(token: string | undefined): Promise<void> {
    const { config, logger } = this.services;
    if (config.HEALTH_PORT) {
      this.health = await startHealthServer(
        config.HEALTH_PORT,
        this.services,
        {
          loggedIn: () => this.canReply(),
          // A front end on a queue has no models of its own to wait for.
          models: () => (this.models ? (this.queue ? {} : this.services.modelStatus()) : undefined),
          journal: () => (this.journaling ? this.journaling.journal.ready() : undefined),
          ...(this.queue
            ? { queue: () => this.queue?.ready(), gauges: () => queueGauges(() => this.queue!.stats()) }
            : {}),
        },
        () => this.router.pending,
      );
      logger.info({ port: config.HEALTH_PORT }, 'health server listening');
    }
    if (config.INTERACTIONS_PORT !== undefined && config.DISCORD_PUBLIC_KEY) {
      this.endpoint = await startInteractionsEndpoint({
        port: config.INTERACTIONS_PORT,
        host: config.INTERACTIONS_HOST,
        publicKey: discordPublicKey(config.DISCORD_PUBLIC_KEY),
        router: this.router,
        replyClient: this.client,
        logger,
        metrics: this.services.metrics,
      });
      logger.info(
        { port: config.INTERACTIONS_PORT, host: config.INTERACTIONS_HOST },
        'interactions endpoint listening (no gateway connection)',
      );
    } else {
      if (!token) throw new Error('DISCORD_TOKEN is required to log in to the gateway');
      const ready = new Promise<void>((resolve) => this.client.once(Events.ClientReady, () => resolve()));
      await this.client.login(token);
      await ready;
      logger.info({ user: this.client.user?.tag, guilds: this.client.guilds.cache.size }, 'logged in to Discord');
    }
    if (this.queue) {
      // A front end loads no models: the workers run them.
      this.models = {};
      logger.info('front end ready; jobs go to the queue');
      return;
    }
    this.models = await this.services.preload();
    logger.info(
      { models: this.models, executionProvider: this.services.engine.activeProvider },
      'models loaded; ready',
    );
    if (this.journaling) await this.resumeUnfinished(this.journaling);
  }

  /**
   * What the last run accepted and did not answer: each interaction whose token still lives is
   * answered now (through the router like any request); those that used every attempt are told
   * so; the rest is closed and logged by the journal's chores, which then run every minute.
   */
  private async resumeUnfinished({ journal, database }: BotJournal): Promise<void> {
    const { logger } = this.services;
    if (!this.canReply()) return;
    try {
      // The embedded database is this process's alone (DATA_DIR's lock): what is still running there was cut off.
      const adopted = database.backend === 'embedded' ? await journal.adoptOrphans() : 0;
      await this.notifyExhausted(journal);
      const resumed = await this.resumeAvailable(journal);
      logger.info({ resumed, adopted, database: database.backend }, 'journal replayed');
    } catch (error) {
      logger.error({ err: error }, 'could not replay the journal; unfinished requests will be retried by the chores');
    }
    await this.journalChores(journal, false);
    this.chores = setInterval(() => void this.journalChores(journal), JOURNAL_CHORES_MS);
    this.chores.unref();
  }

  /**
   * A quiz round's end: the question message is edited, through the interaction's token, to show
   * the answer, who got it right and the note it teaches; its buttons go. Retried like any reply
   * while the token lives.
   */
  private async showReveal(revealed: RevealedRound): Promise<void> {
    const client = this.client;
    const { logger } = this.services;
    if (!revealed.applicationId || !revealed.token || !client.isReady()) {
      logger.warn({ round: revealed.round.id }, 'a quiz round ended with no way to edit its message');
      return;
    }
    const responder = tokenResponder(client, revealed.applicationId, revealed.token);
    const payload = {
      content: '',
      embeds: toDiscordEmbeds([revealView(revealed)]),
      components: [],
      allowedMentions: { parse: [] as never[] },
    };
    // Discord's token lives 15 minutes from the interaction, which came just before the round started.
    await deliver(() => responder.edit(payload), { deadline: revealed.round.startedAt + 14 * 60_000 });
    logger.info(
      {
        round: revealed.round.id,
        answers: revealed.scored.length,
        right: revealed.scored.filter((a) => a.correct).length,
      },
      'quiz round revealed',
    );
  }

  /** Tells the user of each interaction that used every attempt, privately, that it failed. */
  private async notifyExhausted(journal: InteractionJournal): Promise<void> {
    const { logger, metrics } = this.services;
    const client = this.client as Client<true>;
    if (!this.canReply()) return;
    for (const entry of await journal.takeExhausted()) {
      metrics.journalEvents.inc({ event: 'gave_up' });
      logger.warn(
        { interactionId: entry.id, command: entry.commandName, attempts: entry.attempts },
        'gave up on an interaction after its last attempt; telling its user',
      );
      await this.router.giveUp(entry, tokenResponder(client, entry.applicationId, entry.token));
    }
  }

  /** Claims and resumes every interaction nobody holds (a dead process's, once its lease lapsed); returns how many. */
  private async resumeAvailable(journal: InteractionJournal): Promise<number> {
    // Webhook routes need only the token: a client that never logged in (HTTP endpoint) sends them too.
    const client = this.client as Client<true>;
    if (!this.canReply() || this.stopping) return 0;
    let resumed = 0;
    for (const candidate of await journal.unfinished()) {
      const entry = await journal.claim(candidate.id);
      if (!entry) continue;
      resumed += 1;
      void this.router.resume(entry, tokenResponder(client, entry.applicationId, entry.token));
    }
    return resumed;
  }

  /**
   * Every minute: what another process left behind (a replica that died, with a server database)
   * is resumed once its lease lapses; then what ran out of time or attempts is closed and
   * finished rows past retention are purged.
   */
  private async journalChores(journal: InteractionJournal, resume = true): Promise<void> {
    try {
      if (resume) await this.notifyExhausted(journal);
      const resumed = resume ? await this.resumeAvailable(journal) : 0;
      if (resumed > 0) this.services.logger.info({ resumed }, 'resumed interactions another process left');
      const { expired } = await journal.maintain();
      for (const entry of expired) this.services.metrics.journalEvents.inc({ event: entry.outcome });
    } catch (error) {
      this.services.logger.warn({ err: error }, 'journal chores failed; will try again');
    }
    try {
      // Quiz rounds whose deadline passed while no timer here was set for them (a restart, another process).
      await this.services.quiz.revealDue();
    } catch (error) {
      this.services.logger.warn({ err: error }, 'quiz reveal chore failed; will try again');
    }
    await this.serverDataChores();
  }

  /** Deletes the data of servers left longer than the grace period, and rows past their server's retention. */
  private async serverDataChores(): Promise<void> {
    const { logger } = this.services;
    try {
      const { expired, forgottenServers } = await this.services.serverData.chores(Date.now());
      for (const guild of forgottenServers)
        logger.info({ guild }, 'deleted the data of a server I left (grace period over)');
      if (expired.length > 0) logger.info({ expired }, 'deleted stored rows past their retention');
    } catch (error) {
      logger.warn({ err: error }, 'server data chores failed; will try again');
    }
  }

  /**
   * Stop accepting work, let requests finish; within the grace period, tell the users of those
   * that could not finish to run their command again; release everything.
   */
  async stop(reason: string, graceMs = this.services.config.SHUTDOWN_GRACE_SECONDS * 1000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const { logger } = this.services;
    logger.info({ reason, inFlight: this.router.pending, graceMs }, 'shutting down');
    const drain = await this.router.drain(graceMs);
    clearInterval(this.chores);
    if (this.journaling) {
      this.services.quiz.close();
      await this.closeJournal(this.journaling);
    }
    await this.queue?.close();
    await this.services.dispose();
    await this.client.destroy();
    for (const server of [this.endpoint, this.health])
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    logger.info(drain, 'stopped');
  }

  /** What the drain interrupted goes back to pending, for the next start to answer at once. */
  private async closeJournal({ journal, database }: BotJournal): Promise<void> {
    const { logger } = this.services;
    try {
      const released = await journal.release();
      if (released > 0) logger.info({ released }, 'unfinished requests left in the journal for the next start');
    } catch (error) {
      logger.warn({ err: error }, 'could not release journal rows; the next start takes them over');
    }
    await database
      .close()
      .catch((error: unknown) => logger.warn({ err: error }, 'could not close the journal database'));
  }
}
