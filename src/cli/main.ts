import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Services } from '../app.js';
import { catalogueEntry, type CatalogueEntry } from '../command/catalogue.js';
import type { SlashCommand } from '../command/definition.js';
import { loadCommands } from '../command/loader.js';
import { loadConfigOrExit } from '../config/env.js';
import { describeError, isUserFacing } from '../util/errors.js';
import { createLogger } from '../util/logger.js';
import { runCommand } from '../command/run.js';
import { openJournalOrExit } from '../journal/open.js';
import type { Database } from '../journal/database.js';
import { cliRuns, parseArgs } from './args.js';

function usage(entries: CatalogueEntry[]): string {
  return [
    'Usage: sightread <command> [arguments] [--json] [--out <folder for charts>] [--server <id> (/teach)]',
    '',
    'Commands:',
    ...entries.map((entry) => `  ${entry.cli?.usage}`),
    '',
    'Examples:',
    ...entries.map((entry) => `  ${entry.cli?.example.replace('npm run cli --', 'npm run -s cli --')}`),
  ].join('\n');
}

/** The terminal front end: the same command modules Discord runs, replying to stdout. */
async function main(argv: string[]): Promise<number> {
  const config = loadConfigOrExit();
  // The terminal shows results; routine logs would drown them unless asked for.
  const logger = createLogger(process.env.LOG_LEVEL ? config : { ...config, LOG_LEVEL: 'warn' });
  const commands = await loadCommands();
  const runnable = [...commands.values()].filter((command): command is SlashCommand => command.kind === 'slash');
  const [name, ...rest] = argv;
  const help = usage(runnable.map(catalogueEntry));
  if (!name || name === '--help') {
    process.stdout.write(`${help}\n`);
    return name ? 0 : 2;
  }
  const command = runnable.find((candidate) => candidate.name === name);
  if (!command) {
    process.stderr.write(`Unknown command "${name}".\n${help}\n`);
    return 2;
  }
  let services: Services | undefined;
  let database: Database | undefined;
  try {
    const args = parseArgs(rest);
    const entry = catalogueEntry(command);
    if (args.flags.help) {
      process.stdout.write(
        `${command.name}: ${command.description}\nUsage: sightread ${entry.cli?.usage}\nExample: ${entry.cli?.example}\n`,
      );
      return 0;
    }
    // --server: the server a per-server command (/teach) acts for; the terminal is server "cli".
    const server = typeof args.flags.server === 'string' ? args.flags.server : 'cli';
    const flags = Object.fromEntries(Object.entries(args.flags).filter(([name]) => name !== 'server'));
    const runs = await cliRuns(command, { ...args, flags });
    // The same database the bot uses (DATA_DIR or DATABASE_URL), opened only for commands that keep rows.
    if (command.usesDatabase) database = (await openJournalOrExit(config, { logger })).database;
    services = new Services(config, logger, database ? { database } : {});
    const progress = args.flags.json ? () => {} : (text: string) => process.stderr.write(`… ${text}\n`);
    const reports: unknown[] = [];
    for (const raw of runs) {
      reports.push(
        await runCommand(command, raw, services, progress, undefined, {
          guildId: server,
          userId: 'cli',
          canManageServer: true,
        }),
      );
    }
    const json = reports.map((report) => command.toJson(report));
    process.stdout.write(
      args.flags.json
        ? `${JSON.stringify(json.length === 1 ? json[0] : json, null, 2)}\n`
        : `${reports.map((report) => command.toText(report)).join('\n')}\n`,
    );
    if (typeof args.flags.out === 'string') {
      // Images are drawn only when asked for: the terminal shows text.
      await mkdir(args.flags.out, { recursive: true });
      for (const report of reports) {
        const { files } = await command.toEmbeds(report);
        for (const file of files) {
          await writeFile(join(args.flags.out, file.name), file.data);
          process.stderr.write(`wrote ${join(args.flags.out, file.name)}\n`);
        }
      }
    }
    return 0;
  } catch (error) {
    if (isUserFacing(error)) {
      process.stderr.write(`Error: ${error.message}\n`);
      return error.code === 'usage' ? 2 : 1;
    }
    logger.error({ err: error, command: name }, 'command failed');
    process.stderr.write(`Internal error: ${describeError(error)}\n`);
    return 70;
  } finally {
    await services?.dispose();
    await database?.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`Internal error: ${describeError(error)}\n`);
    process.exitCode = 70;
  },
);
