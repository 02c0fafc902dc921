import { pino, type DestinationStream, type Logger } from 'pino';
import { redactSecrets, type Config, type SECRET_VARIABLES } from '../config/config.js';

export type { Logger } from 'pino';

type SecretSettings = Pick<Config, (typeof SECRET_VARIABLES)[number]>;

/**
 * The last step before a log line leaves the process: every configured secret, and anything
 * shaped like a credential, is replaced in the finished JSON line. Working on the serialised
 * line rather than on the logged object reaches every field, however deeply nested, error
 * messages, stacks and causes, and the bindings of child loggers, which pino serialises
 * once when the child is made and never shows a hook again.
 */
export function redactingDestination(destination: DestinationStream, secrets: SecretSettings): DestinationStream {
  return {
    write: (line: string) => destination.write(redactSecrets(line, secrets)),
  };
}

/**
 * Structured JSON logs on stderr, so that stdout stays clean for `--json` output. Secrets are
 * redacted by key (the fields that normally hold them) and by value in every line; see
 * `redactingDestination`. `destination` is for tests, which read the lines back.
 */
export function createLogger(
  config: Pick<Config, 'LOG_LEVEL'> & SecretSettings,
  destination: DestinationStream = pino.destination({ fd: 2, sync: true }),
): Logger {
  return pino(
    {
      level: config.LOG_LEVEL,
      redact: {
        paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization', 'apiKey', '*.apiKey'],
        censor: '[redacted]',
      },
    },
    redactingDestination(destination, config),
  );
}
