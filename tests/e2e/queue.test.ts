import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_BUSY_MESSAGE } from '../../src/discord/router.js';
import { freePort, solidPng } from '../helpers.js';
import { HAS_REDIS, REDIS_SKIP_REASON, RedisServer } from '../redis.js';
import { finalEdit, startBot, until, type BotProcess } from './bot-process.js';
import { DiscordEmulator, type InteractionRecord } from './emulator.js';

/**
 * Scaled out: a gateway front end that loads no models puts every job on Redis, and two model
 * worker processes answer them through the interaction tokens. Each interaction is answered
 * exactly once, also when a worker is SIGKILLed mid-run and when Redis restarts mid-run.
 */
const emulator = new DiscordEmulator();
const running: BotProcess[] = [];
let redis: RedisServer;
let front: BotProcess;
let frontHealth: number;
let workerHealth: number;
let workers: BotProcess[] = [];
let members = 0;
const nextMember = (): string => String(720000000000000000n + BigInt((members += 1)));
const GUILDS = ['300000000000000101', '300000000000000102', '300000000000000103'];

async function startWorker(healthPort?: number): Promise<BotProcess> {
  const worker = await startBot(
    emulator,
    {
      REDIS_URL: redis.url,
      QUEUE_LOCK_MS: '3000',
      ATTACHMENT_TIMEOUT_MS: '60000',
      COOLDOWN_SECONDS: '0',
      ...(healthPort ? { HEALTH_PORT: String(healthPort) } : {}),
    },
    90_000,
    false,
    'worker',
  );
  running.push(worker);
  return worker;
}

beforeAll(async () => {
  if (!HAS_REDIS) return;
  await emulator.start();
  // Append-only with fsync at every write, as the README asks of a production Redis: a restart keeps every job.
  redis = await RedisServer.start({ persistent: true });
  frontHealth = await freePort();
  workerHealth = await freePort();
  [front, ...workers] = await Promise.all([
    startBot(emulator, { REDIS_URL: redis.url, COOLDOWN_SECONDS: '0', HEALTH_PORT: String(frontHealth) }, 90_000),
    startWorker(workerHealth),
    startWorker(),
  ]);
  running.push(front);
}, 120_000);

afterAll(async () => {
  for (const process of running) if (process.child.exitCode === null) process.child.kill('SIGKILL');
  await emulator.stop();
  await redis?.dispose();
});

const finalAnswers = (record: InteractionRecord): number =>
  record.edits.filter((edit) => Array.isArray(edit.json.embeds) && (edit.json.embeds as unknown[]).length > 0).length;

/** Answered: a result (its final edit) or an error (a private follow-up). */
const answered = (record: InteractionRecord): boolean => finalEdit(record) !== undefined || record.followUps.length > 0;

const allAnswered = (records: InteractionRecord[], timeoutMs: number, what: string): Promise<true> =>
  until(() => (records.every(answered) ? true : undefined), timeoutMs, what);

const answeredBy = (process: BotProcess): number =>
  process.logs.filter((entry) => entry.msg === 'command answered').length;

async function classify(guildId: string, name: string, rgb: [number, number, number]): Promise<InteractionRecord> {
  const image = emulator.attachment(name, 'image/png', await solidPng(rgb));
  return emulator.interact(
    {
      name: 'classify',
      type: 1,
      options: [{ name: 'image', type: 11, value: image.id }],
      resolved: { attachments: { [image.id]: image } },
    },
    { userId: nextMember(), guildId },
  );
}

function sentiment(guildId: string, text: string): InteractionRecord {
  return emulator.interact(
    { name: 'sentiment', type: 1, options: [{ name: 'text', type: 3, value: text }] },
    { userId: nextMember(), guildId },
  );
}

function tokenize(guildId: string, text: string): InteractionRecord {
  return emulator.interact(
    {
      name: 'tokenize',
      type: 1,
      options: [
        { name: 'text', type: 3, value: text },
        { name: 'tokenizer', type: 3, value: 'clip' },
      ],
    },
    { userId: nextMember(), guildId },
  );
}

describe.skipIf(!HAS_REDIS)('a front end and two model workers on Redis', () => {
  it('answers 40 mixed commands from three servers, each exactly once, shared by both workers', async () => {
    const before = workers.map(answeredBy);
    const records: InteractionRecord[] = [];
    for (let i = 0; i < 40; i += 1) {
      const guild = GUILDS[i % GUILDS.length]!;
      if (i % 3 === 0) records.push(await classify(guild, `photo-${i}.png`, [6 * i, 120, 255 - 6 * i]));
      else if (i % 3 === 1) records.push(sentiment(guild, `Lesson ${i} was wonderful!`));
      else records.push(tokenize(guild, `Tokenizers split lesson ${i} differently.`));
    }
    await allAnswered(records, 90_000, 'all 40 answers');
    expect(records.every((record) => record.initial?.type === 5)).toBe(true);
    expect(Math.max(...records.map((record) => record.initial!.at - record.createdAt))).toBeLessThan(3000);
    expect(records.map(finalAnswers)).toEqual(Array(40).fill(1));
    expect(records.filter((record) => record.followUps.length > 0)).toEqual([]);
    // A worker logs "command answered" after the answer is delivered: wait for the lines too.
    const shareOf = (): number[] => workers.map((worker, index) => answeredBy(worker) - before[index]!);
    await until(
      () => shareOf().reduce((sum, count) => sum + count, 0) === 40 || undefined,
      10_000,
      'the workers to log every answer',
    );
    const share = shareOf();
    expect(share.every((count) => count > 0)).toBe(true);
    // The front end ran nothing itself and loaded no models.
    expect(answeredBy(front)).toBe(0);
    expect(front.logs.some((entry) => entry.msg === 'models loaded; ready')).toBe(false);

    const metrics = await (await fetch(`http://127.0.0.1:${frontHealth}/metrics`)).text();
    expect(metrics).toMatch(/^sightread_workers 2$/m);
    expect(metrics).toMatch(/^sightread_jobs_waiting 0$/m);
    expect(metrics).toMatch(/^sightread_job_oldest_age_seconds 0$/m);
    const health = await fetch(`http://127.0.0.1:${frontHealth}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ready', queue: 'ready' });
    // A worker answers both too, with its models.
    const workerStatus = await fetch(`http://127.0.0.1:${workerHealth}/healthz`);
    expect(workerStatus.status).toBe(200);
    expect(await workerStatus.json()).toMatchObject({
      status: 'ready',
      queue: 'ready',
      models: { 'tiny-cnn': 'loaded' },
    });
    expect(await (await fetch(`http://127.0.0.1:${workerHealth}/metrics`)).text()).toMatch(/^sightread_workers 2$/m);
  }, 120_000);

  it('takes signed interactions on an HTTP front end too, for the same workers to answer', async () => {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}/interactions`;
    const http = await startBot(
      emulator,
      {
        REDIS_URL: redis.url,
        COOLDOWN_SECONDS: '0',
        INTERACTIONS_PORT: String(port),
        DISCORD_PUBLIC_KEY: emulator.publicKeyHex,
      },
      90_000,
    );
    running.push(http);
    const before = workers.map(answeredBy);
    const sent = GUILDS.flatMap((guildId, i) =>
      [0, 1].map((j) =>
        emulator.interactOverHttp(
          endpoint,
          { name: 'sentiment', type: 1, options: [{ name: 'text', type: 3, value: `Over HTTP ${i}.${j}: lovely!` }] },
          { userId: nextMember(), guildId },
        ),
      ),
    );
    const replies = await Promise.all(sent.map((entry) => entry.response));
    expect(replies.map((reply) => reply.json)).toEqual(sent.map(() => ({ type: 5 })));
    const records = sent.map((entry) => entry.record);
    await allAnswered(records, 60_000, 'the answers over HTTP');
    expect(records.map(finalAnswers)).toEqual(Array(records.length).fill(1));
    // A worker logs "command answered" after the answer is delivered: wait for the lines too.
    await until(
      () =>
        workers.map(answeredBy).reduce((sum, count, index) => sum + count - before[index]!, 0) === records.length ||
        undefined,
      10_000,
      'the workers to log every answer',
    );
    // No gateway, no models: the HTTP front end only accepted and queued.
    expect(answeredBy(http)).toBe(0);
    expect(http.logs.some((entry) => entry.msg === 'models loaded; ready')).toBe(false);
    http.child.kill('SIGTERM');
    expect(await http.exited).toBe(0);
  }, 120_000);

  it('answers every job of a worker SIGKILLed mid-run through the other worker, each exactly once', async () => {
    // Every /classify download stalls: both workers hold jobs when one of them is killed.
    const release = emulator.holdDownloads();
    const downloadsBefore = emulator.calls.filter((call) => call.path.startsWith('/attachments/')).length;
    const records: InteractionRecord[] = [];
    for (let i = 0; i < 12; i += 1)
      records.push(await classify(GUILDS[i % GUILDS.length]!, `kill-${i}.png`, [200, 10 * i, 40]));
    await until(() => records.every((record) => record.initial) || undefined, 5000, 'all 12 deferrals');
    await until(
      () =>
        // One worker alone downloads at most 6 at once (2 per server, SERVER_MAX_RUNNING): 7 means both hold jobs.
        emulator.calls.filter((call) => call.path.startsWith('/attachments/')).length - downloadsBefore >= 7 ||
        undefined,
      20_000,
      'both workers to take jobs',
    );
    const [victim, survivor] = workers as [BotProcess, BotProcess];
    victim.child.kill('SIGKILL');
    await victim.exited;
    release();
    await allAnswered(records, 60_000, 'all 12 answers');
    expect(records.map(finalAnswers)).toEqual(Array(12).fill(1));
    expect(records.filter((record) => record.followUps.length > 0)).toEqual([]);
    // The survivor ran the victim's jobs again once their locks lapsed.
    expect(survivor.logs.some((entry) => entry.msg === 'running a job again')).toBe(true);
    workers = [survivor, await startWorker()];
  }, 120_000);

  it('lets a worker stopped with SIGTERM finish the jobs it holds, taking no new ones, each answered once', async () => {
    const release = emulator.holdDownloads();
    const downloadsBefore = emulator.calls.filter((call) => call.path.startsWith('/attachments/')).length;
    const records: InteractionRecord[] = [];
    for (let i = 0; i < 12; i += 1)
      records.push(await classify(GUILDS[i % GUILDS.length]!, `term-${i}.png`, [90, 10 * i, 160]));
    await until(
      () =>
        emulator.calls.filter((call) => call.path.startsWith('/attachments/')).length - downloadsBefore >= 7 ||
        undefined,
      20_000,
      'both workers to take jobs',
    );
    const [stopping, staying] = workers as [BotProcess, BotProcess];
    const stayingLogsBefore = staying.logs.length;
    stopping.child.kill('SIGTERM');
    await until(
      () => stopping.logs.some((entry) => entry.msg === 'shutting down: taking no more jobs') || undefined,
      10_000,
      'the worker to stop taking jobs',
    );
    release();
    expect(await stopping.exited).toBe(0);
    expect(stopping.logs.find((entry) => entry.msg === 'stopped')).toMatchObject({ drained: true });
    await allAnswered(records, 60_000, 'all 12 answers');
    expect(records.map(finalAnswers)).toEqual(Array(12).fill(1));
    expect(records.filter((record) => record.followUps.length > 0)).toEqual([]);
    // Nothing it held had to be run again by the other worker.
    expect(staying.logs.slice(stayingLogsBefore).some((entry) => entry.msg === 'running a job again')).toBe(false);
    workers = [staying, await startWorker()];
  }, 120_000);

  it('loses nothing accepted when Redis restarts mid-run, and answers "busy" while it is down', async () => {
    const release = emulator.holdDownloads();
    const accepted: InteractionRecord[] = [];
    for (let i = 0; i < 6; i += 1)
      accepted.push(await classify(GUILDS[i % GUILDS.length]!, `restart-${i}.png`, [30, 200, 20 * i]));
    for (let i = 0; i < 4; i += 1) accepted.push(sentiment(GUILDS[i % GUILDS.length]!, `Before the restart ${i}`));
    await until(() => accepted.every((record) => record.initial) || undefined, 5000, 'all 10 deferrals');

    await redis.stop();
    const refused = [sentiment(GUILDS[0]!, 'While Redis is down'), sentiment(GUILDS[1]!, 'Still down')];
    await until(() => refused.every((record) => record.initial) || undefined, 5000, 'the busy answers');
    await redis.start();
    release();

    await allAnswered(accepted, 60_000, 'all 10 accepted answers');
    expect(accepted.map(finalAnswers)).toEqual(Array(10).fill(1));
    expect(accepted.filter((record) => record.followUps.length > 0)).toEqual([]);
    for (const record of refused) {
      // Answered at once, privately (type 4, ephemeral), and nothing was acknowledged or queued.
      expect(record.initial).toMatchObject({ type: 4, flags: 64 });
      expect((record.initial!.data as { content?: string }).content).toBe(QUEUE_BUSY_MESSAGE);
      expect(record.edits).toEqual([]);
    }
    // Back to normal once the front end is connected again: new work is taken again.
    const deadline = Date.now() + 30_000;
    while (!(await fetch(`http://127.0.0.1:${frontHealth}/healthz`)).ok) {
      if (Date.now() > deadline) throw new Error('the front end did not reconnect to Redis');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const after = sentiment(GUILDS[2]!, 'After the restart');
    await allAnswered([after], 30_000, 'an answer after the restart');
    expect(finalAnswers(after)).toBe(1);
  }, 120_000);
});

if (!HAS_REDIS) console.warn(REDIS_SKIP_REASON);
