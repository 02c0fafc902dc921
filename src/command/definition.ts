import {
  ApplicationCommandType,
  PermissionFlagsBits,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
  type RESTPostAPIContextMenuApplicationCommandsJSONBody,
} from 'discord-api-types/v10';
import type { Services } from '../app.js';
import { ms } from '../render/format.js';
import {
  defineOptions,
  option,
  type ImageInput,
  type OptionSet,
  type OptionSpecs,
  type OptionValues,
} from './options.js';

export type { ImageInput };

export interface EmbedField {
  name: string;
  value: string;
  inline?: boolean;
}

/** A reply independent of Discord; the Discord adapter enforces Discord's limits. */
export interface EmbedSpec {
  title: string;
  description?: string;
  fields?: EmbedField[];
  footer?: string;
  /** File name of an attached image to show as the embed's image. */
  image?: string;
  color?: number;
}

export interface ReplyFile {
  name: string;
  data: Buffer;
}

/** The rich presentation of a report: embeds and the images they show (Discord, and the CLI's --out). */
export interface RichReply {
  embeds: EmbedSpec[];
  files: ReplyFile[];
}

/** What a command may use: the model services' facades, the notes, configuration, never the engine or store. */
export type CommandServices = Pick<
  Services,
  | 'vision'
  | 'text'
  | 'teach'
  | 'quiz'
  | 'settings'
  | 'serverData'
  | 'topics'
  | 'assistant'
  | 'config'
  | 'logger'
  | 'status'
>;

/** Where a command was used: the server (absent in a DM) and who asked. The CLI's --server sets the server. */
export interface CommandPlace {
  guildId?: string | undefined;
  userId?: string | undefined;
  /**
   * Whether who asked may manage the server (Discord's Manage Server permission, read when the
   * interaction arrived and journaled with it); the terminal's operator may. Absent: may not.
   */
  canManageServer?: boolean | undefined;
  channelId?: string | undefined;
  /**
   * The interaction the reply goes through, on Discord: what a command that edits its reply later
   * (a /quiz round's reveal) keeps. Absent in the CLI.
   */
  reply?: { applicationId: string; token: string } | undefined;
}

export interface CommandContext<Options> {
  options: Options;
  services: CommandServices;
  /** Short status lines while the request waits (queue position, downloading…). */
  progress: (text: string) => void;
  requestId: string;
  place: CommandPlace;
}

/** How /help and the README describe a command. */
export interface CommandHelp {
  /** One sentence: what the command shows. */
  what: string;
  /** Option values for the example; options left out are not shown. */
  example?: Record<string, string>;
}

/**
 * A button under a command's reply that runs another command on the same input (the image or
 * the text), for whoever presses it: "Where did it look?" under /classify runs /saliency.
 */
export interface FollowUp {
  /** The button's text (Discord: at most 80 characters). */
  label: string;
  /** The command it runs; a button whose command this bot does not have is left out. */
  command: string;
}

/** A button of a command's own under its reply (a quiz answer), with an id the command made. */
export interface AnswerButton {
  label: string;
  customId: string;
}

interface CommandBase<Report> {
  name: string;
  help: CommandHelp;
  /** Buttons under the reply, in order (at most five). */
  followUps?: readonly FollowUp[];
  /**
   * Buttons of the command's own under this report's reply, instead of the follow-ups (at most
   * five): their presses are handled before the follow-up path, by id.
   */
  answerButtons?(report: Report): readonly AnswerButton[] | undefined;
  /** Runs model inference: on Discord it waits its turn in the fair queue; cheap commands never wait behind it. */
  usesModels?: boolean;
  /** Keeps per-server rows in the database (the CLI opens it only for these). */
  usesDatabase?: boolean;
  /**
   * Only for members with Manage Server: Discord hides the command from others
   * (default_member_permissions), and the command still checks `place.canManageServer`, since
   * a stale client can send it anyway.
   */
  managersOnly?: boolean;
  /** Computes the report: no Discord, no drawing. */
  execute(context: CommandContext<never>): Promise<Report>;
  /** The JSON the CLI prints with --json: one shape per command. */
  toJson(report: Report): unknown;
  toText(report: Report): string;
  toEmbeds(report: Report): RichReply | Promise<RichReply>;
  /** Suggestions while the user types an option (Discord autocomplete). */
  autocomplete?(option: string, typed: string, services: CommandServices): Array<{ name: string; value: string }>;
}

export interface SlashCommand<Specs extends OptionSpecs = OptionSpecs, Report = unknown> extends CommandBase<Report> {
  kind: 'slash';
  description: string;
  options: OptionSet<Specs>;
  /** Options the CLI takes positionally, in order; the rest are --flags. */
  positional: ReadonlyArray<keyof Specs & string>;
  /**
   * An optional attachment option that the first positional argument fills instead when it names
   * a file (`preprocess "a sentence"` or `preprocess photo.jpg`).
   */
  positionalFile?: keyof Specs & string;
  /** The last positional option takes every remaining argument, one per line (`languages "a" "b"`). */
  variadic?: boolean;
  /**
   * An attachment option the CLI accepts several files for (`teach add <class> <image…>`): the
   * command runs once per file, in order, and --json prints an array when there was more than one.
   */
  repeatable?: keyof Specs & string;
  execute(context: CommandContext<OptionValues<Specs>>): Promise<Report>;
}

/**
 * The input a context-menu command takes from the message it is used on, and, for a command
 * that asks a question first (`ask`), the member's answer.
 */
export type MessageInput = ({ image: ImageInput; text?: undefined } | { text: string; image?: undefined }) & {
  answer?: string | undefined;
};

/**
 * A question a context-menu command asks before it runs (a context menu carries no options):
 * Discord shows it as a form (a modal) with one line of text.
 */
export interface Question {
  /** The form's title (Discord: at most 45 characters). */
  title: string;
  /** The text field's label (at most 45 characters). */
  label: string;
  placeholder?: string;
  maxLength: number;
}

/** A message context-menu command (Apps → …): its input is taken from the target message. */
export interface MessageCommand<Report = unknown> extends CommandBase<Report> {
  kind: 'message';
  target: 'image' | 'text';
  /** Asked in a form before the command runs; the answer arrives as `options.answer`. */
  ask?: Question;
  options: OptionSet;
  execute(context: CommandContext<MessageInput>): Promise<Report>;
}

export type Command = SlashCommand | MessageCommand;

/** Declares a slash command; the option types flow from the declaration into `execute`. */
export function slashCommand<Specs extends OptionSpecs, Report>(
  command: Omit<SlashCommand<Specs, Report>, 'kind' | 'options'> & { options: Specs },
): SlashCommand<Specs, Report> {
  return { ...command, kind: 'slash', options: defineOptions(command.options) };
}

/** Declares a message context-menu command that reads the image or the text of the message it is used on. */
export function messageCommand<Report>(
  command: Omit<MessageCommand<Report>, 'kind' | 'options'>,
): MessageCommand<Report> {
  const answer: OptionSpecs = command.ask
    ? { answer: option.string(command.ask.label, { required: true, maxLength: command.ask.maxLength }) }
    : {};
  const options =
    command.target === 'image'
      ? defineOptions({ image: option.attachment('The image of the message'), ...answer })
      : defineOptions({ text: option.string('The text of the message', { required: true }), ...answer });
  return { ...command, kind: 'message', options };
}

/** The JSON Discord registers for a command. */
export function registration(
  command: Command,
): RESTPostAPIChatInputApplicationCommandsJSONBody | RESTPostAPIContextMenuApplicationCommandsJSONBody {
  // Discord shows the command only to members with these permissions (a bit set, as a string).
  const permissions = command.managersOnly
    ? { default_member_permissions: String(PermissionFlagsBits.ManageGuild) }
    : {};
  if (command.kind === 'message') return { name: command.name, type: ApplicationCommandType.Message, ...permissions };
  return {
    name: command.name,
    type: ApplicationCommandType.ChatInput,
    description: command.description,
    ...(command.options.discord.length ? { options: command.options.discord } : {}),
    ...permissions,
  };
}

/**
 * The image models a vision command runs: the `model` option when given, else the server's
 * /settings default (CNN and ViT side by side unless the server chose one).
 */
export async function chosenImageModels(
  model: string | undefined,
  services: Pick<CommandServices, 'settings'>,
  place: CommandPlace,
): Promise<string> {
  const given = model?.trim();
  return given ? given : (await services.settings.effective(place.guildId)).imageModel;
}

/**
 * The progress lines of a command that runs several models at once (what the vision service's
 * `ExperimentWatch` reports): where a model waits in its queue, and each model as it ends, so a
 * run of several seconds says how far it has got.
 */
export function modelProgress(
  progress: (text: string) => void,
  doing: string,
): {
  waiting: (notice: { model: string; position: number }) => void;
  finished: (update: { model: string; ok: boolean; ms: number; pending: string[] }) => void;
} {
  return {
    waiting: ({ model, position }) => progress(`${doing}: ${model} is waiting in the queue, position ${position}`),
    // The last model's end says nothing: the answer follows at once, and a line sent now would only delay it.
    finished: ({ model, ok, ms: took, pending }) => {
      if (pending.length > 0)
        progress(
          `${doing}: ${model} ${ok ? `done in ${ms(took)}` : 'could not run'}; still running: ${pending.join(', ')}…`,
        );
    },
  };
}
