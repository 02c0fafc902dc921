import {
  InteractionWebhook,
  MessageFlags,
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIEmbed,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Client,
  type MessageContextMenuCommandInteraction,
  type ModalSubmitInteraction,
} from 'discord.js';

/** A message through the interaction's token: the reply's final form, a progress line, or a private notice. */
export interface ResponsePayload {
  content: string;
  embeds?: APIEmbed[];
  files?: Array<{ attachment: Buffer; name: string }>;
  /** Buttons under the message. */
  components?: Array<APIActionRowComponent<APIButtonComponent>>;
  allowedMentions: { parse: never[] };
}

/**
 * Everything a request says to its user after it has been acknowledged, through the
 * interaction's token. A live interaction and one resumed after a restart (for which only the
 * journaled token is left) answer through the same four calls.
 */
export interface Responder {
  /** Discord has the acknowledgement ("thinking…"): edits and follow-ups are possible. */
  readonly acknowledged: boolean;
  /** Replaces the reply ("@original"). */
  edit(payload: ResponsePayload): Promise<unknown>;
  /** Deletes the reply. */
  remove(): Promise<unknown>;
  /** A further message; with `ephemeral`, only its user sees it. */
  followUp(payload: ResponsePayload & { ephemeral?: boolean }): Promise<unknown>;
}

type CommandInteraction =
  ChatInputCommandInteraction | MessageContextMenuCommandInteraction | ButtonInteraction | ModalSubmitInteraction;

const flagsOf = (ephemeral: boolean | undefined): { flags?: MessageFlags.Ephemeral } =>
  ephemeral ? { flags: MessageFlags.Ephemeral } : {};

/** The live interaction: discord.js keeps its state (deferred, replied). */
export function interactionResponder(interaction: CommandInteraction): Responder {
  return {
    get acknowledged() {
      return interaction.deferred || interaction.replied;
    },
    edit: (payload) => interaction.editReply(payload),
    remove: () => interaction.deleteReply(),
    followUp: ({ ephemeral, ...payload }) => interaction.followUp({ ...payload, ...flagsOf(ephemeral) }),
  };
}

/**
 * An interaction known only by its application id and token (a journaled one, resumed after a
 * restart): the same webhook routes a live interaction's editReply and followUp use. It was
 * deferred before the restart; if it was not, Discord answers 404 and the request is closed.
 */
export function tokenResponder(client: Client<true>, applicationId: string, token: string): Responder {
  const webhook = new InteractionWebhook(client, applicationId, token);
  return {
    acknowledged: true,
    edit: (payload) => webhook.editMessage('@original', payload),
    remove: () => webhook.deleteMessage('@original'),
    followUp: ({ ephemeral, ...payload }) => webhook.send({ ...payload, ...flagsOf(ephemeral) }),
  };
}
