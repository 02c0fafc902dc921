import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Services } from '../../../src/app.js';
import { runCommand } from '../../../src/command/run.js';
import teach from '../../../commands/teach.js';
import { TeachStore } from '../../../src/teach/store.js';
import { UserFacingError } from '../../../src/util/errors.js';
import { rejectionOf, silentLogger, solidPng, testConfig } from '../../helpers.js';
import { BACKENDS, type TestDatabase } from '../journal/support.js';

const red = (shade: number): Promise<Buffer> => solidPng([200 + shade * 6, shade * 5, shade * 3]);
const blue = (shade: number): Promise<Buffer> => solidPng([shade * 4, shade * 5, 200 + shade * 6]);

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip !== undefined)(`/teach on ${backend.name}`, () => {
    let db: TestDatabase;
    let services: Services;
    const run = (guildId: string | undefined, raw: Record<string, unknown>): Promise<unknown> =>
      runCommand(teach, raw, services, undefined, undefined, { guildId, userId: 'u1' });
    const add = async (guildId: string, name: string, bytes: Buffer): Promise<unknown> =>
      run(guildId, { action: 'add', class: name, image: { name: 'x.png', bytes } });

    beforeAll(async () => {
      db = await backend.open();
      services = new Services(testConfig({ TEACH_MAX_CLASSES: '3', TEACH_MAX_EXAMPLES_PER_CLASS: '6' }), silentLogger, {
        database: db.database,
      });
    }, 180_000);
    afterAll(async () => {
      await services?.dispose();
      await db?.dispose();
    });

    it('adds, trains, classifies, shows, removes and resets one server without touching another', async () => {
      for (let shade = 0; shade < 4; shade += 1) {
        await add('g1', 'Red', await red(shade));
        await add('g1', 'blue', await blue(shade));
      }
      await add('g2', 'other', await red(9));
      const trained = teach.toJson((await run('g1', { action: 'train' })) as never) as {
        classes: string[];
        examples: number;
        epochs: Array<{ trainAccuracy: number; valAccuracy: number | null }>;
        leaveOneOutAccuracy: number;
      };
      expect(trained.classes).toEqual(['blue', 'red']);
      expect(trained.examples).toBe(8);
      expect(trained.epochs.at(-1)!.valAccuracy).toBe(1);
      expect(trained.leaveOneOutAccuracy).toBe(1);

      const classified = teach.toJson(
        (await run('g1', { action: 'classify', image: { name: 'y.png', bytes: await blue(7) } })) as never,
      ) as { predictions: Array<{ label: string; score: number }> };
      expect(classified.predictions[0]!.label).toBe('blue');

      // Stored rows: embeddings, no images; the other server's row untouched.
      const rows = (await db.raw(
        'SELECT guild_id, class_name, cardinality(embedding) AS n FROM teach_examples ORDER BY id',
      )) as Array<{ guild_id: string; class_name: string; n: number }>;
      expect(rows.filter((row) => row.guild_id === 'g1')).toHaveLength(8);
      expect(rows.every((row) => Number(row.n) === 4)).toBe(true);
      const store = new TeachStore(db.database);
      const model = await store.model('g1');
      expect(model?.classes).toEqual(['blue', 'red']);

      expect(await run('g1', { action: 'remove', class: 'RED' })).toMatchObject({ className: 'red', examples: 4 });
      expect(await store.model('g1')).toBeUndefined();
      expect(await run('g1', { action: 'reset' })).toMatchObject({ classes: 1, examples: 4 });
      expect(await store.classes('g1')).toEqual([]);
      expect(await store.classes('g2')).toEqual([{ name: 'other', examples: 1 }]);
    });

    it('refuses bad names, DMs, duplicates, non-images, thin classes and full servers with clear messages', async () => {
      const png = await red(1);
      const refused = async (promise: Promise<unknown>): Promise<string> =>
        (await rejectionOf(promise, UserFacingError)).message;
      expect(await refused(add('g3', '', png))).toMatch(/cannot be empty/);
      expect(await refused(add('g3', 'a'.repeat(200), png))).toMatch(/at most 32 characters/);
      expect(await refused(add('g3', '😀🐱', png))).toMatch(/at least one letter or digit/);
      expect(await refused(add('g3', '<@123456>', png))).toMatch(/mention/);
      expect(await refused(add('g3', '@everyone', png))).toMatch(/mention/);
      expect(await refused(add('g3', '**bold**', png))).toMatch(/no markdown/);
      expect(await refused(run(undefined, { action: 'train' }))).toMatch(/works in a server/);
      expect(await refused(add('g3', 'cat', Buffer.from('not an image at all')))).toMatch(/image/i);

      await add('g3', 'cat', png);
      expect(await refused(add('g3', 'dog', png))).toMatch(/already an example of "cat"/);
      expect(await refused(run('g3', { action: 'train' }))).toMatch(/at least two classes/);
      await add('g3', 'dog', await blue(1));
      expect(await refused(run('g3', { action: 'train' }))).toMatch(/at least two examples.*cat, dog/);
      expect(await refused(run('g3', { action: 'classify', image: { name: 'p.png', bytes: png } }))).toMatch(
        /no trained probe/,
      );
      await add('g3', 'bird', await solidPng([10, 200, 10]));
      expect(await refused(add('g3', 'fish', await solidPng([10, 90, 10])))).toMatch(/already has 3 classes/);
      for (let shade = 2; shade < 7; shade += 1) await add('g3', 'cat', await red(shade));
      expect(await refused(add('g3', 'cat', await red(8)))).toMatch(/already has 6 examples/);
      expect(await refused(run('g3', { action: 'remove', class: 'zebra' }))).toMatch(/no class "zebra"/);
    });
  });
}

describe('/teach without a database', () => {
  it('says the database is missing instead of failing obscurely', async () => {
    const services = new Services(testConfig(), silentLogger);
    const error = await rejectionOf(
      runCommand(teach, { action: 'show' }, services, undefined, undefined, { guildId: 'g' }),
      UserFacingError,
    );
    expect(error.message).toMatch(/needs the database/);
    await services.dispose();
  });
});
