import { randomUUID } from 'node:crypto';
import { UserFacingError } from '../util/errors.js';
import type { Command, CommandPlace, CommandServices, RichReply } from './definition.js';

/** Validates raw options with the command's schema; each problem names its option. */
export function validateOptions(command: Command, raw: Record<string, unknown>): unknown {
  const parsed = command.options.schema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.');
      const message = issue.code === 'invalid_type' && raw[name] === undefined ? 'is required' : issue.message;
      return name ? `${name}: ${message}` : message;
    });
    // One value can break several rules with the same message (1e20: not a safe integer, and above the maximum).
    throw new UserFacingError(`Invalid input for /${command.name}: ${[...new Set(problems)].join('; ')}.`, {
      code: 'invalid_options',
    });
  }
  return parsed.data;
}

/** Runs one command with validated options and returns its report; errors propagate to the caller's error boundary. */
export async function runCommand(
  command: Command,
  raw: Record<string, unknown>,
  services: CommandServices,
  progress: (text: string) => void = () => {},
  requestId: string = randomUUID(),
  place: CommandPlace = {},
): Promise<unknown> {
  const options = validateOptions(command, raw) as never;
  return command.execute({ options, services, progress, requestId, place });
}

/** A report with every presentation of it: what tests and the benchmark look at. */
export interface Presented extends RichReply {
  report: unknown;
  data: unknown;
  text: string;
}

export async function present(command: Command, report: unknown): Promise<Presented> {
  const rich = await command.toEmbeds(report);
  return { report, data: command.toJson(report), text: command.toText(report), ...rich };
}

/** Runs a command and presents its report every way (JSON, text, embeds and files). */
export async function runAndPresent(
  command: Command,
  raw: Record<string, unknown>,
  services: CommandServices,
  progress?: (text: string) => void,
): Promise<Presented> {
  return present(command, await runCommand(command, raw, services, progress));
}
