import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  discordPublicKey,
  ReplayGuard,
  SIGNATURE_MAX_AGE_MS,
  signatureProblem,
} from '../../../src/discord/signature.js';

/** A real Ed25519 key pair, as Discord holds one per application; the bot sees only the public half as hex. */
const keys = generateKeyPairSync('ed25519');
const publicHex = keys.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');
const key = discordPublicKey(publicHex);
const now = Date.UTC(2026, 11, 2, 6, 0, 0);
const timestamp = String(now / 1000);
const body = Buffer.from('{"type":1,"id":"1"}');
const signed = (ts: string, payload: Buffer): string =>
  sign(null, Buffer.concat([Buffer.from(ts), payload]), keys.privateKey).toString('hex');

describe('the interactions endpoint signature check', () => {
  it('accepts a request Discord signed just now', () => {
    expect(signatureProblem(key, { signature: signed(timestamp, body), timestamp }, body, now)).toBeUndefined();
  });

  it('refuses a body changed after signing, a signature by another key, and a flipped bit', () => {
    const signature = signed(timestamp, body);
    expect(signatureProblem(key, { signature, timestamp }, Buffer.from('{"type":1,"id":"2"}'), now)).toBe(
      'bad signature',
    );
    const other = generateKeyPairSync('ed25519');
    const foreign = sign(null, Buffer.concat([Buffer.from(timestamp), body]), other.privateKey).toString('hex');
    expect(signatureProblem(key, { signature: foreign, timestamp }, body, now)).toBe('bad signature');
    const flipped = (parseInt(signature[0]!, 16) ^ 1).toString(16) + signature.slice(1);
    expect(signatureProblem(key, { signature: flipped, timestamp }, body, now)).toBe('bad signature');
  });

  it('refuses a signature over another timestamp than the one sent', () => {
    const signature = signed(timestamp, body);
    expect(signatureProblem(key, { signature, timestamp: String(now / 1000 - 1) }, body, now)).toBe('bad signature');
  });

  it('refuses missing and malformed headers before any cryptography', () => {
    expect(signatureProblem(key, { signature: undefined, timestamp }, body, now)).toBe('missing signature headers');
    expect(signatureProblem(key, { signature: signed(timestamp, body), timestamp: undefined }, body, now)).toBe(
      'missing signature headers',
    );
    expect(signatureProblem(key, { signature: 'zz'.repeat(64), timestamp }, body, now)).toBe('malformed signature');
    expect(signatureProblem(key, { signature: 'ab', timestamp }, body, now)).toBe('malformed signature');
    expect(signatureProblem(key, { signature: signed('1e9', body), timestamp: '1e9' }, body, now)).toBe(
      'malformed timestamp',
    );
  });

  it('refuses a correctly signed request older or further ahead than five minutes', () => {
    const old = String((now - SIGNATURE_MAX_AGE_MS - 1000) / 1000);
    expect(signatureProblem(key, { signature: signed(old, body), timestamp: old }, body, now)).toBe('stale timestamp');
    const ahead = String((now + SIGNATURE_MAX_AGE_MS + 1000) / 1000);
    expect(signatureProblem(key, { signature: signed(ahead, body), timestamp: ahead }, body, now)).toBe(
      'stale timestamp',
    );
    const recent = String((now - SIGNATURE_MAX_AGE_MS + 1000) / 1000);
    expect(signatureProblem(key, { signature: signed(recent, body), timestamp: recent }, body, now)).toBeUndefined();
  });

  it('refuses a public key that is not 64 hex digits', () => {
    expect(() => discordPublicKey('abc')).toThrow(/64 hex digits/);
  });
});

describe('the replay guard', () => {
  it('admits a signature once within its window, and forgets it after', () => {
    const guard = new ReplayGuard();
    expect(guard.admit('a', now)).toBe(true);
    expect(guard.admit('a', now + 1000)).toBe(false);
    expect(guard.admit('b', now + 1000)).toBe(true);
    // Long after, the timestamp check refuses the old request anyway; the guard need not remember it.
    expect(guard.admit('a', now + 3 * SIGNATURE_MAX_AGE_MS)).toBe(true);
  });

  it('stays bounded, forgetting the oldest first', () => {
    const guard = new ReplayGuard(3);
    for (const signature of ['a', 'b', 'c', 'd']) expect(guard.admit(signature, now)).toBe(true);
    expect(guard.admit('d', now)).toBe(false);
    expect(guard.admit('a', now)).toBe(true);
  });
});
