import { ApplicationCommandOptionType } from 'discord-api-types/v10';
import type { ChatInputCommandInteraction, Message, MessageContextMenuCommandInteraction } from 'discord.js';
import type { Command } from '../command/definition.js';
import { UserFacingError } from '../util/errors.js';
import { downloadAttachment, type AttachmentRef, type DownloadPolicy } from './attachments.js';

const IMAGE_NAME = /\.(jpe?g|png|webp|gif|avif|heic|heif|tiff?)$/i;

/** The first image of a message: an image attachment, else an embed's image or thumbnail. */
export function firstImage(message: Pick<Message, 'attachments' | 'embeds'>): AttachmentRef | undefined {
  for (const attachment of message.attachments.values()) {
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

/** Raw options of a slash command, with attachments downloaded into memory. */
export async function chatInputOptions(
  interaction: ChatInputCommandInteraction,
  policy: DownloadPolicy,
): Promise<Record<string, unknown>> {
  const raw: Record<string, unknown> = {};
  for (const option of interaction.options.data) {
    if (option.type === ApplicationCommandOptionType.Attachment && option.attachment) {
      const { url, name, size, contentType } = option.attachment;
      raw[option.name] = { name, bytes: await downloadAttachment({ url, name, size, contentType }, policy) };
    } else if (option.value !== undefined) raw[option.name] = option.value;
  }
  return raw;
}

/** Raw options of a message context-menu command, taken from the target message. */
export async function messageOptions(
  command: Command,
  interaction: MessageContextMenuCommandInteraction,
  policy: DownloadPolicy,
): Promise<Record<string, unknown>> {
  const message = interaction.targetMessage;
  if (command.kind === 'message' && command.target === 'image') {
    const image = firstImage(message);
    if (!image)
      throw new UserFacingError('That message has no image attachment or embedded image to classify.', {
        code: 'no_image',
      });
    return { image: { name: image.name, bytes: await downloadAttachment(image, policy) } };
  }
  if (!message.content.trim())
    throw new UserFacingError('That message has no text to analyse (only attachments or embeds).', {
      code: 'empty_text',
    });
  return { text: message.content };
}
