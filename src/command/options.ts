import {
  ApplicationCommandOptionType,
  ChannelType,
  type APIApplicationCommandBasicOption,
} from 'discord-api-types/v10';
import { z } from 'zod';

/** An image handed to a command: bytes already downloaded (Discord) or read (CLI), not yet trusted. */
export interface ImageInput {
  name: string;
  bytes: Buffer;
}

const imageInput = z.custom<ImageInput>(
  (value) => typeof value === 'object' && value !== null && Buffer.isBuffer((value as ImageInput).bytes),
  'an image attachment is required',
);

interface Common {
  description: string;
  /** A value for the examples in /help and the README (a file name for attachments). */
  example?: string;
}

export interface StringOption extends Common {
  kind: 'string';
  required?: boolean;
  default?: string;
  maxLength?: number;
  /** Offered as a menu on Discord. */
  choices?: ReadonlyArray<{ name: string; value: string }>;
  /** Whether other values than the choices are accepted (the CLI may name any manifest model). */
  otherValues?: string;
  autocomplete?: boolean;
}

export interface IntegerOption extends Common {
  kind: 'integer';
  min: number;
  max: number;
  default?: number;
}

export interface AttachmentOption extends Common {
  kind: 'attachment';
  /** Attachments are required unless this says otherwise (a command that takes text or an image). */
  required?: boolean;
}

/** On or off: a true/false choice on Discord; `true|false|on|off` in the terminal. */
export interface BooleanOption extends Common {
  kind: 'boolean';
}

/** A text channel of the server, by its id (Discord offers the server's channels). */
export interface ChannelOption extends Common {
  kind: 'channel';
}

export type OptionSpec = StringOption | IntegerOption | AttachmentOption | BooleanOption | ChannelOption;

/** Declares an option once; `defineOptions` derives Discord's JSON, the zod schema and the usage line from it. */
export const option = {
  string: <const Settings extends Omit<StringOption, 'kind' | 'description'>>(
    description: string,
    settings: Settings = {} as Settings,
  ): StringOption & Settings => ({ kind: 'string', description, ...settings }),
  integer: <const Settings extends Omit<IntegerOption, 'kind' | 'description'>>(
    description: string,
    settings: Settings,
  ): IntegerOption & Settings => ({ kind: 'integer', description, ...settings }),
  boolean: (description: string): BooleanOption => ({ kind: 'boolean', description }),
  channel: (description: string): ChannelOption => ({ kind: 'channel', description }),
  attachment: <const Settings extends Omit<AttachmentOption, 'kind' | 'description'>>(
    description: string,
    settings: Settings = {} as Settings,
  ): AttachmentOption & Settings => ({
    kind: 'attachment',
    description,
    ...settings,
  }),
};

/**
 * The image models a vision command runs: both roles side by side, one role, or any manifest id.
 * Declared once for /classify and the lab's image experiments. Left out, the server's /settings
 * default applies (both, unless the server chose otherwise): see `chosenImageModels`.
 */
export const imageModelsOption = (description: string) =>
  option.string(description, {
    choices: [
      { name: 'CNN and ViT side by side', value: 'both' },
      { name: 'CNN only', value: 'cnn' },
      { name: 'ViT only', value: 'vit' },
    ],
    otherValues: '<manifest id>',
  });

type ValueOf<S extends OptionSpec> = S extends BooleanOption
  ? boolean | undefined
  : S extends ChannelOption
    ? string | undefined
    : ValueOfOther<S>;

type ValueOfOther<S extends OptionSpec> = S extends AttachmentOption
  ? S extends { required: false }
    ? ImageInput | undefined
    : ImageInput
  : S extends IntegerOption
    ? S extends { default: number }
      ? number
      : number | undefined
    : S extends { required: true } | { default: string }
      ? string
      : string | undefined;

export type OptionSpecs = Record<string, OptionSpec>;
export type OptionValues<Specs extends OptionSpecs> = { [K in keyof Specs]: ValueOf<Specs[K]> };

export interface OptionSet<Specs extends OptionSpecs = OptionSpecs> {
  specs: Specs;
  schema: z.ZodType<OptionValues<Specs>>;
  discord: APIApplicationCommandBasicOption[];
}

export const isRequired = (spec: OptionSpec): boolean =>
  (spec.kind === 'attachment' && spec.required !== false) || (spec.kind === 'string' && spec.required === true);

function fieldFor(spec: OptionSpec): z.ZodType {
  if (spec.kind === 'attachment') return isRequired(spec) ? imageInput : imageInput.optional();
  if (spec.kind === 'boolean') {
    const onOff = 'must be true or false';
    return z
      .union([z.boolean(), z.enum(['true', 'false', 'on', 'off'], { error: onOff })], { error: onOff })
      .transform((value) => value === true || value === 'true' || value === 'on')
      .optional();
  }
  if (spec.kind === 'channel')
    return z
      .string()
      .regex(/^\d{15,21}$/, 'must be a channel (its numeric id)')
      .optional();
  if (spec.kind === 'integer') {
    const range = `must be a whole number from ${spec.min} to ${spec.max}`;
    // Number('') and Number(' ') are 0: an empty terminal value (`--seed=`) is no number, not zero.
    const field = z.preprocess(
      (value) => (typeof value === 'string' && value.trim() === '' ? Number.NaN : value),
      z.coerce.number({ error: range }).int(range).min(spec.min, range).max(spec.max, range),
    );
    return spec.default === undefined ? field.optional() : field.default(spec.default);
  }
  let field: z.ZodType<string>;
  if (spec.choices && !spec.otherValues) {
    const values = spec.choices.map((choice) => choice.value);
    field = z.enum(values as [string, ...string[]], { error: `must be one of ${values.join(', ')}` });
  } else {
    const text = z.string({ error: 'must be text' });
    field = spec.maxLength === undefined ? text : text.max(spec.maxLength, `at most ${spec.maxLength} characters`);
  }
  if (spec.default !== undefined) return field.default(spec.default);
  return isRequired(spec) ? field : field.optional();
}

function discordOption(name: string, spec: OptionSpec): APIApplicationCommandBasicOption {
  const common = { name, description: spec.description.slice(0, 100), required: isRequired(spec) };
  if (spec.kind === 'attachment') return { ...common, type: ApplicationCommandOptionType.Attachment };
  if (spec.kind === 'boolean') return { ...common, type: ApplicationCommandOptionType.Boolean };
  if (spec.kind === 'channel') {
    return { ...common, type: ApplicationCommandOptionType.Channel, channel_types: [ChannelType.GuildText] };
  }
  if (spec.kind === 'integer') {
    return { ...common, type: ApplicationCommandOptionType.Integer, min_value: spec.min, max_value: spec.max };
  }
  return {
    ...common,
    type: ApplicationCommandOptionType.String,
    ...(spec.maxLength !== undefined ? { max_length: spec.maxLength } : {}),
    ...(spec.choices ? { choices: spec.choices.map((choice) => ({ ...choice })) } : {}),
    ...(spec.autocomplete ? { autocomplete: true } : {}),
  } as APIApplicationCommandBasicOption;
}

/** One declaration → Discord's option JSON (required options first, as Discord demands) and the zod schema. */
export function defineOptions<Specs extends OptionSpecs>(specs: Specs): OptionSet<Specs> {
  const entries = Object.entries(specs);
  const shape = Object.fromEntries(entries.map(([name, spec]) => [name, fieldFor(spec)]));
  const discord = [
    ...entries.filter(([, spec]) => isRequired(spec)),
    ...entries.filter(([, spec]) => !isRequired(spec)),
  ].map(([name, spec]) => discordOption(name, spec));
  return { specs, schema: z.object(shape) as unknown as z.ZodType<OptionValues<Specs>>, discord };
}

/** What an option accepts, as a usage line shows it: `both|cnn|vit|<manifest id>`, `1-10`, `"<text>"`. */
export function acceptedValues(name: string, spec: OptionSpec): string {
  if (spec.kind === 'attachment') return `<${name}>`;
  if (spec.kind === 'boolean') return 'true|false';
  if (spec.kind === 'channel') return '<channel id>';
  if (spec.kind === 'integer') return `${spec.min}-${spec.max}`;
  if (spec.choices)
    return [...spec.choices.map((choice) => choice.value), ...(spec.otherValues ? [spec.otherValues] : [])].join('|');
  return `"<${name}>"`;
}
