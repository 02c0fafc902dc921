import dotenv from 'dotenv';
import { ConfigError, parseConfig, type Config } from './config.js';

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
