import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { downloadAttachment, isPrivateAddress } from '../../../src/discord/attachments.js';
import { FairUse } from '../../../src/discord/fair-use.js';

describe('fair use', () => {
  it('makes a user wait out the cooldown per command, and says how long', () => {
    let now = 0;
    const fair = new FairUse(5000, 2, () => now);
    expect(fair.cooldown('u1', 'classify')).toBe(0);
    now = 1200;
    expect(fair.cooldown('u1', 'classify')).toBe(4);
    expect(fair.cooldown('u1', 'match')).toBe(0);
    expect(fair.cooldown('u2', 'classify')).toBe(0);
    now = 5000;
    expect(fair.cooldown('u1', 'classify')).toBe(0);
  });

  it('caps the requests in flight per server', () => {
    const fair = new FairUse(0, 2);
    expect([fair.acquire('g'), fair.acquire('g'), fair.acquire('g'), fair.acquire('other')]).toEqual([
      true,
      true,
      false,
      true,
    ]);
    fair.release('g');
    expect(fair.acquire('g')).toBe(true);
  });
});

describe('attachment downloads', () => {
  it('recognises private, loopback and link-local addresses', () => {
    expect(
      [
        '127.0.0.1',
        '10.1.2.3',
        '172.20.0.1',
        '192.168.1.1',
        '169.254.169.254',
        '::1',
        'fd00::1',
        '::ffff:127.0.0.1',
      ].every(isPrivateAddress),
    ).toBe(true);
    expect(['162.159.128.233', '8.8.8.8', '2606:4700::6810:84e5'].some(isPrivateAddress)).toBe(false);
  });

  it('refuses a redirect to a host that is not allowed, and a loopback host that is not listed', async () => {
    const server = createServer((request, response) => {
      if (request.url === '/redirect')
        response.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' }).end();
      else response.writeHead(200).end('png');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const policy = { allowedHosts: ['127.0.0.1'], maxBytes: 1024, timeoutMs: 2000, allowInsecure: true };
      await expect(
        downloadAttachment({ url: `http://127.0.0.1:${port}/redirect`, name: 'a.png' }, policy),
      ).rejects.toThrow(/169\.254\.169\.254 is not one of them/);
      await expect(
        downloadAttachment(
          { url: `http://localhost:${port}/ok`, name: 'a.png' },
          { ...policy, allowedHosts: ['localhost'] },
        ),
      ).rejects.toThrow(/resolves to a private address/);
      expect((await downloadAttachment({ url: `http://127.0.0.1:${port}/ok`, name: 'a.png' }, policy)).toString()).toBe(
        'png',
      );
    } finally {
      server.close();
    }
  });
});
