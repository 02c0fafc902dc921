import type { APIModalInteractionResponseCallbackData } from 'discord-api-types/v10';
import {
  MessageFlags,
  PermissionFlagsBits,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type MessageContextMenuCommandInteraction,
  type ModalSubmitInteraction,
} from 'discord.js';
import type { Command } from '../command/definition.js';
import type { InteractionToRecord, JournaledOptions } from '../journal/entry.js';
import { chatInputOptions, messageOptions } from './options.js';
import { interactionResponder, type Responder, type ResponsePayload } from './responder.js';

/**
 * An interaction that runs a command, as the router needs it, whichever way it reached the bot:
 * through the gateway (discord.js) or POSTed to the HTTP interactions endpoint. The router
 * decides; the arrival only knows how to answer on its own transport.
 */
export interface Arrival {
  readonly id: string;
  readonly applicationId: string;
  readonly token: string;
  readonly userId: string;
  readonly guildId: string | null;
  readonly channelId: string | null;
  /** When Discord created it (ms): its token lives 15 minutes from then. */
  readonly createdTimestamp: number;
  /**
   * A slash command or context menu by name, a button under a result by its custom id, or the
   * form (modal) a context menu asked, submitted, with the text typed into it.
   */
  readonly target:
    | { kind: 'command'; name: string }
    | { kind: 'button'; customId: string }
    | { kind: 'form'; customId: string; answer: string | undefined };
  /** The member had Manage Server when the interaction arrived (Discord's resolved permissions; never in a DM). */
  readonly canManageServer: boolean;
  /**
   * Whether the first response may be the answer itself (a message with files). The HTTP
   * endpoint answers "thinking…" inline at once and everything else through the token.
   */
  readonly answersInline: boolean;
  /**
   * The command's option values as references (attachments not downloaded): what the journal
   * keeps. Throws a UserFacingError when there is nothing to run (a context menu on a message
   * without an image).
   */
  options(command: Command): JournaledOptions;
  /**
   * The first response as a message: a refusal or an error (ephemeral), or the answer. Resolves
   * with the message Discord made, where the transport is told it (undefined otherwise).
   */
  reply(payload: ResponsePayload, ephemeral: boolean): Promise<unknown>;
  /** The first response as "thinking…", to be edited into the answer. */
  defer(): Promise<void>;
  /** The first response as a form (modal) for the user to fill in; its submission arrives as a new interaction. */
  showModal(modal: APIModalInteractionResponseCallbackData): Promise<void>;
  /** Everything said after the first response. */
  readonly responder: Responder;
}

/** The text field of a context menu's question form. */
export const ANSWER_FIELD = 'answer';

type GatewayInteraction =
  ChatInputCommandInteraction | MessageContextMenuCommandInteraction | ButtonInteraction | ModalSubmitInteraction;

function formAnswer(interaction: ModalSubmitInteraction): string | undefined {
  try {
    return interaction.fields.getTextInputValue(ANSWER_FIELD);
  } catch {
    return undefined;
  }
}

/** An interaction from the gateway: discord.js sends the first response to Discord's callback route. */
export function gatewayArrival(interaction: GatewayInteraction): Arrival {
  return {
    id: interaction.id,
    applicationId: interaction.applicationId,
    token: interaction.token,
    userId: interaction.user.id,
    guildId: interaction.guildId,
    channelId: interaction.channelId,
    createdTimestamp: interaction.createdTimestamp,
    target: interaction.isButton()
      ? { kind: 'button', customId: interaction.customId }
      : interaction.isModalSubmit()
        ? { kind: 'form', customId: interaction.customId, answer: formAnswer(interaction) }
        : { kind: 'command', name: interaction.commandName },
    canManageServer:
      interaction.guildId !== null && (interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? false),
    answersInline: true,
    options: (command) => {
      if (interaction.isChatInputCommand()) return chatInputOptions(interaction);
      if (interaction.isMessageContextMenuCommand()) return messageOptions(command, interaction);
      throw new Error('a button or a form runs on the input held for it, not on options of its own');
    },
    reply: async (payload, ephemeral) => {
      // With the response: the message's id, for a link to a button's shared answer.
      const response = await interaction.reply({
        ...payload,
        ...(ephemeral ? { flags: MessageFlags.Ephemeral } : {}),
        withResponse: true,
      });
      return response.resource?.message ?? undefined;
    },
    defer: async () => {
      await interaction.deferReply();
    },
    showModal: async (modal) => {
      if (interaction.isModalSubmit()) throw new Error('a form cannot be answered with another form');
      await interaction.showModal(modal);
    },
    responder: interactionResponder(interaction),
  };
}

/** What the journal (or the job queue) keeps of an arrival: its ids, token, command and options as references. */
export function toRecord(
  arrival: Arrival,
  commandName: string,
  options: JournaledOptions,
): InteractionToRecord & { canManageServer: boolean } {
  return {
    id: arrival.id,
    applicationId: arrival.applicationId,
    token: arrival.token,
    commandName,
    options,
    guildId: arrival.guildId,
    channelId: arrival.channelId,
    userId: arrival.userId,
    canManageServer: arrival.canManageServer,
  };
}
