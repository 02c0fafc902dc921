import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Services } from '../app.js';
import { loadCommands } from '../command/loader.js';
import { loadConfigOrExit } from '../config/env.js';
import { describeError, isUserFacing } from '../util/errors.js';
import { createLogger } from '../util/logger.js';
import { runCommand } from '../command/run.js';
import { cliOptions, parseArgs } from './args.js';

function usage(names: string[], examples: string[]): string {
  return [
    'Usage: sightread <command> [arguments] [--json] [--out <folder for charts>]',
    '',
    `Commands: ${names.join(', ')}`,
    '',
    'Examples:',
    ...examples.map((example) => `  npm run -s cli -- ${example}`),
  ].join('\n');
}

/** The terminal front end: the same command modules Discord runs, replying to stdout. */
async function main(argv: string[]): Promise<number> {
  const config = loadConfigOrExit();
  // The terminal shows results; routine logs would drown them unless asked for.
  const logger = createLogger(process.env.LOG_LEVEL ? config : { ...config, LOG_LEVEL: 'warn' });
  const commands = await loadCommands();
  const runnable = [...commands.values()].filter((command) => command.cli);
  const [name, ...rest] = argv;
  const help = usage(
    runnable.map((command) => command.data.name),
    runnable.map((command) => command.cli!.example),
  );
  if (!name || name === '--help') {
    process.stdout.write(`${help}\n`);
    return name ? 0 : 2;
  }
  const command = commands.get(name);
  if (!command?.cli) {
    process.stderr.write(`Unknown command "${name}".\n${help}\n`);
    return 2;
  }
  let services: Services | undefined;
  try {
    const args = parseArgs(rest);
    if (args.flags.help) {
      process.stdout.write(`${command.data.name}: ${'description' in command.data ? command.data.description : ''}\nExample: sightread ${command.cli.example}\n`);
      return 0;
    }
    const raw = await cliOptions(command, args);
    services = new Services(config, logger);
    const progress = args.flags.json ? () => {} : (text: string) => process.stderr.write(`… ${text}\n`);
    const result = await runCommand(command, raw, services, progress);
    process.stdout.write(args.flags.json ? `${JSON.stringify(result.data, null, 2)}\n` : `${result.text}\n`);
    if (typeof args.flags.out === 'string') {
      await mkdir(args.flags.out, { recursive: true });
      for (const file of result.files) {
        await writeFile(join(args.flags.out, file.name), file.data);
        process.stderr.write(`wrote ${join(args.flags.out, file.name)}\n`);
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
