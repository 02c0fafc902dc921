import { randomBytes } from 'node:crypto';
import { ButtonStyle, ComponentType, type APIActionRowComponent, type APIButtonComponent } from 'discord-api-types/v10';
import { z } from 'zod';
import type { Command, FollowUp } from '../command/definition.js';
import type { JournaledOptions } from '../journal/entry.js';

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
    this.held.set(key, { source, options: carried, heldUntil: this.now() + HELD_FOR_MS });
    return key;
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
