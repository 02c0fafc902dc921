import { z } from 'zod';

/** Discord's epoch (2015-01-01T00:00:00Z): a snowflake's top 42 bits count milliseconds from it. */
const DISCORD_EPOCH_MS = 1_420_070_400_000n;

export const snowflake = z.string().regex(/^\d{15,21}$/, 'must be a Discord snowflake (a decimal id)');

/** When Discord created the object a snowflake names; an interaction's token lives 15 minutes from then. */
export function snowflakeTime(id: string): Date {
  return new Date(Number((BigInt(id) >> 22n) + DISCORD_EPOCH_MS));
}

/** A snowflake for a moment (tests, and the bench): the inverse of snowflakeTime, with a sequence number. */
export function snowflakeAt(time: Date | number, sequence = 0): string {
  const ms = BigInt(typeof time === 'number' ? time : time.getTime());
  return (((ms - DISCORD_EPOCH_MS) << 22n) | BigInt(sequence & 0xfff)).toString();
}

/**
 * An attachment as the journal keeps it: where Discord serves it, never its bytes. A replay
 * downloads it again (Discord's CDN links outlive the 15 minutes a token lives).
 */
export const attachmentReference = z
  .object({
    kind: z.literal('attachment'),
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
    name: z.string().min(1).max(1024),
    size: z.number().int().nonnegative().nullable(),
    contentType: z.string().max(255).nullable(),
  })
  .strict();
export type AttachmentReference = z.infer<typeof attachmentReference>;

/** Option values a pending job needs: text, numbers, choices and attachment references. */
const optionValue = z.union([z.string().max(8000), z.number().finite(), z.boolean(), attachmentReference]);
export type JournaledOptionValue = z.infer<typeof optionValue>;

/** Options by name, as Discord names them (1–32 lower-case characters). */
export const journaledOptions = z
  .record(z.string().regex(/^[-_\p{Ll}\p{N}]{1,32}$/u, 'is not a Discord option name'), optionValue)
  .refine((options) => Object.keys(options).length <= 25, 'has more than 25 options');
export type JournaledOptions = z.infer<typeof journaledOptions>;

/** What the router hands the journal before acknowledging an interaction. */
export const interactionToRecord = z
  .object({
    id: snowflake,
    applicationId: snowflake,
    token: z.string().min(1).max(500),
    /** A command's name (Discord allows 32 characters), or a button press's `held:` and that name. */
    commandName: z.string().min(1).max(37),
    options: journaledOptions,
    guildId: snowflake.nullable(),
    channelId: snowflake.nullable(),
    userId: snowflake,
    /**
     * Whether the member had Manage Server (in a server; never in a DM) when the interaction
     * arrived: /settings and /forget check it, also when the request is resumed after a restart.
     */
    canManageServer: z.boolean().default(false),
  })
  .strict();
/** What `record` accepts (`canManageServer` false when left out). */
export type InteractionToRecord = z.input<typeof interactionToRecord>;

export const JOURNAL_STATES = ['pending', 'running', 'done', 'failed', 'expired'] as const;
export type JournalState = (typeof JOURNAL_STATES)[number];

const timestamp = z.union([z.date(), z.string().transform((text) => new Date(text))]);

/**
 * An open row as the database returns it (both drivers give timestamptz as Date and jsonb
 * parsed); anything else, including options that no longer pass their schema, is corrupt.
 */
export const openRow = z
  .object({
    interaction_id: snowflake,
    application_id: snowflake,
    token: z.string().min(1),
    command_name: z.string().min(1),
    options: journaledOptions,
    guild_id: snowflake.nullable(),
    channel_id: snowflake.nullable(),
    user_id: snowflake,
    can_manage_server: z.boolean(),
    created_at: timestamp,
    state: z.enum(['pending', 'running']),
    attempts: z.number().int().nonnegative(),
  })
  .transform((row) => ({
    id: row.interaction_id,
    applicationId: row.application_id,
    token: row.token,
    commandName: row.command_name,
    options: row.options,
    guildId: row.guild_id,
    channelId: row.channel_id,
    userId: row.user_id,
    canManageServer: row.can_manage_server,
    createdAt: row.created_at,
    state: row.state,
    attempts: row.attempts,
  }));

/** An interaction a replay can answer: everything needed to run the command and reply with the token. */
export type JournaledInteraction = z.output<typeof openRow>;

/** The columns `openRow` reads, for SELECT and RETURNING lists. */
export const OPEN_ROW_COLUMNS =
  'interaction_id, application_id, token, command_name, options, guild_id, channel_id, user_id, can_manage_server, created_at, state, attempts';
