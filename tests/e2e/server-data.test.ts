import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/journal/database.js';
import { openEmbeddedDatabase } from '../../src/journal/embedded.js';
import { solidPng } from '../helpers.js';
import { finalEdit, freshDataDir, startBot, until, type BotProcess } from './bot-process.js';
import { DiscordEmulator, MANAGER_PERMISSIONS, type InteractionRecord } from './emulator.js';

/**
 * A server's data from end to end, through the real bot and the emulator: /teach and the
 * Teach this image menu store rows, /settings is refused without Manage Server and applied with
 * it, a departure is recorded and its data deleted after the grace period, and /forget removes
 * the rest. The rows are checked in the bot's own embedded database (DATA_DIR) while it is stopped.
 */
const emulator = new DiscordEmulator();
const GUILD = '200000000000000002';
/** A server the bot is added to and then removed from. */
const LEFT = '210000000000000001';
/** A server that only has an outage (GUILD_DELETE with unavailable: true): not a departure. */
const OUTAGE = '210000000000000002';
const dataDir = freshDataDir();
let bot: BotProcess;
let members = 0;
const nextMember = (): string => String(760000000000000000n + BigInt((members += 1)));
const teacher = nextMember();
let shade = 0;

// Every request is acknowledged first and so journaled (INLINE_ANSWER_MS=0): the test reads what
// the journal kept of each, e.g. who may manage the server.
const start = (extra: Record<string, string> = {}): Promise<BotProcess> =>
  startBot(emulator, { DATA_DIR: dataDir, COOLDOWN_SECONDS: '0', INLINE_ANSWER_MS: '0', ...extra });

/** Stops the bot cleanly, so that its database can be opened here. */
async function stop(): Promise<void> {
  bot.child.kill('SIGTERM');
  expect(await bot.exited).toBe(0);
}

/** Opens the bot's database (the bot stopped), runs `read`, closes it. */
async function inDatabase<T>(read: (db: Database) => Promise<T>): Promise<T> {
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const db = await openEmbeddedDatabase({ dataDir, logger: quiet });
  try {
    return await read(db);
  } finally {
    await db.close();
  }
}

const rowsOf = async (db: Database, sql: string, params: string[] = []): Promise<unknown[]> =>
  (await db.query(sql, params)).rows;

beforeAll(async () => {
  await emulator.start();
  bot = await start();
}, 60_000);

afterAll(async () => {
  if (bot.child.exitCode === null) bot.child.kill('SIGKILL');
  await emulator.stop();
});

/** The final answer: an edit with embeds, or the private error that replaced it. */
const answer = async (record: InteractionRecord, timeoutMs = 20_000): Promise<string> => {
  await until(
    () => finalEdit(record) ?? record.followUps[0] ?? (record.initial?.flags === 64 ? record.initial : undefined),
    timeoutMs,
    `an answer to ${record.id}`,
  );
  const edit = finalEdit(record);
  if (edit) return JSON.stringify(edit.json.embeds);
  const followUp = record.followUps[0]?.json ?? (record.initial!.data as Record<string, unknown>);
  expect(Number(followUp.flags ?? 0) & 64).toBe(64);
  return String(followUp.content);
};

type Option = { name: string; type: number; value: unknown };
function slash(
  name: string,
  options: Option[],
  settings: { userId?: string; guildId?: string; permissions?: string; image?: Buffer } = {},
): InteractionRecord {
  const { image, ...who } = settings;
  const attachment = image ? emulator.attachment(`p${(shade += 1)}.png`, 'image/png', image) : undefined;
  return emulator.interact(
    {
      name,
      type: 1,
      options: attachment ? [...options, { name: 'image', type: 11, value: attachment.id }] : options,
      resolved: { attachments: attachment ? { [attachment.id]: attachment } : {} },
    },
    { userId: teacher, ...who },
  );
}

const teachAdd = (className: string, rgb: [number, number, number], guildId = GUILD): Promise<string> =>
  solidPng(rgb).then((image) =>
    answer(
      slash(
        'teach',
        [
          { name: 'action', type: 3, value: 'add' },
          { name: 'class', type: 3, value: className },
        ],
        { image, guildId },
      ),
    ),
  );

describe("a server's data, end to end", () => {
  it('teaches two classes, trains, classifies and shows; the Teach this image menu asks for the class in a form', async () => {
    for (let i = 0; i < 3; i += 1) {
      expect(await teachAdd('red', [200 + i * 10, i * 5, i * 3])).toMatch(/Added an example of \\"red\\"/);
      expect(await teachAdd('blue', [i * 4, i * 5, 200 + i * 10])).toMatch(/Added an example of \\"blue\\"/);
    }
    const trained = slash('teach', [{ name: 'action', type: 3, value: 'train' }]);
    expect(await answer(trained, 30_000)).toMatch(/Trained a linear probe on 6 examples of 2 classes/);
    expect(finalEdit(trained)!.files.map((file) => file.name)).toEqual(['teach-training.png']);
    const classified = await answer(
      slash('teach', [{ name: 'action', type: 3, value: 'classify' }], { image: await solidPng([12, 14, 230]) }),
    );
    const firstRow = /-\\n(\w+)/.exec(classified)?.[1];
    expect(firstRow).toBe('blue');

    // Apps → Teach this image on a message with a picture: a form first, then the example is added.
    const picture = emulator.attachment('leaf.png', 'image/png', await solidPng([20, 210, 30]));
    const message = emulator.message('our class pet', [picture]);
    const menu = emulator.interact(
      {
        name: 'Teach this image',
        type: 3,
        target_id: message.id,
        resolved: { messages: { [message.id as string]: message } },
      },
      { userId: teacher },
    );
    const form = await until(() => menu.initial, 3000, 'the form');
    expect(form.type).toBe(9);
    expect(form.data).toMatchObject({
      title: 'Teach this image',
      components: [{ type: 1, components: [{ type: 4, max_length: 32 }] }],
    });
    const submitted = emulator.submit(menu, { answer: '  Green ' }, { userId: teacher });
    expect(await answer(submitted)).toMatch(/Added an example of \\"green\\"/);

    const shown = await answer(slash('teach', [{ name: 'action', type: 3, value: 'show' }]));
    expect(shown).toMatch(/red +3/);
    expect(shown).toMatch(/blue +3/);
    expect(shown).toMatch(/green +1/);
  }, 120_000);

  it('refuses /settings to a member without Manage Server, and applies the cooldown a manager sets', async () => {
    const student = nextMember();
    const buttonsOf = (record: InteractionRecord): unknown[] =>
      ((finalEdit(record)?.json.components as unknown[] | undefined) ?? []).slice();
    const before = slash('sentiment', [{ name: 'text', type: 3, value: 'fine' }], { userId: nextMember() });
    await answer(before);
    expect(buttonsOf(before)).toHaveLength(1);
    const refused = slash('settings', [{ name: 'cooldown', type: 4, value: 60 }], { userId: student });
    expect(await answer(refused)).toMatch(/Only members with the Manage Server permission can use \/settings/);

    const set = slash(
      'settings',
      [
        { name: 'cooldown', type: 4, value: 60 },
        { name: 'buttons', type: 5, value: false },
      ],
      {
        userId: nextMember(),
        permissions: MANAGER_PERMISSIONS,
      },
    );
    const reply = await answer(set);
    expect(reply).toMatch(/"name":"cooldown","value":"60 s\\nDefault: none"/);

    // The refused change did not count: only now does the server have a 60 s cooldown.
    const first = slash('sentiment', [{ name: 'text', type: 3, value: 'good' }], { userId: student });
    await answer(first);
    // Buttons are off for this server now.
    expect(buttonsOf(first)).toEqual([]);
    const second = slash('sentiment', [{ name: 'text', type: 3, value: 'good again' }], { userId: student });
    // The default is no cooldown at all: any wait is the server's, and it is about a minute.
    const wait = /you can use \/sentiment again in (\d+) s/.exec(await answer(second))?.[1];
    expect(Number(wait)).toBeGreaterThan(40);
  }, 60_000);

  it('records leaving a server (not an outage), keeps the rows, and journals who may manage the server', async () => {
    emulator.joinGuild(LEFT);
    emulator.joinGuild(OUTAGE);
    expect(await teachAdd('red', [222, 1, 1], LEFT)).toMatch(/Added an example/);
    expect(await teachAdd('red', [222, 1, 1], OUTAGE)).toMatch(/Added an example/);
    emulator.leaveGuild(OUTAGE, { unavailable: true });
    emulator.leaveGuild(LEFT);
    await until(
      () => bot.logs.find((entry) => String(entry.msg).startsWith('removed from a server') && entry.guild === LEFT),
      5000,
      'the departure to be recorded',
    );
    await stop();
    await inDatabase(async (db) => {
      expect(await rowsOf(db, 'SELECT guild_id FROM departed_servers')).toEqual([{ guild_id: LEFT }]);
      expect(
        await rowsOf(
          db,
          'SELECT class_name, count(*)::int AS n FROM teach_examples WHERE guild_id = $1 GROUP BY class_name ORDER BY class_name',
          [GUILD],
        ),
      ).toEqual([
        { class_name: 'blue', n: 3 },
        { class_name: 'green', n: 1 },
        { class_name: 'red', n: 3 },
      ]);
      expect(await rowsOf(db, 'SELECT count(*)::int AS n FROM teach_models WHERE guild_id = $1', [GUILD])).toEqual([
        { n: 1 },
      ]);
      // Embeddings only: no column holds image bytes.
      const columns = await rowsOf(
        db,
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'teach_examples' AND data_type = 'bytea'",
      );
      expect(columns).toEqual([]);
      expect(await rowsOf(db, 'SELECT cooldown_seconds FROM server_settings WHERE guild_id = $1', [GUILD])).toEqual([
        { cooldown_seconds: 60 },
      ]);
      expect(
        await rowsOf(
          db,
          "SELECT can_manage_server FROM interaction_journal WHERE command_name = 'settings' ORDER BY created_at",
        ),
      ).toEqual([{ can_manage_server: false }, { can_manage_server: true }]);
    });
  }, 60_000);

  it('deletes the departed server once the grace period is over, and /forget removes everything of this one', async () => {
    bot = await start({ FORGET_GRACE_HOURS: '0' });
    await until(
      () => bot.logs.find((entry) => String(entry.msg).startsWith('deleted the data of a server I left')),
      10_000,
      'the departed server to be forgotten',
    );
    const member = slash('forget', [{ name: 'scope', type: 3, value: 'server' }], { userId: nextMember() });
    expect(await answer(member)).toMatch(
      /Only members with the Manage Server permission can use \/forget scope:server/,
    );
    const forgot = slash('forget', [{ name: 'scope', type: 3, value: 'server' }], {
      userId: nextMember(),
      permissions: MANAGER_PERMISSIONS,
    });
    const reply = await answer(forgot);
    // 7 examples, 3 classes, 1 probe; the settings row.
    expect(reply).toMatch(/"name":"teach","value":"11 rows"/);
    expect(reply).toMatch(/"name":"settings","value":"1 row"/);
    await stop();
    await inDatabase(async (db) => {
      for (const table of ['teach_examples', 'teach_classes', 'teach_models', 'server_settings'])
        expect(await rowsOf(db, `SELECT guild_id FROM ${table} WHERE guild_id IN ($1, $2)`, [GUILD, LEFT])).toEqual([]);
      expect(await rowsOf(db, 'SELECT guild_id FROM departed_servers')).toEqual([]);
      // The server that only had an outage keeps its data.
      expect(await rowsOf(db, 'SELECT count(*)::int AS n FROM teach_examples WHERE guild_id = $1', [OUTAGE])).toEqual([
        { n: 1 },
      ]);
    });
  }, 90_000);
});
