import { pino, type Logger } from 'pino';
import { redactSecrets, type Config } from '../config/config.js';

export type { Logger } from 'pino';

/**
 * Structured JSON logs on stderr, so that stdout stays clean for `--json` output.
 * Secrets are redacted both by key and, as a last line, by value in every message.
 */
export function createLogger(config: Pick<Config, 'LOG_LEVEL' | 'DISCORD_TOKEN' | 'LLM_API_KEY'>): Logger {
  return pino(
    {
      level: config.LOG_LEVEL,
      redact: {
        paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization', 'apiKey', '*.apiKey'],
        censor: '[redacted]',
      },
      hooks: {
        logMethod(args, method) {
          const cleaned = args.map((arg) => (typeof arg === 'string' ? redactSecrets(arg, config) : arg));
          method.apply(this, cleaned as Parameters<typeof method>);
        },
      },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}
