import { randomBytes } from 'node:crypto';
import { ButtonStyle, ComponentType, type APIActionRowComponent, type APIButtonComponent } from 'discord-api-types/v10';
import { z } from 'zod';
import type { Command, FollowUp } from '../command/definition.js';
import { snowflake, type JournaledOptions } from '../journal/entry.js';

/**
 * Buttons under results ("Where did it look?" under /classify): each carries, in its custom_id,
 * a version, the command it runs and a key to the input of the reply it sits under, which is held
 * here in memory only (the image as its Discord link, the text as typed), for at most 15 minutes
 * and at most MAX_HELD replies, and never written anywhere. custom_id comes back from Discord as
 * user-controlled data: it is parsed strictly and names nothing but a command and a random key.
 */

/** The version of the custom_id layout; an id from another version is refused, never guessed at. */
const VERSION = 'sr1';
/** As long as an interaction's token lives: a button is pressed within a lesson, not days later. */
export const HELD_FOR_MS = 15 * 60_000;
/** The most replies whose input is held at once; the oldest goes first. */
export const MAX_HELD = 2000;
/** The option values a follow-up takes from the reply's input: the image or the text, nothing else. */
const CARRIED = ['image', 'text'] as const;

const customId = z
  .string()
  .max(100)
  .regex(/^sr1:[a-z][a-z-]{0,31}:[A-Za-z0-9_-]{16}$/, 'is not a sightread button')
  .transform((id) => {
    const [, command, key] = id.split(':') as [string, string, string];
    return { command, key };
  });

export type ParsedButton = z.output<typeof customId>;

/** The command and input key a button names, or undefined for anything that is not one of ours (of this version). */
export function parseButton(id: string): ParsedButton | undefined {
  const parsed = customId.safeParse(id);
  return parsed.success ? parsed.data : undefined;
}

export const buttonId = (command: string, key: string): string => `${VERSION}:${command}:${key}`;

export interface HeldInput {
  /** The command whose reply the buttons sit under (to say which to run again). */
  source: string;
  options: JournaledOptions;
  heldUntil: number;
  /** The follow-ups asked for under this reply so far, by command: each runs once per reply. */
  runs: Map<string, FollowUpRun>;
}

/**
 * A follow-up already asked for under one reply. The same input and the same defaults give the
 * same answer (seeds are fixed), so a class pressing one button gets one run and one public
 * answer: later presses are sent to it privately instead of running it again and posting a copy.
 */
export type FollowUpRun = { userId: string; interactionId: string } & (
  { state: 'running'; since: number } | { state: 'answered'; at: number; messageUrl: string | undefined }
);

/** The one run of a follow-up under a reply, held by the press that started it. */
export interface FollowUpClaim {
  /** Its answer is public in the channel (at `messageUrl` when known): later presses are sent there. */
  answered(messageUrl: string | undefined): void;
  /** It ended without a public answer (an error, a refusal, a restart): the next press runs it. No-op once answered. */
  release(): void;
}

/** Inputs of recent replies by key, bounded in number and time. */
export class HeldInputs {
  private readonly held = new Map<string, HeldInput>();

  constructor(
    private readonly now: () => number,
    private readonly maxHeld = MAX_HELD,
  ) {}

  get size(): number {
    return this.held.size;
  }

  /** Holds a reply's image or text for its buttons; returns the key, or undefined when it has neither. */
  hold(source: string, options: JournaledOptions): string | undefined {
    const carried: JournaledOptions = {};
    for (const name of CARRIED) {
      const value = options[name];
      if (value !== undefined) carried[name] = value;
    }
    if (Object.keys(carried).length === 0) return undefined;
    this.sweep();
    while (this.held.size >= this.maxHeld) {
      const oldest = this.held.keys().next().value;
      if (oldest === undefined) break;
      this.held.delete(oldest);
    }
    const key = randomBytes(12).toString('base64url');
    this.held.set(key, { source, options: carried, heldUntil: this.now() + HELD_FOR_MS, runs: new Map() });
    return key;
  }

  /** The run of `command` under the reply of `key` that a press has already claimed (running, or answered), if any. */
  earlierRun(key: string, command: string): FollowUpRun | undefined {
    return this.get(key)?.runs.get(command);
  }

  /**
   * Claims the one run of `command` under the reply of `key` for the press `interactionId` of
   * `userId`, or says which press has it. Called when the press is about to run, with no wait
   * in between, so two presses never both run. An input no longer held has no runs to share.
   */
  claimFollowUp(
    key: string,
    command: string,
    userId: string,
    interactionId: string,
  ): { claim: FollowUpClaim } | { earlier: FollowUpRun } {
    const runs = this.get(key)?.runs;
    const earlier = runs?.get(command);
    if (earlier) return { earlier };
    const run: FollowUpRun = { state: 'running', userId, interactionId, since: this.now() };
    runs?.set(command, run);
    let settled = false;
    return {
      claim: {
        answered: (messageUrl) => {
          if (settled) return;
          settled = true;
          if (runs?.get(command) === run)
            runs.set(command, { state: 'answered', userId, interactionId, at: this.now(), messageUrl });
        },
        release: () => {
          if (settled) return;
          settled = true;
          if (runs?.get(command) === run) runs.delete(command);
        },
      },
    };
  }

  /** The input behind a key, while it is held. */
  get(key: string): HeldInput | undefined {
    const input = this.held.get(key);
    if (!input) return undefined;
    if (input.heldUntil <= this.now()) {
      this.held.delete(key);
      return undefined;
    }
    return input;
  }

  private sweep(): void {
    const now = this.now();
    // Insertion order is expiry order: stop at the first one still held.
    for (const [key, input] of this.held) {
      if (input.heldUntil > now) break;
      this.held.delete(key);
    }
  }
}

/**
 * Whether the reply of `source` (the command whose input is held) carries a button for
 * `command`. The command in a custom_id is the presser's to write, like all of it: a held key
 * runs only the follow-ups its own reply offered, never another command on the same input.
 */
export function offersFollowUp(source: Command | undefined, command: string): boolean {
  return source?.followUps?.some((followUp) => followUp.command === command) ?? false;
}

const sentMessage = z.object({ id: snowflake });

/**
 * The link to a message the bot just sent (what an edit of the reply returns: a discord.js
 * Message, or the API's message object), or undefined when the id or the channel is unknown.
 */
export function messageLink(guildId: string | null, channelId: string | null, sent: unknown): string | undefined {
  const message = sentMessage.safeParse(sent);
  if (!message.success || !snowflake.safeParse(channelId).success) return undefined;
  return `https://discord.com/channels/${guildId ?? '@me'}/${channelId}/${message.data.id}`;
}

/**
 * What a press of a follow-up that already ran (or is running) under this reply is told,
 * privately: whose press it was, when, and where the answer is. Mentions are not pinged
 * (replies allow none), and Discord shows `<t:…:R>` as "2 minutes ago" in the reader's own time.
 */
export function earlierRunMessage(label: string, run: FollowUpRun, presserId: string): string {
  const who = run.userId === presserId ? 'you' : `<@${run.userId}>`;
  if (run.state === 'running')
    return (
      `⏳ *${label}* under this message is already running for ${who} (pressed <t:${Math.floor(run.since / 1000)}:R>); ` +
      'its answer will appear in this channel (if it does not, press the button again). Each button runs once per ' +
      'message: the same input gives the same answer.'
    );
  return (
    `↪️ *${label}* under this message was answered for ${who} <t:${Math.floor(run.at / 1000)}:R>: ` +
    `${run.messageUrl ?? 'just above, in this channel'}. The same input gives the same answer, so it is not run again.`
  );
}

/** How the journal names a button press: recorded without its input, which stays in memory only. */
const HELD_PRESS = 'held:';
export const heldPressName = (command: string): string => `${HELD_PRESS}${command}`;
/** The command of a journaled button press, or undefined for any other journaled name. */
export const heldPressCommand = (name: string): string | undefined =>
  name.startsWith(HELD_PRESS) ? name.slice(HELD_PRESS.length) : undefined;

/** The options a follow-up command gets: the held input's values that it declares. */
export function followUpOptions(command: Command, input: HeldInput): JournaledOptions {
  const declared = new Set(command.options.discord.map((option) => option.name));
  const options: JournaledOptions = {};
  for (const [name, value] of Object.entries(input.options)) if (declared.has(name)) options[name] = value;
  return options;
}

/** One row of buttons for the follow-ups this bot has, or undefined when there are none. */
export function followUpRow(
  followUps: readonly FollowUp[],
  commands: ReadonlyMap<string, Command>,
  key: string,
): APIActionRowComponent<APIButtonComponent> | undefined {
  const buttons = followUps
    .filter((followUp) => commands.has(followUp.command))
    .slice(0, 5)
    .map((followUp): APIButtonComponent => ({
      type: ComponentType.Button,
      style: ButtonStyle.Secondary,
      label: followUp.label.slice(0, 80),
      custom_id: buttonId(followUp.command, key),
    }));
  return buttons.length ? { type: ComponentType.ActionRow, components: buttons } : undefined;
}
