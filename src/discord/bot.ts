import type { Server } from 'node:http';
import { Client, Events, GatewayIntentBits } from 'discord.js';
import type { Services } from '../app.js';
import type { Command } from '../command/definition.js';
import { startHealthServer } from './health.js';
import { Router } from './router.js';

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

  constructor(
    private readonly services: Services,
    commands: ReadonlyMap<string, Command>,
  ) {
    this.client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: services.config.DISCORD_API_URL } });
    this.router = new Router(commands, services);
    this.client.on(Events.InteractionCreate, (interaction) => this.router.handle(interaction));
    this.client.on(Events.Error, (error) => services.logger.error({ err: error }, 'discord client error'));
    this.client.on(Events.ShardDisconnect, () =>
      services.logger.warn('gateway disconnected; discord.js will reconnect'),
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
          models: () => (this.models ? this.services.modelStatus() : undefined),
        },
        () => this.router.pending,
      );
      logger.info({ port: config.HEALTH_PORT }, 'health server listening');
    }
    const ready = new Promise<void>((resolve) => this.client.once(Events.ClientReady, () => resolve()));
    await this.client.login(token);
    await ready;
    logger.info({ user: this.client.user?.tag, guilds: this.client.guilds.cache.size }, 'logged in to Discord');
    this.models = await this.services.preload();
    logger.info(
      { models: this.models, executionProvider: this.services.engine.activeProvider },
      'models loaded; ready',
    );
  }

  /** Stop accepting work, let requests finish (or fail them cleanly), release everything. */
  async stop(reason: string, graceMs = 10_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const { logger } = this.services;
    logger.info({ reason, inFlight: this.router.pending }, 'shutting down');
    const drained = await this.router.drain(graceMs);
    if (!drained) {
      // Fail what is still queued; each request's error boundary tells its user.
      await this.services.engine.dispose();
      await this.router.drain(2000);
    }
    await this.services.dispose();
    await this.client.destroy();
    await new Promise<void>((resolve) => (this.health ? this.health.close(() => resolve()) : resolve()));
    logger.info({ drained }, 'stopped');
  }
}
