import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadAttachment, isPrivateAddress, type DownloadPolicy } from '../../../src/discord/attachments.js';

describe('which addresses attachments may come from', () => {
  it.each([
    ['127.0.0.1', 'IPv4 loopback'],
    ['127.255.255.254', 'the far end of IPv4 loopback'],
    ['0.0.0.0', '"this network"'],
    ['10.1.2.3', 'private use'],
    ['100.64.0.1', 'CGNAT'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['172.20.0.1', 'private use'],
    ['192.0.0.8', 'IETF protocol assignments'],
    ['192.0.2.1', 'TEST-NET-1'],
    ['192.88.99.1', '6to4 relay anycast'],
    ['192.168.1.1', 'private use'],
    ['198.18.0.1', 'benchmarking'],
    ['198.51.100.7', 'TEST-NET-2'],
    ['203.0.113.9', 'TEST-NET-3'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast (SSDP)'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'limited broadcast'],
    ['::', 'IPv6 unspecified'],
    ['::1', 'IPv6 loopback'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback, dotted'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback, in hex'],
    ['0:0:0:0:0:ffff:a9fe:a9fe', 'IPv4-mapped metadata address, uncompressed'],
    ['::7f00:1', 'IPv4-compatible loopback'],
    ['::127.0.0.1', 'IPv4-compatible loopback, dotted'],
    ['64:ff9b::7f00:1', 'NAT64 of loopback'],
    ['64:ff9b::808:808', 'NAT64 of a public address'],
    ['64:ff9b:1::1', 'local-use NAT64'],
    ['100::1', 'discard-only'],
    ['2001::1', 'Teredo'],
    ['2001:db8::1', 'documentation'],
    ['2002:7f00:1::1', '6to4 of loopback'],
    ['2002:808:808::1', '6to4 of a public address'],
    ['3fff::1', 'documentation'],
    ['5f00::1', 'SRv6 SIDs'],
    ['fc00::1', 'unique-local'],
    ['fd00::1', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local with a zone id'],
    ['fe90::1', 'link-local beyond fe80::'],
    ['febf:ffff::1', 'the far end of link-local'],
    ['fec0::1', 'deprecated site-local'],
    ['feff::1', 'deprecated site-local, far end'],
    ['ff02::1', 'multicast'],
    ['4000::1', 'outside global unicast'],
    ['cdn.discordapp.com', 'not an address at all'],
  ])('refuses %s (%s)', (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each([
    ['162.159.128.233', "Discord's CDN (Cloudflare)"],
    ['8.8.8.8', 'a public IPv4 address'],
    ['1.1.1.1', 'a public IPv4 address'],
    ['100.63.255.255', 'just below CGNAT'],
    ['172.32.0.1', 'just above 172.16.0.0/12'],
    ['223.255.255.255', 'just below multicast'],
    ['2606:4700::6810:84e5', "Discord's CDN over IPv6"],
    ['2a00:1450:4001:81c::200e', 'a public IPv6 address'],
    ['::ffff:8.8.8.8', 'IPv4-mapped public address'],
  ])('accepts %s (%s)', (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });
});

describe('attachment links', () => {
  const secure: DownloadPolicy = {
    allowedHosts: ['cdn.discordapp.com', '127.0.0.1'],
    maxBytes: 1024,
    timeoutMs: 2000,
    allowInsecure: false,
  };
  let server: ReturnType<typeof createServer>;
  let port: number;
  beforeAll(async () => {
    server = createServer((request, response) => {
      response.writeHead(200).end('png');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => server.close());

  it('refuses plain http on an allowed host, before any request', async () => {
    await expect(
      downloadAttachment({ url: 'http://cdn.discordapp.com/attachments/1/2/a.png', name: 'a.png' }, secure),
    ).rejects.toThrow('I only download attachments over https; that link is http.');
  });

  it('refuses https on any port but the standard one', async () => {
    await expect(
      downloadAttachment({ url: 'https://cdn.discordapp.com:8443/attachments/1/2/a.png', name: 'a.png' }, secure),
    ).rejects.toThrow('I only download attachments from the standard https port; that link asks for port 8443.');
    // 443 written out is the standard port.
    await expect(
      downloadAttachment({ url: 'https://127.0.0.1:443/a.png', name: 'a.png' }, { ...secure, timeoutMs: 200 }),
    ).rejects.toThrow(/^(Could not download a\.png|Downloading a\.png took longer)/);
  });

  it('refuses a link to a local server unless ATTACHMENT_ALLOW_INSECURE is set, and then downloads it', async () => {
    const local = { url: `http://127.0.0.1:${port}/ok`, name: 'a.png' };
    await expect(downloadAttachment(local, secure)).rejects.toThrow(/over https/);
    expect((await downloadAttachment(local, { ...secure, allowInsecure: true })).toString()).toBe('png');
  });
});
