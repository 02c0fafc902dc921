import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { downloadAttachment, isPrivateAddress } from '../../../src/discord/attachments.js';
import { FairUse } from '../../../src/discord/fair-use.js';

describe('fair use', () => {
  /** The seconds to wait, or 0 when allowed (the use is then left standing, as an answered one is). */
  const waitFor = (fair: FairUse, user: string, command: string): number => {
    const check = fair.claim(user, command);
    return check.allowed ? 0 : check.waitSeconds;
  };

  it('makes a user wait out the cooldown per command, and says how long', () => {
    let now = 0;
    const fair = new FairUse(5000, () => now);
    expect(waitFor(fair, 'u1', 'classify')).toBe(0);
    now = 1200;
    expect(waitFor(fair, 'u1', 'classify')).toBe(4);
    expect(waitFor(fair, 'u1', 'match')).toBe(0);
    expect(waitFor(fair, 'u2', 'classify')).toBe(0);
    now = 5000;
    expect(waitFor(fair, 'u1', 'classify')).toBe(0);
  });

  it('applies the cooldown the server set instead of the default, and none when it set 0', () => {
    let now = 0;
    const fair = new FairUse(5000, () => now);
    const claim = (user: string, ms: number): number => {
      const check = fair.claim(user, 'classify', ms);
      return check.allowed ? 0 : check.waitSeconds;
    };
    expect(claim('long', 60_000)).toBe(0);
    expect(claim('none', 0)).toBe(0);
    now = 10_000;
    // Past the default 5 s, still inside the server's 60 s.
    expect(claim('long', 60_000)).toBe(50);
    expect(claim('none', 0)).toBe(0);
    expect(claim('none', 0)).toBe(0);
    now = 60_000;
    expect(claim('long', 60_000)).toBe(0);
  });

  it('does not count a refused or failed request against the cooldown: the retry is allowed at once', () => {
    let now = 0;
    const fair = new FairUse(5000, () => now);
    const refused = fair.claim('u1', 'classify');
    expect(refused.allowed).toBe(true);
    // While it runs, it holds the cooldown, so a burst of requests cannot slip past it.
    now = 10;
    expect(waitFor(fair, 'u1', 'classify')).toBe(5);
    if (refused.allowed) refused.withdraw();
    now = 20;
    const retry = fair.claim('u1', 'classify');
    expect(retry.allowed).toBe(true);
    // The retry was answered (never withdrawn): now the cooldown applies.
    now = 1020;
    expect(waitFor(fair, 'u1', 'classify')).toBe(4);
  });

  it('withdrawing a use gives back the cooldown of the answered use before it, and withdrawing twice changes nothing', () => {
    let now = 0;
    const fair = new FairUse(5000, () => now);
    expect(fair.claim('u1', 'ask').allowed).toBe(true); // answered at 0
    now = 6000;
    const failed = fair.claim('u1', 'ask');
    now = 6500;
    if (failed.allowed) {
      failed.withdraw();
      failed.withdraw();
    }
    // The answered use at 0 is long past its cooldown: allowed, and this one stands.
    expect(waitFor(fair, 'u1', 'ask')).toBe(0);
    now = 7000;
    expect(waitFor(fair, 'u1', 'ask')).toBe(5);
  });

  it('a withdrawn use that a later one has replaced leaves the later one in place', () => {
    let now = 0;
    const fair = new FairUse(1000, () => now);
    const slow = fair.claim('u1', 'classify');
    now = 1500; // the slow request is still running after its cooldown ran out
    expect(fair.claim('u1', 'classify').allowed).toBe(true);
    if (slow.allowed) slow.withdraw();
    now = 1600;
    expect(waitFor(fair, 'u1', 'classify')).toBe(1);
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
