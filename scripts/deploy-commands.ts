import { REST, Routes } from 'discord.js';
import type {
  RESTGetAPIApplicationCommandsResult,
  RESTPostAPIApplicationCommandsJSONBody,
} from 'discord-api-types/v10';
import { registration } from '../src/command/definition.js';
import { loadCommands } from '../src/command/loader.js';
import { loadConfigRequiring } from '../src/config/env.js';

/**
 * `npm run commands:deploy`: registers every command in commands/ (bulk overwrite) to
 * DISCORD_GUILD_ID when set (instant, for development), else globally, and prints what changed.
 */
const config = loadConfigRequiring(['DISCORD_TOKEN', 'DISCORD_APP_ID'], 'to deploy commands');
const definitions = [...(await loadCommands()).values()].map(registration);
const rest = new REST({ api: config.DISCORD_API_URL }).setToken(config.DISCORD_TOKEN);
const route = config.DISCORD_GUILD_ID
  ? Routes.applicationGuildCommands(config.DISCORD_APP_ID, config.DISCORD_GUILD_ID)
  : Routes.applicationCommands(config.DISCORD_APP_ID);
const scope = config.DISCORD_GUILD_ID
  ? `server ${config.DISCORD_GUILD_ID}`
  : 'all servers (global; may take up to an hour to appear)';

/** The fields we control, in a stable order, so unchanged commands compare equal. */
const comparable = (command: RESTPostAPIApplicationCommandsJSONBody): string =>
  JSON.stringify({
    name: command.name,
    type: command.type ?? 1,
    description: 'description' in command ? (command.description ?? '') : '',
    options: 'options' in command ? (command.options ?? []) : [],
    permissions: command.default_member_permissions ?? null,
  });

try {
  const existing = (await rest.get(route)) as RESTGetAPIApplicationCommandsResult;
  const before = new Map(
    existing.map((command) => [command.name, comparable(command as RESTPostAPIApplicationCommandsJSONBody)]),
  );
  const added = definitions.filter((command) => !before.has(command.name)).map((command) => command.name);
  const changed = definitions
    .filter((command) => before.has(command.name) && before.get(command.name) !== comparable(command))
    .map((command) => command.name);
  const removed = [...before.keys()].filter((name) => !definitions.some((command) => command.name === name));
  await rest.put(route, { body: definitions });
  console.log(`Registered ${definitions.length} commands to ${scope}.`);
  console.log(`  added:   ${added.join(', ') || 'none'}`);
  console.log(`  changed: ${changed.join(', ') || 'none'}`);
  console.log(`  removed: ${removed.join(', ') || 'none'}`);
  console.log(`  unchanged: ${definitions.length - added.length - changed.length}`);
} catch (error) {
  console.error(`Could not register commands: ${(error as Error).message}`);
  process.exitCode = 1;
}
