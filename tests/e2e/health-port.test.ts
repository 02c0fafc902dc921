import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';
import { botEnv } from './bot-process.js';
import { DiscordEmulator } from './emulator.js';

const emulator = new DiscordEmulator();
let squatter: Server;
let port: number;

/** Another process's listener on the port the bot is told to use. */
beforeAll(async () => {
  await emulator.start();
  squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  port = (squatter.address() as AddressInfo).port;
});

afterAll(async () => {
  squatter.close();
  await emulator.stop();
});

describe('a HEALTH_PORT that is already in use', () => {
  it('stops the bot with one line naming the variable and exit code 78, without a stack trace', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
      cwd: ROOT,
      env: botEnv(emulator, { HEALTH_PORT: String(port) }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));

    expect(code).toBe(78);
    const fatal = stderr
      .split('\n')
      .filter((line) => line.includes('HEALTH_PORT'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatchObject({ level: 60 });
    expect(fatal[0]!.msg).toBe(
      `HEALTH_PORT: 127.0.0.1:${port} is already in use by another process; choose a free HEALTH_PORT or stop that process`,
    );
    expect(fatal[0]).not.toHaveProperty('err');
    expect(stderr).not.toMatch(/\n\s+at /);
    // It stopped before logging in: Discord never saw the bot.
    expect(emulator.identified).toBe(0);
  });
});
