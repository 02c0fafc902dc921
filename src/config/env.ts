import dotenv from 'dotenv';
import { ConfigError, parseConfig, type Config } from './config.js';

type RequiredSetting = 'DISCORD_TOKEN' | 'DISCORD_APP_ID' | 'REDIS_URL';

/**
 * Loads `.env` (without overriding the real environment) and parses it. A bad value ends the
 * process with the list of problems and exit code 78 (EX_CONFIG), never a stack trace.
 */
export function loadConfigOrExit(): Config {
  dotenv.config({ quiet: true });
  try {
    return parseConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nSee .env.example for every variable and its meaning.\n`);
      process.exit(78);
    }
    throw error;
  }
}

/**
 * Loads the configuration and insists on the settings one entry point needs (the bot, the
 * sharding manager, the command deploy script); a missing one ends the process like any other
 * invalid configuration: the problem on stderr and exit code 78.
 */
export function loadConfigRequiring(
  settings: readonly RequiredSetting[],
  purpose: string,
): Config & Record<RequiredSetting, string> {
  const config = loadConfigOrExit();
  const missing = settings.filter((name) => !config[name]);
  if (missing.length > 0) {
    const error = new ConfigError([
      `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} required ${purpose} (see .env.example)`,
    ]);
    process.stderr.write(`${error.message}\n`);
    process.exit(78);
  }
  return config as Config & Record<RequiredSetting, string>;
}
