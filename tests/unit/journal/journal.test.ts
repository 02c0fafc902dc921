import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { snowflakeTime } from '../../../src/journal/entry.js';
import { InteractionJournal, JournalInputError, TOKEN_LIFETIME_MS } from '../../../src/journal/journal.js';
import { rejectionOf } from '../../helpers.js';
import { BACKENDS, CapturingLogger, FakeClock, MINUTE, T0, sampleInteraction, type TestDatabase } from './support.js';

const LEASE_MS = 2 * MINUTE;

describe('snowflakes', () => {
  it('gives the moment Discord created an interaction from its id', () => {
    // Discord's documented example: 175928847299117063 was created at 2016-04-30T11:18:25.796Z.
    expect(snowflakeTime('175928847299117063').toISOString()).toBe('2016-04-30T11:18:25.796Z');
  });
});

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip !== undefined)(`the interaction journal on ${backend.name}`, () => {
    let db: TestDatabase;
    let clock: FakeClock;
    let logger: CapturingLogger;
    let journal: InteractionJournal;

    const journalFor = (workerId: string, database = db.database): InteractionJournal =>
      new InteractionJournal(database, { logger, clock, workerId, leaseMs: LEASE_MS, maxAttempts: 3 });

    /** The row as stored, every column, read outside the code under test. */
    async function storedRow(id: string): Promise<Record<string, unknown> | undefined> {
      const [row] = await db.raw('SELECT * FROM interaction_journal WHERE interaction_id = $1', [id]);
      return row as Record<string, unknown> | undefined;
    }

    // One database per backend (opening one costs seconds); every test starts from an empty journal.
    // PGlite's first start (initdb) takes seconds, many on a busy machine.
    beforeAll(async () => {
      db = await backend.open();
    }, 180_000);

    afterAll(async () => {
      await db?.dispose();
    });

    beforeEach(async () => {
      await db.raw('DELETE FROM interaction_journal');
      logger = new CapturingLogger();
      clock = new FakeClock(T0 + 1000);
      journal = journalFor('worker-a');
    });

    it('records an interaction before the acknowledgement, already claimed by its worker', async () => {
      const interaction = sampleInteraction(T0);
      expect(await journal.record(interaction)).toBe(true);

      const row = await storedRow(interaction.id);
      expect(row).toMatchObject({
        state: 'running',
        claimed_by: 'worker-a',
        attempts: 1,
        token: interaction.token,
        command_name: 'sentiment',
        options: { text: 'Not bad at all' },
        guild_id: interaction.guildId,
        channel_id: interaction.channelId,
        user_id: interaction.userId,
        application_id: interaction.applicationId,
      });
      // Created-at comes from the snowflake, not from when it was recorded.
      expect((row?.created_at as Date).toISOString()).toBe(new Date(T0).toISOString());
      expect((row?.recorded_at as Date).toISOString()).toBe(new Date(T0 + 1000).toISOString());
      // While its worker holds it, nobody else may resume it.
      expect(await journal.unfinished()).toEqual([]);
    });

    it('answers false when the same interaction is recorded twice, so it is answered once', async () => {
      const interaction = sampleInteraction(T0);
      expect(await journal.record(interaction)).toBe(true);
      expect(await journalFor('worker-b').record(interaction)).toBe(false);
      expect(await storedRow(interaction.id)).toMatchObject({ claimed_by: 'worker-a', attempts: 1 });
    });

    it('writes a burst of records in a few statements (group commit), each answered as its own', async () => {
      let inserts = 0;
      const counted = new Proxy(db.database, {
        get(target, property, receiver) {
          if (property === 'query')
            return (sql: string, parameters?: unknown[]) => {
              if (sql.includes('INSERT INTO interaction_journal')) inserts += 1;
              return target.query(sql, parameters as never);
            };
          const value: unknown = Reflect.get(target, property, receiver);
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
      const grouped = journalFor('worker-a', counted);
      const earlier = sampleInteraction(T0);
      expect(await grouped.record(earlier)).toBe(true);
      const burst = Array.from({ length: 40 }, () => sampleInteraction(T0));
      // The same interaction twice within the burst (delivered twice), and one recorded before it.
      const results = await Promise.all(
        [...burst, burst[0]!, earlier].map((interaction) => grouped.record(interaction)),
      );
      expect(results).toEqual([...burst.map(() => true), false, false]);
      // The first of the burst goes alone; the rest wait for it and go together.
      expect(inserts).toBe(3);
      const [{ count }] = (await db.raw('SELECT count(*)::int AS count FROM interaction_journal')) as [
        { count: number },
      ];
      expect(count).toBe(41);
    });

    it('resumes a dead worker’s interaction: unfinished after the lease, claimed, then done', async () => {
      const interaction = sampleInteraction(T0, {
        commandName: 'classify',
        options: {
          image: {
            kind: 'attachment',
            url: 'https://cdn.discordapp.com/attachments/1/2/cat.png',
            name: 'cat.png',
            size: 123_456,
            contentType: 'image/png',
          },
          top: 5,
        },
      });
      await journalFor('crashed-worker').record(interaction);

      clock.advance(LEASE_MS - 1);
      expect(await journal.unfinished()).toEqual([]);
      clock.advance(1);
      const [resumable, ...others] = await journal.unfinished();
      expect(others).toEqual([]);
      expect(resumable).toEqual({
        id: interaction.id,
        applicationId: interaction.applicationId,
        token: interaction.token,
        commandName: 'classify',
        options: interaction.options,
        guildId: interaction.guildId,
        channelId: interaction.channelId,
        userId: interaction.userId,
        canManageServer: false,
        createdAt: new Date(T0),
        state: 'running',
        attempts: 1,
      });

      const claimed = await journal.claim(interaction.id);
      expect(claimed).toMatchObject({ id: interaction.id, token: interaction.token, attempts: 2 });
      expect(await journal.unfinished()).toEqual([]);
      expect(await journal.markDone(interaction.id)).toBe(true);
      expect(await storedRow(interaction.id)).toMatchObject({ state: 'done', claimed_by: 'worker-a' });
    });

    it('fences a worker whose lease was taken over: its late markDone changes nothing', async () => {
      const interaction = sampleInteraction(T0);
      const slow = journalFor('slow-worker');
      await slow.record(interaction);
      clock.advance(LEASE_MS);
      expect(await journal.claim(interaction.id)).toBeDefined();

      expect(await slow.markDone(interaction.id)).toBe(false);
      expect(await slow.renew(interaction.id)).toBe(false);
      expect(await storedRow(interaction.id)).toMatchObject({ state: 'running', claimed_by: 'worker-a' });
      expect(await journal.markDone(interaction.id)).toBe(true);
    });

    it('keeps a renewed lease: a replay cannot take a row whose worker is still answering', async () => {
      const interaction = sampleInteraction(T0);
      await journal.record(interaction);
      clock.advance(LEASE_MS - 1000);
      expect(await journal.renew(interaction.id)).toBe(true);
      clock.advance(LEASE_MS - 1000);
      expect(await journalFor('replayer').claim(interaction.id)).toBeUndefined();
    });

    it('never claims a finished interaction again, even after a crash mid-replay', async () => {
      const interaction = sampleInteraction(T0);
      await journalFor('first-life').record(interaction);
      clock.advance(LEASE_MS);
      // A replay claims it and dies before answering…
      expect(await journalFor('second-life').claim(interaction.id)).toBeDefined();
      clock.advance(LEASE_MS);
      // …the next one takes it over and answers.
      expect(await journal.claim(interaction.id)).toMatchObject({ attempts: 3 });
      expect(await journal.markDone(interaction.id)).toBe(true);
      clock.advance(LEASE_MS);
      expect(await journalFor('fourth-life').claim(interaction.id)).toBeUndefined();
      expect(await journal.unfinished()).toEqual([]);
    });

    it('lets exactly one of two concurrent claims win', async () => {
      const interaction = sampleInteraction(T0);
      await journalFor('crashed-worker').record(interaction);
      clock.advance(LEASE_MS);
      const a = journalFor('replayer-a');
      const b = journalFor('replayer-b', await db.another());

      // On a server, both UPDATEs queue behind a row lock and then run against each other; PGlite
      // has one connection, so there its mutex decides the order and this checks the loser's answer.
      const lock = await db.lockRow?.(interaction.id);
      const claims = Promise.all([a.claim(interaction.id), b.claim(interaction.id)]);
      try {
        await lock?.waitForWaiters(2);
      } finally {
        await lock?.release();
      }
      const [fromA, fromB] = await claims;

      const winners = [fromA, fromB].filter((claim) => claim !== undefined);
      expect(winners).toHaveLength(1);
      const row = await storedRow(interaction.id);
      expect(row?.claimed_by).toBe(fromA ? 'replayer-a' : 'replayer-b');
      expect(row?.attempts).toBe(2);
    });

    it('puts a cleanly stopped worker’s interactions back at once, without counting the attempt', async () => {
      const first = sampleInteraction(T0);
      const second = sampleInteraction(T0 + 1);
      const stopping = journalFor('stopping-worker');
      await stopping.record(first);
      await stopping.record(second);
      await stopping.markDone(second.id);

      expect(await stopping.release()).toBe(1);
      const resumable = await journal.unfinished();
      expect(resumable.map((entry) => [entry.id, entry.state, entry.attempts])).toEqual([[first.id, 'pending', 0]]);
      expect(await journal.claim(first.id)).toMatchObject({ attempts: 1 });
    });

    it('resumes interactions oldest first', async () => {
      const later = sampleInteraction(T0 + 5000);
      const earlier = sampleInteraction(T0);
      const dead = journalFor('crashed-worker');
      await dead.record(later);
      await dead.record(earlier);
      await dead.release();
      expect((await journal.unfinished()).map((entry) => entry.id)).toEqual([earlier.id, later.id]);
    });

    it('expires an interaction 15 minutes after Discord created it, not before', async () => {
      const interaction = sampleInteraction(T0);
      const dead = journalFor('crashed-worker');
      await dead.record(interaction);
      await dead.release();

      const justInside = T0 + TOKEN_LIFETIME_MS - 1;
      expect(await journal.expire(justInside)).toEqual([]);
      expect((await journal.unfinished(justInside)).map((entry) => entry.id)).toEqual([interaction.id]);

      const atExpiry = T0 + TOKEN_LIFETIME_MS;
      expect(await journal.unfinished(atExpiry)).toEqual([]);
      clock.advance(atExpiry - clock.now());
      expect(await journal.claim(interaction.id)).toBeUndefined();
      expect(await journal.expire(atExpiry)).toEqual([
        {
          id: interaction.id,
          commandName: 'sentiment',
          userId: interaction.userId,
          guildId: interaction.guildId,
          createdAt: new Date(T0),
          outcome: 'expired',
          attempts: 0,
        },
      ]);
      expect(await storedRow(interaction.id)).toMatchObject({ state: 'expired', token: null, options: null });
      expect(await journal.expire(atExpiry)).toEqual([]);
    });

    it('gives up on an interaction that used every attempt (one that keeps crashing the process)', async () => {
      const interaction = sampleInteraction(T0);
      await journalFor('life-1').record(interaction);
      for (const worker of ['life-2', 'life-3']) {
        clock.advance(LEASE_MS);
        expect(await journalFor(worker).claim(interaction.id)).toBeDefined();
      }
      clock.advance(LEASE_MS);
      expect(await journal.unfinished()).toEqual([]);
      expect(await journal.claim(interaction.id)).toBeUndefined();
      const [closed] = await journal.expire();
      expect(closed).toMatchObject({ id: interaction.id, outcome: 'gave_up', attempts: 3 });
      expect(await storedRow(interaction.id)).toMatchObject({
        state: 'failed',
        failure_reason: 'gave up after 3 attempts',
      });
    });

    it('hands an exhausted interaction over once, with its token, for a last error reply, and closes it as failed', async () => {
      const interaction = sampleInteraction(T0);
      const other = sampleInteraction(T0 + 1);
      await journalFor('life-1').record(interaction);
      await journalFor('life-1').record(other);
      for (const worker of ['life-2', 'life-3']) {
        clock.advance(LEASE_MS);
        expect(await journalFor(worker).claim(interaction.id)).toBeDefined();
      }
      clock.advance(LEASE_MS);
      const taken = await journal.takeExhausted();
      expect(taken).toMatchObject([
        { id: interaction.id, token: interaction.token, attempts: 3, commandName: 'sentiment' },
      ]);
      // Once: a second replica (or a second start) gets nothing, and the row keeps no token.
      expect(await journalFor('worker-b').takeExhausted()).toEqual([]);
      expect(await storedRow(interaction.id)).toMatchObject({
        state: 'failed',
        failure_reason: 'gave up after 3 attempts',
        token: null,
        options: null,
      });
      // The interaction with attempts left is not touched.
      expect(await storedRow(other.id)).toMatchObject({ state: 'running', attempts: 1 });
    });

    it('takes back, at once, what a process that is gone left running, keeping the attempts it used', async () => {
      const cutOff = sampleInteraction(T0);
      const own = sampleInteraction(T0 + 1);
      await journalFor('killed').record(cutOff);
      await journal.record(own);
      // No lease has lapsed: only adoption makes the dead process's row resumable now.
      expect(await journal.unfinished()).toEqual([]);
      expect(await journal.adoptOrphans()).toBe(1);
      expect((await journal.unfinished()).map((entry) => entry.id)).toEqual([cutOff.id]);
      expect(await storedRow(cutOff.id)).toMatchObject({ state: 'pending', claimed_by: null, attempts: 1 });
      expect(await storedRow(own.id)).toMatchObject({ state: 'running', claimed_by: 'worker-a' });
    });

    it('clears the token and options when an interaction finishes, keeping ids and outcome until purged', async () => {
      const done = sampleInteraction(T0);
      const failed = sampleInteraction(T0 + 1);
      await journal.record(done);
      await journal.record(failed);
      await journal.markDone(done.id);
      expect(await journal.markFailed(failed.id, 'image_corrupt')).toBe(true);

      for (const [id, state] of [
        [done.id, 'done'],
        [failed.id, 'failed'],
      ] as const) {
        const row = await storedRow(id);
        expect(row).toMatchObject({ state, token: null, options: null, lease_until: null });
        expect(row?.user_id).toBe(done.userId);
      }
      expect((await storedRow(failed.id))?.failure_reason).toBe('image_corrupt');
    });

    it('refuses a finished row that keeps content, in the schema itself', async () => {
      const interaction = sampleInteraction(T0);
      await journal.record(interaction);
      await journal.markDone(interaction.id);
      await expect(
        db.raw(`UPDATE interaction_journal SET token = 'leaked' WHERE interaction_id = $1`, [interaction.id]),
      ).rejects.toThrow(/interaction_journal_finished_rows_keep_no_content/);
    });

    it('purges finished rows once JOURNAL_RETENTION_HOURS have passed, and never open ones', async () => {
      const retained = new InteractionJournal(db.database, { logger, clock, workerId: 'w', retentionHours: 24 });
      const finished = sampleInteraction(T0);
      const open = sampleInteraction(T0 + 1);
      await retained.record(finished);
      await retained.record(open);
      await retained.markDone(finished.id);
      const finishedAt = clock.now();

      expect(await retained.purge(finishedAt + 24 * 60 * MINUTE - 1)).toBe(0);
      expect(await retained.purge(finishedAt + 24 * 60 * MINUTE)).toBe(1);
      expect(await storedRow(finished.id)).toBeUndefined();
      expect(await storedRow(open.id)).toBeDefined();
    });

    it('maintenance logs what expired (ids, never content) and purges what is past retention', async () => {
      const stale = sampleInteraction(T0);
      const done = sampleInteraction(T0 + 1);
      await journal.record(stale);
      await journal.record(done);
      await journal.markDone(done.id);
      await journal.release();

      const { expired, purged } = await journal.maintain(T0 + TOKEN_LIFETIME_MS);
      expect([expired.map((entry) => entry.id), purged]).toEqual([[stale.id], 0]);
      const [line, ...others] = logger.lines;
      expect(others).toEqual([]);
      expect(line?.message).toBe('an interaction expired before it was answered');
      expect(line?.details).toMatchObject({ interactionId: stale.id, command: 'sentiment', outcome: 'expired' });
      expect(JSON.stringify(line)).not.toContain(stale.token);
      expect(JSON.stringify(line)).not.toContain('Not bad at all');

      expect((await journal.maintain(T0 + 25 * 60 * MINUTE)).purged).toBe(2);
    });

    it('refuses options that carry image bytes, and stores nothing', async () => {
      const withBytes = sampleInteraction(T0, {
        commandName: 'classify',
        options: { image: { name: 'cat.png', bytes: Buffer.from([0x89, 0x50, 0x4e, 0x47]) } } as never,
      });
      const error = await rejectionOf(journal.record(withBytes), JournalInputError);
      expect(error.message).toContain('options.image.bytes is binary data');
      const rawBytes = sampleInteraction(T0, { options: { image: new Uint8Array([1, 2, 3]) } as never });
      await rejectionOf(journal.record(rawBytes), JournalInputError);
      expect(await db.raw('SELECT interaction_id FROM interaction_journal')).toEqual([]);
    });

    it('refuses an attachment reference that is not a Discord-style http(s) link', async () => {
      const dataUrl = sampleInteraction(T0, {
        options: {
          image: {
            kind: 'attachment',
            url: 'data:image/png;base64,iVBORw0KGgo=',
            name: 'a.png',
            size: 4,
            contentType: null,
          },
        },
      });
      const error = await rejectionOf(journal.record(dataUrl), JournalInputError);
      expect(error.message).toContain('options.image.url');
      expect(error.message).not.toContain('iVBORw0KGgo');
    });

    it('skips and logs a corrupted row during replay, marks it failed, and still resumes the rest', async () => {
      const good = sampleInteraction(T0);
      const corrupt = sampleInteraction(T0 + 1);
      const dead = journalFor('crashed-worker');
      await dead.record(good);
      await dead.record(corrupt);
      await dead.release();
      // Options that no longer pass their schema (an image stored as bytes, as an older bug might have).
      await db.raw(`UPDATE interaction_journal SET options = $2::jsonb WHERE interaction_id = $1`, [
        corrupt.id,
        JSON.stringify({ image: { bytes: { type: 'Buffer', data: [137, 80] } } }),
      ]);

      const resumable = await journal.unfinished();
      expect(resumable.map((entry) => entry.id)).toEqual([good.id]);
      const warning = logger.lines.find((line) => line.message === 'skipped an unreadable journal row');
      expect(warning?.details).toMatchObject({ interactionId: corrupt.id });
      expect(JSON.stringify(warning?.details)).not.toContain('137');
      expect(await storedRow(corrupt.id)).toMatchObject({ state: 'failed', token: null, options: null });
      expect(String((await storedRow(corrupt.id))?.failure_reason)).toMatch(/^unreadable journal row: options/);
      // Read again, it is not logged again.
      await journal.unfinished();
      expect(logger.messages('warn').filter((message) => message.includes('unreadable'))).toHaveLength(1);
    });
  });
}
