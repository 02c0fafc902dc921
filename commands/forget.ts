import { slashCommand } from '../src/command/definition.js';
import { option } from '../src/command/options.js';
import { table } from '../src/render/format.js';
import type { Forgotten } from '../src/server-data/service.js';
import { UserFacingError } from '../src/util/errors.js';
import { requireManager } from './settings.js';

export interface ForgetReport {
  scope: 'server' | 'me';
  /** Rows deleted (or, for a member, unlinked from them), by what kept them. */
  deleted: Forgotten[];
  total: number;
}

const WHAT: Record<ForgetReport['scope'], string> = {
  server:
    "Deleted everything stored for this server: /teach's classes, examples and probe, its /settings, quiz scores and the journal's finished entries.",
  me: 'Deleted what is stored about you in this server (your quiz scores and journal entries); /teach examples you added stay with the server without your name.',
};

const rows = (count: number): string => `${count} ${count === 1 ? 'row' : 'rows'}`;

function text(report: ForgetReport): string {
  return [
    WHAT[report.scope],
    table(
      ['kept by', 'rows'],
      report.deleted.map((entry) => [entry.owner, String(entry.rows)]),
    ),
    `${rows(report.total)} in all. Requests being answered right now are cleared when they finish.`,
  ].join('\n');
}

export default slashCommand({
  name: 'forget',
  description: 'Delete what is stored for this server (Manage Server) or about you',
  help: {
    what: 'Deletes everything the bot stores for this server (scope:server, Manage Server only), or your own quiz scores (scope:me); says how many rows of each kind went.',
    example: { scope: 'me' },
  },
  options: {
    scope: option.string('server: everything for this server (Manage Server only); me: your own data', {
      required: true,
      choices: [
        { name: 'everything stored for this server', value: 'server' },
        { name: 'my own data', value: 'me' },
      ],
    }),
  },
  positional: ['scope'],
  usesDatabase: true,
  // Discord shows /forget to everyone: scope:me is every member's right; scope:server is checked here.

  async execute({ options, services, place }): Promise<ForgetReport> {
    const scope = options.scope === 'server' ? 'server' : 'me';
    let deleted: Forgotten[];
    if (scope === 'server') {
      const guildId = requireManager(place, 'forget scope:server');
      deleted = await services.serverData.forgetServer(guildId);
    } else {
      if (!place.guildId || !place.userId) {
        throw new UserFacingError('/forget only works in a server: what is stored about you is kept per server.', {
          code: 'server_only',
        });
      }
      deleted = await services.serverData.forgetMember(place.guildId, place.userId);
    }
    return { scope, deleted, total: deleted.reduce((sum, entry) => sum + entry.rows, 0) };
  },

  toJson: (report) => report,
  toText: text,
  toEmbeds: (report) => ({
    embeds: [
      {
        title: report.scope === 'server' ? 'Forgot this server' : 'Forgot your data',
        description: WHAT[report.scope],
        fields: report.deleted.map((entry) => ({ name: entry.owner, value: rows(entry.rows), inline: true })),
        footer: `${rows(report.total)} in all.`,
      },
    ],
    files: [],
  }),
});
