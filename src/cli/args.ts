import { readFile, stat } from 'node:fs/promises';
import { UserFacingError } from '../util/errors.js';
import { catalogueEntry } from '../command/catalogue.js';
import type { ImageInput, SlashCommand } from '../command/definition.js';
import { basename } from 'node:path';

export interface ParsedArgs {
  positional: string[];
  flags: Record<string, string | true>;
}

const BOOLEAN_FLAGS = new Set(['json', 'help']);

/** `--name value`, `--name=value` and boolean `--json`/`--help`; everything else is positional. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const positional: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--') && arg.length > 2) {
      const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      if (inline !== undefined) flags[name] = inline;
      else if (BOOLEAN_FLAGS.has(name)) flags[name] = true;
      else {
        const value = argv[i + 1];
        if (value === undefined) throw new UserFacingError(`--${name} needs a value.`, { code: 'usage' });
        flags[name] = value;
        i += 1;
      }
    } else positional.push(arg);
  }
  return { positional, flags };
}

async function readImage(path: string): Promise<ImageInput> {
  try {
    return { name: basename(path), bytes: await readFile(path) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserFacingError(`File not found: ${path}`, { code: 'file_missing' });
    if (code === 'EISDIR')
      throw new UserFacingError(`${path} is a folder, not an image file.`, { code: 'file_missing' });
    throw new UserFacingError(`Could not read ${path}: ${(error as Error).message}`, { code: 'file_missing' });
  }
}

const IMAGE_FILE_NAME = /^\S+\.(?:jpe?g|png|webp|gif|avif|heic|heif|tiff?)$/i;

/**
 * Whether a positional argument names a file rather than being text: an existing file, or a
 * single word with an image's extension (so a mistyped path says "file not found" instead of
 * being read as a sentence).
 */
async function namesFile(value: string): Promise<boolean> {
  if (IMAGE_FILE_NAME.test(value)) return true;
  try {
    return (await stat(value)).isFile();
  } catch {
    return false;
  }
}

/**
 * Maps terminal arguments onto a command's declared options, reading image files from disk: one
 * set of options per run (several when a repeatable option is given more than one file).
 */
export async function cliRuns(command: SlashCommand, args: ParsedArgs): Promise<Array<Record<string, unknown>>> {
  const repeatable = command.repeatable;
  const slot = repeatable === undefined ? -1 : command.positional.indexOf(repeatable);
  const extra = slot >= 0 && slot === command.positional.length - 1 ? args.positional.slice(slot + 1) : [];
  const first = await cliOptions(command, {
    ...args,
    positional: args.positional.slice(0, args.positional.length - extra.length),
  });
  const runs = [first];
  for (const file of extra) runs.push({ ...first, [repeatable!]: await readImage(file) });
  return runs;
}

/** Maps terminal arguments onto a command's declared options, reading image files from disk. */
export async function cliOptions(command: SlashCommand, args: ParsedArgs): Promise<Record<string, unknown>> {
  const specs = command.options.specs;
  const usage = catalogueEntry(command).cli?.usage ?? command.name;
  const raw: Record<string, unknown> = {};
  const last = command.positional.length - 1;
  for (const [index, value] of args.positional.entries()) {
    if (command.variadic && index > last && last >= 0) {
      const name = command.positional[last]!;
      raw[name] = `${String(raw[name])}\n${value}`;
      continue;
    }
    const name = command.positional[index];
    if (!name)
      throw new UserFacingError(`Unexpected argument "${value}". Usage: sightread ${usage}`, { code: 'usage' });
    // The file option takes a positional argument that names a file (`preprocess photo.jpg`,
    // `teach classify photo.jpg`); the option names after it move up by one.
    if (
      command.positionalFile &&
      name !== command.positionalFile &&
      raw[command.positionalFile] === undefined &&
      (await namesFile(value))
    )
      raw[command.positionalFile] = value;
    else raw[name] = value;
  }
  for (const [name, value] of Object.entries(args.flags)) {
    if (name === 'json' || name === 'help' || name === 'out') continue;
    if (!(name in specs)) {
      const known =
        Object.keys(specs)
          .map((option) => `--${option}`)
          .join(', ') || 'none';
      throw new UserFacingError(`Unknown option --${name} for ${command.name}. Options: ${known}.`, { code: 'usage' });
    }
    raw[name] = value;
  }
  for (const [name, spec] of Object.entries(specs)) {
    const value = raw[name];
    if (value !== undefined && spec.kind === 'attachment') raw[name] = await readImage(String(value));
  }
  return raw;
}
