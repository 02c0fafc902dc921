import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
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
}

/** Loopback, private, link-local, CGNAT, unique-local and unspecified ranges. */
export function isPrivateAddress(address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(v4) === 4) {
    const [a, b] = v4.split('.').map(Number) as [number, number];
    return (
      a === 10 ||
      a === 127 ||
      a === 0 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  const lower = address.toLowerCase();
  return (
    lower === '::1' || lower === '::' || lower.startsWith('fc') || lower.startsWith('fd') || lower.startsWith('fe80')
  );
}

async function checkHost(url: URL, policy: DownloadPolicy): Promise<void> {
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new UserFacingError('That attachment link is not http(s).', { code: 'attachment_host' });
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (!policy.allowedHosts.includes(host)) {
    throw new UserFacingError(
      `I only download attachments from Discord's own servers (${policy.allowedHosts.join(', ')}); ${host} is not one of them.`,
      {
        code: 'attachment_host',
      },
    );
  }
  // An allowed name that resolves into a private network is refused, unless that exact address is allowed.
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
