import type { RESTPostAPIApplicationCommandsJSONBody } from 'discord-api-types/v10';
import { z } from 'zod';
import type { Services } from '../app.js';

/** An image handed to a command: bytes already downloaded (Discord) or read (CLI), not yet trusted. */
export interface ImageInput {
  name: string;
  bytes: Buffer;
}

export const imageInput = z.custom<ImageInput>(
  (value) => typeof value === 'object' && value !== null && Buffer.isBuffer((value as ImageInput).bytes),
  'an image attachment is required',
);

export interface EmbedField {
  name: string;
  value: string;
  inline?: boolean;
}

/** A reply independent of Discord; the Discord renderer enforces Discord's limits. */
export interface EmbedSpec {
  title: string;
  description?: string;
  fields?: EmbedField[];
  footer?: string;
  /** File name of an attached PNG to show as the embed's image. */
  image?: string;
  color?: number;
}

export interface ReplyFile {
  name: string;
  data: Buffer;
}

export interface CommandResult {
  /** The machine-readable result, printed by `--json`. */
  data: unknown;
  embeds: EmbedSpec[];
  files: ReplyFile[];
  /** The terminal rendering. */
  text: string;
  ephemeral?: boolean;
}

export interface CommandContext<O> {
  options: O;
  services: Services;
  /** Short status lines while the request waits (queue position, downloading…). */
  progress: (text: string) => void;
  requestId: string;
}

export interface Command<S extends z.ZodType = z.ZodType> {
  data: RESTPostAPIApplicationCommandsJSONBody;
  options: S;
  /** How the terminal front end maps positional arguments to option names. */
  cli?: { positional: readonly string[]; example: string };
  /** For message context-menu commands: what to take from the target message. */
  messageTarget?: 'image' | 'text';
  /** Suggestions while the user types an option (Discord autocomplete). */
  autocomplete?: (option: string, typed: string, services: Services) => Array<{ name: string; value: string }>;
  execute(context: CommandContext<z.output<S>>): Promise<CommandResult>;
}

/** Type helper: infers the option type of a command from its schema. */
export function defineCommand<S extends z.ZodType>(command: Command<S>): Command<S> {
  return command;
}
