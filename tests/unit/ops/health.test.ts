import { readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { ConfigError } from '../../../src/config/config.js';
import { startHealthServer, type HealthState } from '../../../src/discord/health.js';
import { FIXTURE_MANIFEST, FIXTURES_DIR, ROOT, rejectionOf, tempDir, testServices } from '../../helpers.js';

/**
 * The fixture models, and ResNet-50 from the hub with downloads off: the reason it cannot load
 * names the models folder and the hub URL, which an unauthenticated endpoint must not show.
 */
async function manifestWithAHubModel(): Promise<string> {
  const fixtures = JSON.parse(await readFile(FIXTURE_MANIFEST, 'utf8')) as { models: Array<Record<string, unknown>> };
  const real = JSON.parse(await readFile(join(ROOT, 'models/manifest.json'), 'utf8')) as typeof fixtures;
  const models = fixtures.models.map((entry) => ({
    ...entry,
    source: { type: 'local', path: join(FIXTURES_DIR, String(entry.id)) },
  }));
  const path = join(await tempDir(), 'manifest.json');
  await writeFile(
    path,
    JSON.stringify({ $schemaVersion: 1, models: [...models, real.models.find((m) => m.id === 'resnet-50')] }),
  );
  return path;
}

const services = testServices({
  MODELS_MANIFEST: await manifestWithAHubModel(),
  MODELS_DIR: join(await tempDir(), 'weights'),
  VISION_VIT_MODEL: 'resnet-50',
  HF_ENDPOINT: 'https://hub.internal.example',
});
afterAll(() => services.dispose());
const models = await services.preload();
const state: HealthState = { loggedIn: () => true, models: () => models };

async function start(overrides: Record<string, string> = {}, port = 0): Promise<Server> {
  const chosen = Object.keys(overrides).length ? testServices(overrides) : services;
  const server = await startHealthServer(port, chosen, state, () => 0);
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return server;
}

describe('the health server', () => {
  it('listens on loopback only unless HEALTH_HOST says otherwise', async () => {
    expect(services.config.HEALTH_HOST).toBe('127.0.0.1');
    expect((await start()).address()).toMatchObject({ address: '127.0.0.1' });
    expect((await start({ HEALTH_HOST: '127.0.0.2' })).address()).toMatchObject({ address: '127.0.0.2' });
  });

  it('shows each model by id as loaded or unavailable with the fix, never a path or a URL', async () => {
    expect(models['resnet-50']).toMatch(/^unavailable: .*npm run models:pull resnet-50/);
    const { port } = (await start()).address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/healthz`);
    const body = await response.text();
    // A default model (resnet-50 here) is unavailable: not ready, and it says which and why.
    expect(response.status).toBe(503);
    expect(JSON.parse(body)).toMatchObject({
      status: 'not ready',
      models: {
        'tiny-cnn': 'loaded',
        'resnet-50': expect.stringMatching(/^unavailable: .*npm run models:pull resnet-50/),
        'tiny-clip': 'loaded',
        'tiny-sentiment': 'loaded',
      },
    });
    expect(body).not.toMatch(/hub\.internal|sightread-test-models|https?:|\/tmp\//);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).not.toMatch(/hub\.internal|sightread-test-models|https?:/);
  });

  it('says 503 while the journal database cannot be reached, even with every model loaded', async () => {
    const allLoaded = Object.fromEntries(Object.keys(models).map((id) => [id, 'loaded']));
    let journalReady = false;
    const server = await startHealthServer(
      0,
      services,
      { loggedIn: () => true, models: () => allLoaded, journal: () => journalReady },
      () => 0,
    );
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`;
    const down = await fetch(url);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ status: 'not ready', journal: 'unavailable' });
    journalReady = true;
    const up = await fetch(url);
    expect(up.status).toBe(200);
    expect(await up.json()).toMatchObject({ status: 'ready', journal: 'ready' });
  });

  it('refuses a port another process holds with a ConfigError that names HEALTH_PORT', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => void squatter.close());
    const { port } = squatter.address() as AddressInfo;
    const error = await rejectionOf(
      startHealthServer(port, services, state, () => 0),
      ConfigError,
    );
    expect(error.problems).toEqual([
      `HEALTH_PORT: 127.0.0.1:${port} is already in use by another process; choose a free HEALTH_PORT or stop that process`,
    ]);
  });
});
