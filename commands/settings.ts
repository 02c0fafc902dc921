import { slashCommand, type CommandPlace } from '../src/command/definition.js';
import { option } from '../src/command/options.js';
import { table } from '../src/render/format.js';
import {
  IMAGE_MODEL_SETTINGS,
  MAX_COOLDOWN_SECONDS,
  MAX_RETENTION_DAYS,
  SETTING_NAMES,
  type ServerSettings,
  type SettingName,
} from '../src/server-data/settings.js';
import { UserFacingError } from '../src/util/errors.js';

/** Each setting as /settings names it (its option), and how its value reads. */
const SHOWN: { [K in SettingName]: { option: string; show: (value: ServerSettings[K]) => string } } = {
  imageModel: {
    option: 'model',
    show: (value) => ({ both: 'CNN and ViT side by side', cnn: 'CNN only', vit: 'ViT only' })[value],
  },
  cooldownSeconds: { option: 'cooldown', show: (value) => (value === 0 ? 'none' : `${value} s`) },
  buttons: { option: 'buttons', show: (value) => (value ? 'on' : 'off') },
  quizChannelId: { option: 'quiz_channel', show: (value) => (value ? `<#${value}>` : 'where the quiz is asked') },
  retentionDays: { option: 'retention_days', show: (value) => `${value} days` },
};

export interface SettingLine {
  setting: SettingName;
  /** The option that sets it. */
  option: string;
  value: ServerSettings[SettingName];
  default: ServerSettings[SettingName];
  /** Whether the server set it (false: it follows the default). */
  own: boolean;
  /** How the value and the default read. */
  shown: string;
  shownDefault: string;
}

export interface SettingsReport {
  changed: SettingName[];
  reset: SettingName[];
  settings: SettingLine[];
  /** The operator turned buttons off for every server (BUTTONS_ENABLED=false). */
  buttonsOffForAll: boolean;
}

/** Guards every command that changes or deletes a server's data: a server, and Manage Server. */
export function requireManager(place: CommandPlace, command: string): string {
  if (!place.guildId) {
    throw new UserFacingError(`/${command} only works in a server: it acts on that server's data.`, {
      code: 'server_only',
    });
  }
  if (!place.canManageServer) {
    throw new UserFacingError(`Only members with the Manage Server permission can use /${command} in this server.`, {
      code: 'not_permitted',
    });
  }
  return place.guildId;
}

const RESETS = ['all', ...SETTING_NAMES.map((name) => SHOWN[name].option)] as const;

function show(name: SettingName, value: ServerSettings[SettingName]): string {
  return (SHOWN[name].show as (value: ServerSettings[SettingName]) => string)(value);
}

function text(report: SettingsReport): string {
  const said: string[] = [];
  if (report.changed.length) said.push(`Changed: ${report.changed.map((name) => SHOWN[name].option).join(', ')}.`);
  if (report.reset.length)
    said.push(`Back to the default: ${report.reset.map((name) => SHOWN[name].option).join(', ')}.`);
  return [
    ...said,
    table(
      ['setting', 'value', 'default'],
      report.settings.map((line) => [line.option, `${line.shown}${line.own ? '' : ' (default)'}`, line.shownDefault]),
    ),
    ...(report.buttonsOffForAll
      ? ['The operator has turned buttons off for every server (BUTTONS_ENABLED=false).']
      : []),
  ].join('\n');
}

export default slashCommand({
  name: 'settings',
  description: "Show or change this server's settings (Manage Server only)",
  help: {
    what: "Shows this server's settings with their defaults, or changes them: the image model, the cooldown, buttons, the quiz channel, how long data is kept (Manage Server only).",
    example: { cooldown: '10', buttons: 'false' },
  },
  options: {
    model: option.string('Models /classify and the lab run when none is named', {
      choices: [
        { name: 'CNN and ViT side by side', value: 'both' },
        { name: 'CNN only', value: 'cnn' },
        { name: 'ViT only', value: 'vit' },
      ],
    }),
    cooldown: option.integer(`Seconds a member waits between two uses of a command (0-${MAX_COOLDOWN_SECONDS})`, {
      min: 0,
      max: MAX_COOLDOWN_SECONDS,
    }),
    buttons: option.boolean('Buttons under results (experiments on the same input)'),
    quiz_channel: option.channel('The channel the quiz posts in'),
    retention_days: option.integer(`Days stored data (teach examples, quiz scores) is kept (1-${MAX_RETENTION_DAYS})`, {
      min: 1,
      max: MAX_RETENTION_DAYS,
    }),
    reset: option.string('Put a setting (or all) back to its default', {
      choices: RESETS.map((name) => ({ name, value: name })),
    }),
  },
  positional: [],
  usesDatabase: true,
  managersOnly: true,

  async execute({ options, services, place }): Promise<SettingsReport> {
    const guildId = requireManager(place, 'settings');
    const changes: { [K in SettingName]?: ServerSettings[K] | null } = {};
    const reset =
      options.reset === undefined
        ? []
        : SETTING_NAMES.filter((name) => options.reset === 'all' || SHOWN[name].option === options.reset);
    for (const name of reset) changes[name] = null;
    if (options.model !== undefined)
      changes.imageModel = IMAGE_MODEL_SETTINGS.find((model) => model === options.model)!;
    if (options.cooldown !== undefined) changes.cooldownSeconds = options.cooldown;
    if (options.buttons !== undefined) changes.buttons = options.buttons;
    if (options.quiz_channel !== undefined) changes.quizChannelId = options.quiz_channel;
    if (options.retention_days !== undefined) changes.retentionDays = options.retention_days;
    const changed = SETTING_NAMES.filter((name) => changes[name] !== undefined && changes[name] !== null);
    const { settings } = services;
    if (changed.length + reset.length > 0) await settings.update(guildId, changes, place.userId);
    const own = await settings.own(guildId);
    const effective = await settings.effective(guildId);
    return {
      changed,
      reset: reset.filter((name) => !changed.includes(name)),
      settings: SETTING_NAMES.map((name) => ({
        setting: name,
        option: SHOWN[name].option,
        value: effective[name],
        default: settings.defaults[name],
        own: own[name] !== undefined,
        shown: show(name, effective[name]),
        shownDefault: show(name, settings.defaults[name]),
      })),
      buttonsOffForAll: !services.config.BUTTONS_ENABLED,
    };
  },

  toJson: (report) => ({
    changed: report.changed,
    reset: report.reset,
    settings: Object.fromEntries(
      report.settings.map((line) => [
        line.option,
        { value: line.value ?? null, default: line.default ?? null, own: line.own },
      ]),
    ),
  }),

  toText: text,

  toEmbeds: (report) => ({
    embeds: [
      {
        title: report.changed.length + report.reset.length ? 'Server settings changed' : 'Server settings',
        description: [
          ...(report.changed.length
            ? [`Changed: ${report.changed.map((name) => `\`${SHOWN[name].option}\``).join(', ')}.`]
            : []),
          ...(report.reset.length
            ? [`Back to the default: ${report.reset.map((name) => `\`${SHOWN[name].option}\``).join(', ')}.`]
            : []),
          'Change one with `/settings <setting>:<value>`; `reset:<setting>` puts it back to its default.',
        ].join('\n'),
        fields: report.settings.map((line) => ({
          name: line.option,
          value: `${line.shown}${line.own ? '' : ' *(default)*'}\nDefault: ${line.shownDefault}`,
          inline: true,
        })),
        ...(report.buttonsOffForAll
          ? { footer: 'The operator has turned buttons off for every server (BUTTONS_ENABLED=false).' }
          : {}),
      },
    ],
    files: [],
  }),
});
