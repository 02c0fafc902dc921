import { catalogue, type CatalogueEntry } from '../src/command/catalogue.js';
import { slashCommand } from '../src/command/definition.js';
import { loadCommands } from '../src/command/loader.js';

export default slashCommand({
  name: 'help',
  description: 'What each sightread command does, with an example',
  help: { what: 'What each command does, with an example.' },
  options: {},
  positional: [],

  // Generated from the command declarations themselves, so the examples name real options.
  execute: async (): Promise<CatalogueEntry[]> => catalogue((await loadCommands()).values()),

  toJson: (entries) => ({
    commands: entries.map(({ name, what, example }) => ({ name, what, example: example ?? '' })),
  }),

  toText: (entries) =>
    entries
      .map(({ name, what, cli }) => `${name.padEnd(22)} ${what}${cli ? `\n${''.padEnd(22)} e.g. ${cli.example}` : ''}`)
      .join('\n'),

  toEmbeds: (entries) => ({
    embeds: [
      {
        title: 'sightread: see how vision and language models work',
        description:
          'Every answer shows real model outputs, which model produced them, how long it took, and how vision and language processing differ.',
        fields: entries.map(({ name, what, example }) => ({ name, value: example ? `${what}\n\`${example}\`` : what })),
      },
    ],
    files: [],
  }),
});
