import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Services } from '../../../src/app.js';
import { runCommand } from '../../../src/command/run.js';
import type { CommandPlace } from '../../../src/command/definition.js';
import classify, { type ClassifyReport } from '../../../commands/classify.js';
import forget, { type ForgetReport } from '../../../commands/forget.js';
import settings, { type SettingsReport } from '../../../commands/settings.js';
import teach from '../../../commands/teach.js';
import { InteractionJournal } from '../../../src/journal/journal.js';
import { ServerData } from '../../../src/server-data/service.js';
import { SETTINGS_CACHE_MS, SettingsService, SettingsStore } from '../../../src/server-data/settings.js';
import { UserFacingError } from '../../../src/util/errors.js';
import { rejectionOf, silentLogger, solidPng, testConfig } from '../../helpers.js';
import { BACKENDS, CapturingLogger, sampleInteraction, type TestDatabase } from '../journal/support.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const GUILD = '1200000000000000002';
const OTHER = '1200000000000000009';
const MEMBER = '1400000000000000004';
const manager = (guildId: string | undefined = GUILD): CommandPlace => ({
  guildId,
  userId: MEMBER,
  canManageServer: true,
});
const member = (guildId: string | undefined = GUILD, userId = MEMBER): CommandPlace => ({
  guildId,
  userId,
  canManageServer: false,
});

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip !== undefined)(`server settings and data rights on ${backend.name}`, () => {
    let db: TestDatabase;
    let services: Services;
    const run = <R>(command: Parameters<typeof runCommand>[0], raw: Record<string, unknown>, place: CommandPlace) =>
      runCommand(command, raw, services, undefined, undefined, place) as Promise<R>;
    const addExample = async (guildId: string, name: string, rgb: [number, number, number], userId = MEMBER) =>
      run(
        teach,
        { action: 'add', class: name, image: { name: 'x.png', bytes: await solidPng(rgb) } },
        {
          guildId,
          userId,
        },
      );
    const count = async (table: string, guildId: string): Promise<number> =>
      Number(
        (
          (await db.raw(`SELECT count(*) AS n FROM ${table} WHERE guild_id = $1`, [guildId])) as Array<{ n: unknown }>
        )[0]!.n,
      );

    beforeAll(async () => {
      db = await backend.open();
      services = new Services(testConfig({ COOLDOWN_SECONDS: '5' }), silentLogger, { database: db.database });
    }, 180_000);
    afterAll(async () => {
      await services?.dispose();
      await db?.dispose();
    });

    it('refuses /settings in a DM and to a member without Manage Server, with clear messages', async () => {
      const refused = async (place: CommandPlace, raw: Record<string, unknown> = {}): Promise<string> =>
        (await rejectionOf(run(settings, raw, place), UserFacingError)).message;
      expect(await refused({ userId: MEMBER, canManageServer: true })).toMatch(/only works in a server/);
      expect(await refused(member(), { cooldown: 0 })).toMatch(/Only members with the Manage Server permission/);
      expect(await refused({ guildId: GUILD, userId: MEMBER })).toMatch(/Manage Server/);
      // Nothing was stored by the refused change.
      expect(await count('server_settings', GUILD)).toBe(0);
      expect(await refused(manager(), { cooldown: 301 })).toMatch(/cooldown: must be a whole number from 0 to 300/);
      expect(await refused(manager(), { retention_days: 0 })).toMatch(/retention_days: must be a whole number from 1/);
      expect(await refused(manager(), { model: 'resnet' })).toMatch(/model: must be one of both, cnn, vit/);
    });

    it('shows every setting with its value and default, changes some, and leaves other servers alone', async () => {
      const shown = await run<SettingsReport>(settings, {}, manager(OTHER));
      expect(shown.settings.map((line) => [line.option, line.own, line.shown, line.shownDefault])).toEqual([
        ['model', false, 'CNN and ViT side by side', 'CNN and ViT side by side'],
        ['cooldown', false, '5 s', '5 s'],
        ['buttons', false, 'on', 'on'],
        ['quiz_channel', false, 'where the quiz is asked', 'where the quiz is asked'],
        ['retention_days', false, '365 days', '365 days'],
      ]);

      const changed = await run<SettingsReport>(
        settings,
        { model: 'cnn', cooldown: 30, buttons: 'false', quiz_channel: '1300000000000000003', retention_days: 7 },
        manager(),
      );
      expect(changed.changed).toEqual(['imageModel', 'cooldownSeconds', 'buttons', 'quizChannelId', 'retentionDays']);
      expect(Object.fromEntries(changed.settings.map((line) => [line.option, [line.shown, line.own]]))).toEqual({
        model: ['CNN only', true],
        cooldown: ['30 s', true],
        buttons: ['off', true],
        quiz_channel: ['<#1300000000000000003>', true],
        retention_days: ['7 days', true],
      });
      const embed = (await settings.toEmbeds(changed)).embeds[0]!;
      expect(embed.fields!.find((field) => field.name === 'cooldown')!.value).toBe('30 s\nDefault: 5 s');

      // Stored as set; read back by a fresh service (another replica) from the database.
      const fresh = new SettingsService(new SettingsStore(db.database), services.config);
      expect(await fresh.effective(GUILD)).toEqual({
        imageModel: 'cnn',
        cooldownSeconds: 30,
        buttons: false,
        quizChannelId: '1300000000000000003',
        retentionDays: 7,
      });
      expect(await fresh.effective(OTHER)).toEqual(services.settings.defaults);

      const reset = await run<SettingsReport>(settings, { reset: 'cooldown' }, manager());
      expect(reset.reset).toEqual(['cooldownSeconds']);
      expect(reset.settings.find((line) => line.option === 'cooldown')).toMatchObject({ own: false, value: 5 });
      expect(reset.settings.find((line) => line.option === 'model')).toMatchObject({ own: true, value: 'cnn' });
    });

    it("runs /classify with the server's default model when the model option is left out", async () => {
      await run(settings, { model: 'vit' }, manager());
      const image = { name: 'red.png', bytes: await solidPng([220, 10, 10]) };
      const chosen = await run<ClassifyReport>(classify, { image }, { guildId: GUILD });
      expect(chosen.results.map((result) => result.model.architecture)).toEqual(['vit']);
      const named = await run<ClassifyReport>(classify, { image, model: 'cnn' }, { guildId: GUILD });
      expect(named.results.map((result) => result.model.architecture)).toEqual(['cnn']);
      const elsewhere = await run<ClassifyReport>(classify, { image }, { guildId: OTHER });
      expect(elsewhere.results.map((result) => result.model.architecture).sort()).toEqual(['cnn', 'vit']);
    });

    it('reads settings through a cache that a change here clears at once and another replica sees within its lifetime', async () => {
      let now = 0;
      const here = new SettingsService(new SettingsStore(db.database), services.config, () => now);
      const there = new SettingsService(new SettingsStore(db.database), services.config, () => now);
      const guild = '1200000000000000077';
      expect((await there.effective(guild)).cooldownSeconds).toBe(5);
      await here.update(guild, { cooldownSeconds: 42 }, MEMBER);
      expect((await here.effective(guild)).cooldownSeconds).toBe(42);
      // The other replica answers from its cache until it runs out.
      now = SETTINGS_CACHE_MS - 1;
      expect((await there.effective(guild)).cooldownSeconds).toBe(5);
      now = SETTINGS_CACHE_MS;
      expect((await there.effective(guild)).cooldownSeconds).toBe(42);
    });

    it('/forget scope:server deletes every row stored for the server, says how many of each, and touches no other server', async () => {
      const guild = '1200000000000000031';
      await addExample(guild, 'red', [220, 10, 10]);
      await addExample(guild, 'red', [200, 30, 10]);
      await addExample(guild, 'blue', [10, 10, 220]);
      await addExample(guild, 'blue', [10, 30, 200]);
      await run(teach, { action: 'train' }, { guildId: guild });
      await run(settings, { cooldown: 9 }, manager(guild));
      await addExample(OTHER, 'kept', [10, 220, 10]);
      const journal = new InteractionJournal(db.database, { logger: new CapturingLogger() });
      const finished = sampleInteraction(Date.now(), { guildId: guild });
      await journal.record(finished);
      await journal.markDone(finished.id);
      const open = sampleInteraction(Date.now(), { guildId: guild });
      await journal.record(open);
      // Two members' quiz scores here, one elsewhere.
      const score = 'INSERT INTO quiz_scores (guild_id, user_id, points, answered) VALUES ($1, $2, 3, 4)';
      await db.raw(score, [guild, MEMBER]);
      await db.raw(score, [guild, '1400000000000000098']);
      await db.raw(score, [OTHER, MEMBER]);

      const refused = await rejectionOf(run(forget, { scope: 'server' }, member(guild)), UserFacingError);
      expect(refused.message).toMatch(/Only members with the Manage Server permission can use \/forget scope:server/);
      expect(await count('teach_examples', guild)).toBe(4);

      const report = await run<ForgetReport>(forget, { scope: 'server' }, manager(guild));
      expect(report.deleted).toEqual([
        // 4 examples, 2 classes, 1 probe.
        { owner: 'teach', rows: 7 },
        { owner: 'settings', rows: 1 },
        { owner: 'quiz', rows: 2 },
        { owner: 'journal', rows: 1 },
      ]);
      expect(report.total).toBe(11);
      expect(await count('quiz_scores', OTHER)).toBe(1);
      for (const table of ['teach_examples', 'teach_classes', 'teach_models', 'server_settings', 'quiz_scores'])
        expect(await count(table, guild)).toBe(0);
      // The request being answered (the /forget itself) stays until it finishes.
      expect(await db.raw('SELECT interaction_id FROM interaction_journal WHERE guild_id = $1', [guild])).toEqual([
        { interaction_id: open.id },
      ]);
      expect(await count('teach_examples', OTHER)).toBe(1);
      expect((await services.settings.effective(guild)).cooldownSeconds).toBe(5);
      expect(forget.toText(report)).toMatch(/^teach +7$/m);
    });

    it("/forget scope:me unlinks the member from the server's examples and deletes their finished journal rows only", async () => {
      const guild = '1200000000000000032';
      const other = '1400000000000000099';
      await addExample(guild, 'red', [220, 10, 10], MEMBER);
      await addExample(guild, 'red', [200, 30, 10], other);
      const journal = new InteractionJournal(db.database, { logger: new CapturingLogger() });
      for (const userId of [MEMBER, other]) {
        const entry = sampleInteraction(Date.now(), { guildId: guild, userId });
        await journal.record(entry);
        await journal.markDone(entry.id);
      }
      const score = 'INSERT INTO quiz_scores (guild_id, user_id, points, answered) VALUES ($1, $2, 3, 4)';
      await db.raw(score, [guild, MEMBER]);
      await db.raw(score, [guild, other]);
      // No permission needed: it is the member's own data.
      const report = await run<ForgetReport>(forget, { scope: 'me' }, member(guild));
      expect(report.deleted).toEqual([
        { owner: 'teach', rows: 1 },
        { owner: 'settings', rows: 0 },
        { owner: 'quiz', rows: 1 },
        { owner: 'journal', rows: 1 },
      ]);
      expect(await db.raw('SELECT user_id FROM quiz_scores WHERE guild_id = $1', [guild])).toEqual([
        { user_id: other },
      ]);
      expect(await db.raw('SELECT added_by FROM teach_examples WHERE guild_id = $1 ORDER BY id', [guild])).toEqual([
        { added_by: null },
        { added_by: other },
      ]);
      expect(await db.raw('SELECT user_id FROM interaction_journal WHERE guild_id = $1', [guild])).toEqual([
        { user_id: other },
      ]);
      expect((await rejectionOf(run(forget, { scope: 'me' }, { userId: MEMBER }), UserFacingError)).message).toMatch(
        /only works in a server/,
      );
    });

    it("deletes a departed server's data once the grace period is over, unless the bot is invited back first", async () => {
      const gone = '1200000000000000041';
      const back = '1200000000000000042';
      await addExample(gone, 'red', [220, 10, 10]);
      await addExample(back, 'red', [220, 10, 10]);
      const data = new ServerData(db.database, { defaultRetentionDays: 365, graceHours: 72 });
      const left = Date.parse('2026-12-01T12:00:00Z');
      await data.departed(gone, left);
      await data.departed(back, left);
      // A second departure event does not restart the grace period.
      await data.departed(gone, left + HOUR);
      expect((await data.chores(left + 72 * HOUR - 1)).forgottenServers).toEqual([]);
      expect(await count('teach_examples', gone)).toBe(1);
      expect(await data.present([back])).toBe(1);
      expect((await data.chores(left + 72 * HOUR)).forgottenServers).toEqual([gone]);
      expect(await count('teach_examples', gone)).toBe(0);
      expect(await count('teach_classes', gone)).toBe(0);
      expect(await count('departed_servers', gone)).toBe(0);
      expect(await count('teach_examples', back)).toBe(1);
      expect((await data.chores(left + 100 * HOUR)).forgottenServers).toEqual([]);
    });

    it("deletes rows older than their server's retention: its own setting, else the default", async () => {
      const short = '1200000000000000051';
      const long = '1200000000000000052';
      await run(settings, { retention_days: 2 }, manager(short));
      for (const guild of [short, long]) {
        await addExample(guild, 'old', [220, 10, 10]);
        await addExample(guild, 'new', [10, 10, 220]);
      }
      const now = Date.now();
      await db.raw(
        `UPDATE teach_examples SET created_at = $2::timestamptz WHERE guild_id = ANY($1::text[]) AND class_name = 'old'`,
        [`{${short},${long}}`, new Date(now - 3 * DAY).toISOString()],
      );
      await db.raw(
        `UPDATE teach_classes SET created_at = $2::timestamptz WHERE guild_id = ANY($1::text[]) AND name = 'old'`,
        [`{${short},${long}}`, new Date(now - 3 * DAY).toISOString()],
      );
      const data = new ServerData(db.database, { defaultRetentionDays: 365, graceHours: 72 });
      const { expired } = await data.chores(now);
      // The short server's old example and its emptied class.
      expect(expired).toEqual([{ owner: 'teach', rows: 2 }]);
      expect(await db.raw('SELECT class_name FROM teach_examples WHERE guild_id = $1', [short])).toEqual([
        { class_name: 'new' },
      ]);
      expect(await count('teach_examples', long)).toBe(2);
      // The default applies too: 3 days is past a 1-day default.
      const strict = new ServerData(db.database, { defaultRetentionDays: 1, graceHours: 72 });
      expect((await strict.chores(now)).expired).toEqual([{ owner: 'teach', rows: 2 }]);
      expect(await count('teach_examples', long)).toBe(1);
    });
  });
}
