import { readdir } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { z } from 'zod';
import type { Command } from './definition.js';

const fn = (what: string) =>
  z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', `${what} must be a function`);
const commandModule = z.object({
  default: z.object({
    kind: z.enum(['slash', 'message']),
    name: z.string().min(1).max(32),
    help: z.object({ what: z.string().min(1) }),
    options: z.object({
      schema: z.custom<z.ZodType>((value) => value instanceof z.ZodType, 'options.schema must be a zod schema'),
    }),
    execute: fn('execute'),
    toJson: fn('toJson'),
    toText: fn('toText'),
    toEmbeds: fn('toEmbeds'),
  }),
});

export const COMMANDS_DIR = fileURLToPath(new URL('../../commands/', import.meta.url));

/** Imports every command module in `commands/`, validates its shape, and keys it by name. */
export async function loadCommands(dir = COMMANDS_DIR): Promise<Map<string, Command>> {
  const files = (await readdir(dir)).filter((file) => /\.(ts|js)$/.test(file) && !file.endsWith('.d.ts')).sort();
  const commands = new Map<string, Command>();
  for (const file of files) {
    const module: unknown = await import(pathToFileURL(join(dir, file)).href);
    const parsed = commandModule.safeParse(module);
    if (!parsed.success)
      throw new Error(
        `commands/${file} is not a valid command: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    // The schema only checks the shape; keep the module's own object, which zod would strip.
    const command = (module as { default: Command }).default;
    if (commands.has(command.name)) throw new Error(`commands/${file}: duplicate command name "${command.name}"`);
    commands.set(command.name, command);
  }
  return commands;
}
