import type { APIEmbed } from 'discord-api-types/v10';
import type { EmbedSpec } from '../command/definition.js';

/** Discord's message limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits). */
export const LIMITS = {
  content: 2000,
  embedsPerMessage: 10,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  embedTotal: 6000,
} as const;

const MARK = '… (truncated)';

/**
 * Half of a surrogate pair, as a cut through an emoji leaves it (a presenter's `slice(0, 300)`):
 * Discord keeps text as UTF-8, which has no form for it, and refuses the whole message.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Cuts text to a limit, visibly, without half an emoji. Counts UTF-16 code units, as Discord does. */
export function clip(text: string, limit: number): string {
  const whole = text.replace(LONE_SURROGATE, '');
  if (whole.length <= limit) return whole;
  return `${whole.slice(0, Math.max(0, limit - MARK.length)).replace(/[\uD800-\uDBFF]$/, '')}${MARK}`;
}

const embedLength = (embed: APIEmbed): number =>
  (embed.title?.length ?? 0) +
  (embed.description?.length ?? 0) +
  (embed.footer?.text.length ?? 0) +
  (embed.fields ?? []).reduce((sum, field) => sum + field.name.length + field.value.length, 0);

/**
 * Renders embeds within every Discord limit: each part is clipped, surplus fields are folded
 * into a visible note, and fields are trimmed from the end until the 6000-character total fits.
 */
export function toDiscordEmbeds(specs: readonly EmbedSpec[], colour = 0x5865f2): APIEmbed[] {
  const embeds = specs.slice(0, LIMITS.embedsPerMessage).map((spec): APIEmbed => {
    const fields = (spec.fields ?? []).map((field) => ({
      name: clip(field.name || '\u200b', LIMITS.fieldName),
      value: clip(field.value || '\u200b', LIMITS.fieldValue),
      inline: field.inline ?? false,
    }));
    if (fields.length > LIMITS.fields) {
      const hidden = fields.length - (LIMITS.fields - 1);
      fields.splice(LIMITS.fields - 1, fields.length, {
        name: 'More',
        value: `${hidden} more section(s) were left out (Discord allows ${LIMITS.fields}).`,
        inline: false,
      });
    }
    return {
      title: clip(spec.title, LIMITS.title),
      ...(spec.description ? { description: clip(spec.description, LIMITS.description) } : {}),
      ...(fields.length ? { fields } : {}),
      ...(spec.footer ? { footer: { text: clip(spec.footer, LIMITS.footer) } } : {}),
      ...(spec.image ? { image: { url: `attachment://${spec.image}` } } : {}),
      color: spec.color ?? colour,
    };
  });
  let total = embeds.reduce((sum, embed) => sum + embedLength(embed), 0);
  for (let e = embeds.length - 1; e >= 0 && total > LIMITS.embedTotal; e -= 1) {
    const embed = embeds[e]!;
    while (total > LIMITS.embedTotal && embed.fields && embed.fields.length > 0) {
      const removed = embed.fields.pop()!;
      total -= removed.name.length + removed.value.length;
    }
    if (total > LIMITS.embedTotal && embed.description) {
      const keep = Math.max(0, embed.description.length - (total - LIMITS.embedTotal));
      total -= embed.description.length;
      embed.description = clip(embed.description, keep);
      total += embed.description.length;
    }
  }
  return embeds;
}
