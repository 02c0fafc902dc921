import { z } from 'zod';
import type { Config } from '../config/config.js';
import type { Database } from '../journal/database.js';

export const IMAGE_MODEL_SETTINGS = ['both', 'cnn', 'vit'] as const;
export type ImageModelSetting = (typeof IMAGE_MODEL_SETTINGS)[number];

/** The longest a server may keep its stored data (teach examples and models, quiz scores), in days. */
export const MAX_RETENTION_DAYS = 365;
export const MAX_COOLDOWN_SECONDS = 300;

/** A server's settings as they apply: its own values, or the defaults where it has none. */
export interface ServerSettings {
  /** /classify's and the lab's models when the `model` option is left out. */
  imageModel: ImageModelSetting;
  /** Seconds a member waits between two uses of one command. */
  cooldownSeconds: number;
  /** Buttons under results (never when the operator turned them off with BUTTONS_ENABLED=false). */
  buttons: boolean;
  /** Where the quiz posts; undefined: where it is asked. */
  quizChannelId: string | undefined;
  /** Stored data older than this many days is deleted. */
  retentionDays: number;
}

export type SettingName = keyof ServerSettings;
export const SETTING_NAMES: readonly SettingName[] = [
  'imageModel',
  'cooldownSeconds',
  'buttons',
  'quizChannelId',
  'retentionDays',
];

/** What a server has set; a setting left out (or undefined) follows the default. */
export type OwnSettings = Partial<ServerSettings>;

/** The defaults every server starts from, from the operator's configuration. */
export function defaultSettings(config: Config): ServerSettings {
  return {
    imageModel: 'both',
    cooldownSeconds: config.COOLDOWN_SECONDS,
    buttons: config.BUTTONS_ENABLED,
    quizChannelId: undefined,
    retentionDays: config.SERVER_DATA_RETENTION_DAYS,
  };
}

const settingsRow = z.object({
  image_model: z.enum(IMAGE_MODEL_SETTINGS).nullable(),
  cooldown_seconds: z.coerce.number().int().nullable(),
  buttons: z.boolean().nullable(),
  quiz_channel_id: z.string().nullable(),
  retention_days: z.coerce.number().int().nullable(),
});

const COLUMNS: Record<SettingName, string> = {
  imageModel: 'image_model',
  cooldownSeconds: 'cooldown_seconds',
  buttons: 'buttons',
  quizChannelId: 'quiz_channel_id',
  retentionDays: 'retention_days',
};

/** The `server_settings` rows: one per server that set anything, NULL where it follows the default. */
export class SettingsStore {
  constructor(private readonly database: Database) {}

  async own(guildId: string): Promise<OwnSettings> {
    const { rows } = await this.database.query(
      'SELECT image_model, cooldown_seconds, buttons, quiz_channel_id, retention_days FROM server_settings WHERE guild_id = $1',
      [guildId],
    );
    if (rows[0] === undefined) return {};
    const row = settingsRow.parse(rows[0]);
    const own: OwnSettings = {};
    if (row.image_model !== null) own.imageModel = row.image_model;
    if (row.cooldown_seconds !== null) own.cooldownSeconds = row.cooldown_seconds;
    if (row.buttons !== null) own.buttons = row.buttons;
    if (row.quiz_channel_id !== null) own.quizChannelId = row.quiz_channel_id;
    if (row.retention_days !== null) own.retentionDays = row.retention_days;
    return own;
  }

  /** Sets the given settings and returns the server's own settings afterwards; `null` puts one back to its default. */
  async update(
    guildId: string,
    changes: { [K in SettingName]?: ServerSettings[K] | null },
    updatedBy: string | undefined,
  ): Promise<OwnSettings> {
    const names = SETTING_NAMES.filter((name) => changes[name] !== undefined);
    if (names.length > 0) {
      const columns = names.map((name) => COLUMNS[name]);
      const values = names.map((name) => changes[name] ?? null);
      await this.database.query(
        `INSERT INTO server_settings (guild_id, updated_by, updated_at, ${columns.join(', ')})
         VALUES ($1, $2, now(), ${columns.map((_, index) => `$${index + 3}`).join(', ')})
         ON CONFLICT (guild_id) DO UPDATE SET updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at,
           ${columns.map((column) => `${column} = EXCLUDED.${column}`).join(', ')}`,
        [guildId, updatedBy ?? null, ...values],
      );
    }
    return this.own(guildId);
  }
}

/** How long a server's settings are kept in memory before they are read again (another replica may have changed them). */
export const SETTINGS_CACHE_MS = 30_000;

/**
 * A server's settings for every request, read through a small cache: the router asks on every
 * interaction, so the database is asked at most once per server every SETTINGS_CACHE_MS, and
 * at once after a change made here. Without a database every server has the defaults.
 */
export class SettingsService {
  private readonly cache = new Map<string, { own: OwnSettings; until: number }>();
  readonly defaults: ServerSettings;

  constructor(
    private readonly store: SettingsStore | undefined,
    config: Config,
    private readonly now: () => number = Date.now,
    private readonly maxCached = 5000,
  ) {
    this.defaults = defaultSettings(config);
    this.operatorButtons = config.BUTTONS_ENABLED;
  }

  private readonly operatorButtons: boolean;

  /** The server's own values (what it set), for /settings to show beside the defaults. */
  async own(guildId: string | undefined): Promise<OwnSettings> {
    if (!guildId || !this.store) return {};
    const cached = this.cache.get(guildId);
    if (cached && cached.until > this.now()) return cached.own;
    const own = await this.store.own(guildId);
    this.remember(guildId, own);
    return own;
  }

  /** The settings that apply in a server (the defaults in a DM). */
  async effective(guildId: string | undefined): Promise<ServerSettings> {
    const own = await this.own(guildId);
    const settings = { ...this.defaults, ...own };
    // The operator's BUTTONS_ENABLED=false holds for every server.
    return { ...settings, buttons: this.operatorButtons && settings.buttons };
  }

  async update(
    guildId: string,
    changes: { [K in SettingName]?: ServerSettings[K] | null },
    updatedBy: string | undefined,
  ): Promise<OwnSettings> {
    if (!this.store) throw new Error('settings need the database');
    this.cache.delete(guildId);
    const own = await this.store.update(guildId, changes, updatedBy);
    this.remember(guildId, own);
    return own;
  }

  /** Forgets what is cached for a server (its rows were deleted). */
  invalidate(guildId: string): void {
    this.cache.delete(guildId);
  }

  private remember(guildId: string, own: OwnSettings): void {
    if (this.cache.size >= this.maxCached) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(guildId, { own, until: this.now() + SETTINGS_CACHE_MS });
  }
}
