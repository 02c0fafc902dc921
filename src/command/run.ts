import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { Services } from '../app.js';
import type { Command, CommandResult } from './definition.js';
import { UserFacingError } from '../util/errors.js';

/** Validates raw options with the command's schema; each problem names its option. */
export function validateOptions(command: Command, raw: Record<string, unknown>): unknown {
  const parsed = command.options.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.');
      const message = issue.code === 'invalid_type' && raw[name] === undefined ? 'is required' : issue.message;
      return name ? `${name}: ${message}` : message;
    });
    throw new UserFacingError(`Invalid input for /${command.data.name}: ${problems.join('; ')}.`, { code: 'invalid_options' });
  }
  return parsed.data;
}

/** Runs one command with validated options; errors propagate to the caller's error boundary. */
export async function runCommand(
  command: Command,
  raw: Record<string, unknown>,
  services: Services,
  progress: (text: string) => void = () => {},
  requestId: string = randomUUID(),
): Promise<CommandResult> {
  const options: unknown = validateOptions(command, raw);
  return command.execute({ options: options as z.output<typeof command.options>, services, progress, requestId });
}
