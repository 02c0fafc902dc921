import { ApplicationCommandOptionType } from 'discord-api-types/v10';
import { z } from 'zod';
import type { Command } from '../command/definition.js';
import { snowflake, type JournaledOptions } from '../journal/entry.js';
import { messagePartsOptions, reference } from './options.js';

/**
 * An interaction as Discord POSTs it to the HTTP interactions endpoint (the same JSON the gateway
 * sends as INTERACTION_CREATE). Only what the bot reads is checked; the rest passes through.
 * https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object
 */

const user = z.object({ id: snowflake }).loose();

const rawAttachment = z
  .object({
    id: snowflake,
    filename: z.string().min(1).max(1024),
    url: z.string().max(4096),
    size: z.number().int().nonnegative().optional(),
    content_type: z.string().max(255).optional(),
  })
  .loose();

const rawEmbed = z
  .object({
    image: z
      .object({ url: z.string().max(4096) })
      .loose()
      .optional(),
    thumbnail: z
      .object({ url: z.string().max(4096) })
      .loose()
      .optional(),
  })
  .loose();

const rawMessage = z
  .object({
    content: z.string().max(8000).default(''),
    attachments: z.array(rawAttachment).max(25).default([]),
    embeds: z.array(rawEmbed).max(25).default([]),
  })
  .loose();

const rawOption = z
  .object({
    name: z.string().min(1).max(32),
    type: z.number().int(),
    value: z.union([z.string().max(8000), z.number(), z.boolean()]).optional(),
  })
  .loose();

const commandData = z
  .object({
    name: z.string().min(1).max(32),
    /** 1 a slash command, 2 a user menu, 3 a message menu. */
    type: z.number().int(),
    target_id: snowflake.optional(),
    options: z.array(rawOption).max(25).default([]),
    resolved: z
      .object({
        attachments: z.record(z.string(), rawAttachment).optional(),
        messages: z.record(z.string(), rawMessage).optional(),
      })
      .loose()
      .default({}),
  })
  .loose();

const componentData = z.object({ custom_id: z.string().max(100), component_type: z.number().int() }).loose();

/** A submitted form (modal): its custom_id and, in action rows, each text input's value. */
const formData = z
  .object({
    custom_id: z.string().max(100),
    components: z
      .array(
        z
          .object({
            components: z
              .array(z.object({ custom_id: z.string().max(100), value: z.string().max(4000).optional() }).loose())
              .max(5),
          })
          .loose(),
      )
      .max(5)
      .default([]),
  })
  .loose();

const base = {
  id: snowflake,
  application_id: snowflake,
  token: z.string().min(1).max(500),
  guild_id: snowflake.optional(),
  channel_id: snowflake.optional(),
  member: z
    .object({ user, permissions: z.string().max(32).optional() })
    .loose()
    .optional(),
  user: user.optional(),
};

/** The interaction types the endpoint answers; anything else is refused (400) without work. */
export const rawInteraction = z.discriminatedUnion('type', [
  z.object({ type: z.literal(1) }).loose(),
  z.object({ ...base, type: z.literal(2), data: commandData }).loose(),
  z.object({ ...base, type: z.literal(3), data: componentData }).loose(),
  z.object({ ...base, type: z.literal(5), data: formData }).loose(),
  z
    .object({
      ...base,
      type: z.literal(4),
      data: commandData.extend({
        options: z
          .array(rawOption.extend({ focused: z.boolean().optional() }).loose())
          .max(25)
          .default([]),
      }),
    })
    .loose(),
]);
export type RawInteraction = z.infer<typeof rawInteraction>;
export type RawCommandInteraction = Extract<RawInteraction, { type: 2 }>;
export type RawComponentInteraction = Extract<RawInteraction, { type: 3 }>;
export type RawFormInteraction = Extract<RawInteraction, { type: 5 }>;
/** The interactions that run a command: a command, a button press, a submitted form. */
export type RawRunInteraction = RawCommandInteraction | RawComponentInteraction | RawFormInteraction;

/** Who sent it: the member in a server, the user in a DM. */
export function rawUserId(interaction: RawRunInteraction): string | undefined {
  return interaction.member?.user.id ?? interaction.user?.id;
}

/** Manage Server (1 << 5) in the member's resolved permissions; never in a DM. */
export function rawCanManageServer(interaction: RawRunInteraction): boolean {
  const permissions = interaction.member?.permissions;
  if (!interaction.guild_id || !permissions || !/^\d+$/.test(permissions)) return false;
  return (BigInt(permissions) & (1n << 5n)) !== 0n;
}

/** The value typed into a submitted form's text input, by its custom_id. */
export function rawFormValue(interaction: RawFormInteraction, field: string): string | undefined {
  for (const row of interaction.data.components)
    for (const input of row.components) if (input.custom_id === field) return input.value;
  return undefined;
}

/**
 * The command's options as the journal keeps them, as `chatInputOptions` and `messageOptions`
 * take them from discord.js: values as sent, attachments as references to download.
 */
export function rawCommandOptions(command: Command, interaction: RawCommandInteraction): JournaledOptions {
  const { data } = interaction;
  if (data.type === 3) {
    const message = data.target_id ? data.resolved.messages?.[data.target_id] : undefined;
    return messagePartsOptions(command, {
      content: message?.content ?? '',
      attachments: (message?.attachments ?? []).map((attachment) => ({
        url: attachment.url,
        name: attachment.filename,
        size: attachment.size ?? null,
        contentType: attachment.content_type ?? null,
      })),
      embeds: message?.embeds ?? [],
    });
  }
  const options: JournaledOptions = {};
  for (const option of data.options) {
    if (option.type === ApplicationCommandOptionType.Attachment) {
      const attachment = typeof option.value === 'string' ? data.resolved.attachments?.[option.value] : undefined;
      if (attachment)
        options[option.name] = reference({
          url: attachment.url,
          name: attachment.filename,
          size: attachment.size ?? null,
          contentType: attachment.content_type ?? null,
        });
    } else if (option.value !== undefined) {
      options[option.name] = option.value;
    }
  }
  return options;
}
