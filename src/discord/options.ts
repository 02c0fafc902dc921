import { ApplicationCommandOptionType } from 'discord-api-types/v10';
import type { ChatInputCommandInteraction, MessageContextMenuCommandInteraction } from 'discord.js';
import type { Command } from '../command/definition.js';
import type { AttachmentReference, JournaledOptions } from '../journal/entry.js';
import { UserFacingError } from '../util/errors.js';
import { downloadAttachment, type AttachmentRef, type DownloadPolicy } from './attachments.js';

const IMAGE_NAME = /\.(jpe?g|png|webp|gif|avif|heic|heif|tiff?)$/i;

/** What a message offers a context-menu command, from discord.js or from a raw interaction. */
export interface MessageParts {
  content: string;
  attachments: Iterable<{ url: string; name: string; size?: number | null; contentType?: string | null }>;
  embeds: ReadonlyArray<{ image?: { url: string } | null; thumbnail?: { url: string } | null }>;
}

/** The first image of a message: an image attachment, else an embed's image or thumbnail. */
export function firstImage(message: Pick<MessageParts, 'attachments' | 'embeds'>): AttachmentRef | undefined {
  for (const attachment of message.attachments) {
    if (attachment.contentType?.startsWith('image/') || IMAGE_NAME.test(attachment.name)) {
      return { url: attachment.url, name: attachment.name, size: attachment.size, contentType: attachment.contentType };
    }
  }
  for (const embed of message.embeds) {
    const url = embed.image?.url ?? embed.thumbnail?.url;
    if (url) return { url, name: new URL(url).pathname.split('/').pop() || 'image' };
  }
  return undefined;
}

export function reference(ref: AttachmentRef): AttachmentReference {
  return {
    kind: 'attachment',
    url: ref.url,
    name: ref.name,
    size: ref.size ?? null,
    contentType: ref.contentType ?? null,
  };
}

/**
 * What a request needs to be run, now or after a restart, without the bytes: the values of a
 * slash command's options, attachments as references to download. This is what the journal
 * keeps; nothing has been fetched yet.
 */
export function chatInputOptions(interaction: ChatInputCommandInteraction): JournaledOptions {
  const options: JournaledOptions = {};
  for (const option of interaction.options.data) {
    if (option.type === ApplicationCommandOptionType.Attachment && option.attachment) {
      options[option.name] = reference(option.attachment);
    } else if (
      typeof option.value === 'string' ||
      typeof option.value === 'number' ||
      typeof option.value === 'boolean'
    ) {
      options[option.name] = option.value;
    }
  }
  return options;
}

/** The same for a message context-menu command, taken from the target message (its image, or its text). */
export function messageOptions(command: Command, interaction: MessageContextMenuCommandInteraction): JournaledOptions {
  const message = interaction.targetMessage;
  return messagePartsOptions(command, {
    content: message.content,
    attachments: message.attachments.values(),
    embeds: message.embeds,
  });
}

/** A context-menu command's options from the parts of its target message, however it arrived. */
export function messagePartsOptions(command: Command, message: MessageParts): JournaledOptions {
  if (command.kind === 'message' && command.target === 'image') {
    const image = firstImage(message);
    if (!image)
      throw new UserFacingError('That message has no image attachment or embedded image to classify.', {
        code: 'no_image',
      });
    return { image: reference(image) };
  }
  if (!message.content.trim())
    throw new UserFacingError('That message has no text to analyse (only attachments or embeds).', {
      code: 'empty_text',
    });
  return { text: message.content };
}

/** Raw options for the command: every attachment reference downloaded into memory, under the policy's limits. */
export async function resolveOptions(
  options: JournaledOptions,
  policy: DownloadPolicy,
): Promise<Record<string, unknown>> {
  const raw: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options)) {
    raw[name] =
      typeof value === 'object' ? { name: value.name, bytes: await downloadAttachment(value, policy) } : value;
  }
  return raw;
}
