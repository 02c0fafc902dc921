import { readdir } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { z } from 'zod';
import type { Command } from './definition.js';

const commandModule = z.object({
  default: z.object({
    data: z.looseObject({ name: z.string().min(1).max(32) }),
    options: z.custom<z.ZodType>((value) => value instanceof z.ZodType, 'options must be a zod schema'),
    execute: z.custom<Command['execute']>((value) => typeof value === 'function', 'execute must be a function'),
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
    if (!parsed.success) throw new Error(`commands/${file} is not a valid command: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    // The schema only checks the shape; keep the module's own object, which zod would strip.
    const command = (module as { default: Command }).default;
    if (commands.has(command.data.name)) throw new Error(`commands/${file}: duplicate command name "${command.data.name}"`);
    commands.set(command.data.name, command);
  }
  return commands;
}
