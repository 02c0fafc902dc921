import type { Server } from 'node:http';
import { GatewayCloseCodes } from 'discord-api-types/v10';
import { Client, Events, GatewayIntentBits, type WebSocketShard } from 'discord.js';
import type { Services } from '../app.js';
import type { Command } from '../command/definition.js';
import type { Database } from '../journal/database.js';
import type { InteractionJournal } from '../journal/journal.js';
import { startHealthServer } from './health.js';
import { tokenResponder } from './responder.js';
import { Router } from './router.js';
import { queueGauges, type JobQueue } from '../queue/queue.js';

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
    this.client.on(Events.Error, (error) => services.logger.error({ err: error }, 'discord client error'));
    this.watchGateway();
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

  async start(token: string): Promise<void> {
    const { config, logger } = this.services;
    if (config.HEALTH_PORT) {
      this.health = await startHealthServer(
        config.HEALTH_PORT,
        this.services,
        {
          loggedIn: () => this.client.isReady(),
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
    const ready = new Promise<void>((resolve) => this.client.once(Events.ClientReady, () => resolve()));
    await this.client.login(token);
    await ready;
    logger.info({ user: this.client.user?.tag, guilds: this.client.guilds.cache.size }, 'logged in to Discord');
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
    const client = this.client;
    if (!client.isReady()) return;
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

  /** Tells the user of each interaction that used every attempt, privately, that it failed. */
  private async notifyExhausted(journal: InteractionJournal): Promise<void> {
    const { logger, metrics } = this.services;
    const client = this.client;
    if (!client.isReady()) return;
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
    const client = this.client;
    if (!client.isReady() || this.stopping) return 0;
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
    if (this.journaling) await this.closeJournal(this.journaling);
    await this.queue?.close();
    await this.services.dispose();
    await this.client.destroy();
    await new Promise<void>((resolve) => (this.health ? this.health.close(() => resolve()) : resolve()));
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
