import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/**
 * Discord signs every request it POSTs to an interactions endpoint with the application's
 * Ed25519 key: `X-Signature-Ed25519` (hex) over `X-Signature-Timestamp` + the raw body. An
 * endpoint that accepts a bad signature is refused by the developer portal, and would let
 * anyone run commands as any user.
 */

/** The DER prefix of an Ed25519 public key in SubjectPublicKeyInfo form (RFC 8410); the 32 key bytes follow. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
/** How old (or how far ahead) a signed timestamp may be: a captured request cannot be replayed later. */
export const SIGNATURE_MAX_AGE_MS = 5 * 60_000;

export type SignatureProblem =
  | 'missing signature headers'
  | 'malformed signature'
  | 'malformed timestamp'
  | 'stale timestamp'
  | 'bad signature'
  | 'replayed request';

/** The application's public key (the developer portal's "Public Key": 64 hex digits). */
export function discordPublicKey(hex: string): KeyObject {
  if (!/^[0-9a-f]{64}$/i.test(hex)) throw new Error('an Ed25519 public key is 64 hex digits');
  return createPublicKey({
    key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(hex, 'hex')]),
    format: 'der',
    type: 'spki',
  });
}

/**
 * Remembers the signatures of requests accepted within the timestamps' window, so that the same
 * signed request sent again is refused; bounded, the oldest forgotten first. Per process: replicas
 * behind a load balancer each keep their own (the interaction id is what makes a second
 * acceptance harmless: the journal records an interaction once).
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();

  constructor(private readonly maxEntries = 100_000) {}

  /** True the first time a signature is offered within its window; false when it was seen. */
  admit(signature: string, now: number): boolean {
    for (const [key, until] of this.seen) {
      if (until > now && this.seen.size < this.maxEntries) break;
      this.seen.delete(key);
    }
    if (this.seen.has(signature)) return false;
    this.seen.set(signature, now + 2 * SIGNATURE_MAX_AGE_MS);
    return true;
  }
}

/** Why a request must be refused (401), or undefined when Discord signed it just now. */
export function signatureProblem(
  key: KeyObject,
  headers: { signature: string | undefined; timestamp: string | undefined },
  body: Buffer,
  now: number,
): SignatureProblem | undefined {
  const { signature, timestamp } = headers;
  if (signature === undefined || timestamp === undefined) return 'missing signature headers';
  if (!/^[0-9a-f]{128}$/i.test(signature)) return 'malformed signature';
  if (!/^\d{1,12}$/.test(timestamp)) return 'malformed timestamp';
  if (Math.abs(now - Number(timestamp) * 1000) > SIGNATURE_MAX_AGE_MS) return 'stale timestamp';
  const signed = Buffer.concat([Buffer.from(timestamp, 'utf8'), body]);
  return verify(null, signed, key, Buffer.from(signature, 'hex')) ? undefined : 'bad signature';
}
