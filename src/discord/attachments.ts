import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { UserFacingError } from '../util/errors.js';
import { formatBytes } from '../util/units.js';

export interface AttachmentRef {
  url: string;
  name: string;
  /** Declared by Discord: hints only, never trusted. */
  size?: number | null | undefined;
  contentType?: string | null | undefined;
}

export interface DownloadPolicy {
  allowedHosts: readonly string[];
  maxBytes: number;
  timeoutMs: number;
  /** Plain http and any port (ATTACHMENT_ALLOW_INSECURE), for a local test server; otherwise https on 443 only. */
  allowInsecure: boolean;
}

/**
 * Every block in IANA's IPv4 and IPv6 special-purpose address registries, plus multicast, the
 * reserved 240.0.0.0/4 and the deprecated IPv6 forms that embed an IPv4 address. Some of these
 * are globally reachable in the registry's sense (AS112, 6to4, Teredo), but Discord's CDN is
 * never there, and each either reaches inside a network or wraps an address that might.
 */
const SPECIAL_PURPOSE: ReadonlyArray<readonly [address: string, prefix: number, note: string]> = [
  ['0.0.0.0', 8, '"this network"'],
  ['10.0.0.0', 8, 'private use'],
  ['100.64.0.0', 10, 'shared address space (CGNAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (cloud metadata services live here)'],
  ['172.16.0.0', 12, 'private use'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation (TEST-NET-1)'],
  ['192.31.196.0', 24, 'AS112-v4'],
  ['192.52.193.0', 24, 'AMT'],
  ['192.88.99.0', 24, 'deprecated 6to4 relay anycast'],
  ['192.168.0.0', 16, 'private use'],
  ['192.175.48.0', 24, 'direct delegation AS112'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation (TEST-NET-2)'],
  ['203.0.113.0', 24, 'documentation (TEST-NET-3)'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved, and limited broadcast'],
  ['::', 96, 'unspecified, loopback and deprecated IPv4-compatible (::7f00:1)'],
  ['64:ff9b::', 96, 'IPv4/IPv6 translation (NAT64)'],
  ['64:ff9b:1::', 48, 'local-use IPv4/IPv6 translation'],
  ['100::', 64, 'discard-only'],
  ['100:0:0:1::', 64, 'dummy IPv6 prefix'],
  ['2001::', 23, 'IETF protocol assignments (Teredo, benchmarking, ORCHID…)'],
  ['2001:db8::', 32, 'documentation'],
  ['2002::', 16, '6to4'],
  ['2620:4f:8000::', 48, 'direct delegation AS112'],
  ['3fff::', 20, 'documentation'],
  ['5f00::', 16, 'segment routing (SRv6) SIDs'],
  ['fc00::', 7, 'unique-local'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'deprecated site-local'],
  ['ff00::', 8, 'multicast'],
];

const specialPurpose = new BlockList();
for (const [address, prefix] of SPECIAL_PURPOSE)
  specialPurpose.addSubnet(address, prefix, isIP(address) === 4 ? 'ipv4' : 'ipv6');
// The only IPv6 block IANA allocates for global unicast: anything outside it is refused too.
const globalUnicastV6 = new BlockList();
globalUnicastV6.addSubnet('2000::', 3, 'ipv6');
// IPv4-mapped addresses (::ffff:7f00:1) are judged by the IPv4 address they carry: BlockList
// matches them against the IPv4 rules above.
const ipv4Mapped = new BlockList();
ipv4Mapped.addSubnet('::ffff:0:0', 96, 'ipv6');

/**
 * Whether an address is anything but a public unicast one: loopback, private, link-local,
 * CGNAT, multicast, reserved, documentation, or a translation or tunnel form that can carry
 * one of those. Something that is not an IP address at all counts as not public.
 */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/%.*$/, ''); // a zone id (fe80::1%eth0) names an interface, not an address
  const family = isIP(bare);
  if (family === 4) return specialPurpose.check(bare, 'ipv4');
  if (family !== 6) return true;
  if (ipv4Mapped.check(bare, 'ipv6')) return specialPurpose.check(bare, 'ipv6');
  return !globalUnicastV6.check(bare, 'ipv6') || specialPurpose.check(bare, 'ipv6');
}

async function checkHost(url: URL, policy: DownloadPolicy): Promise<void> {
  if (!policy.allowInsecure) {
    if (url.protocol !== 'https:')
      throw new UserFacingError(
        `I only download attachments over https; that link is ${url.protocol.replace(/:$/, '')}.`,
        { code: 'attachment_host' },
      );
    // URL leaves the port empty when it is the scheme's default, 443.
    if (url.port !== '')
      throw new UserFacingError(
        `I only download attachments from the standard https port; that link asks for port ${url.port}.`,
        { code: 'attachment_host' },
      );
  } else if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UserFacingError('That attachment link is not http(s).', { code: 'attachment_host' });
  }
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (!policy.allowedHosts.includes(host)) {
    throw new UserFacingError(
      `I only download attachments from Discord's own servers (${policy.allowedHosts.join(', ')}); ${host} is not one of them.`,
      {
        code: 'attachment_host',
      },
    );
  }
  // An allowed name that resolves to a non-public address is refused, unless that exact address is allowed.
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((entry) => entry.address);
  const blocked = addresses.find((address) => isPrivateAddress(address) && !policy.allowedHosts.includes(address));
  if (blocked)
    throw new UserFacingError(`The attachment host ${host} resolves to a private address; refusing to download.`, {
      code: 'attachment_host',
    });
}

/**
 * Downloads an attachment into memory (never to disk) from allowed hosts only, following
 * redirects only to allowed hosts, with a timeout and a byte cap enforced while streaming.
 */
export async function downloadAttachment(ref: AttachmentRef, policy: DownloadPolicy): Promise<Buffer> {
  if (ref.size && ref.size > policy.maxBytes) {
    throw new UserFacingError(
      `${ref.name} is ${formatBytes(ref.size)}; the limit is ${formatBytes(policy.maxBytes)}.`,
      { code: 'image_too_large' },
    );
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), policy.timeoutMs);
  try {
    let url = new URL(ref.url);
    for (let hop = 0; hop < 4; hop += 1) {
      await checkHost(url, policy);
      const response = await fetch(url, { redirect: 'manual', signal: controller.signal });
      if (response.status >= 300 && response.status < 400 && response.headers.get('location')) {
        await response.body?.cancel();
        url = new URL(response.headers.get('location')!, url);
        continue;
      }
      if (!response.ok || !response.body)
        throw new UserFacingError(
          `Discord did not serve ${ref.name} (HTTP ${response.status}); please upload it again.`,
          { code: 'attachment_failed' },
        );
      const declared = Number(response.headers.get('content-length') ?? 0);
      if (declared > policy.maxBytes) {
        await response.body.cancel();
        throw new UserFacingError(
          `${ref.name} is ${formatBytes(declared)}; the limit is ${formatBytes(policy.maxBytes)}.`,
          { code: 'image_too_large' },
        );
      }
      const chunks: Buffer[] = [];
      let received = 0;
      for await (const chunk of response.body) {
        received += (chunk as Uint8Array).length;
        if (received > policy.maxBytes) {
          controller.abort();
          throw new UserFacingError(`${ref.name} is over the ${formatBytes(policy.maxBytes)} limit.`, {
            code: 'image_too_large',
          });
        }
        chunks.push(Buffer.from(chunk as Uint8Array));
      }
      return Buffer.concat(chunks);
    }
    throw new UserFacingError(`Too many redirects while fetching ${ref.name}.`, { code: 'attachment_failed' });
  } catch (error) {
    if (error instanceof UserFacingError) throw error;
    if (controller.signal.aborted)
      throw new UserFacingError(`Downloading ${ref.name} took longer than ${policy.timeoutMs} ms; please try again.`, {
        code: 'attachment_failed',
      });
    throw new UserFacingError(`Could not download ${ref.name}; please try again.`, {
      code: 'attachment_failed',
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
}
