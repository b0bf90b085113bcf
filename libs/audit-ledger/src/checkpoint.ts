// Signed checkpoints: a tenant's tree size and Merkle root, signed with Ed25519.
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { decimal, lengthPrefixed } from './encoding.js';

/** The ASCII magic that starts every canonical checkpoint. */
export const CHECKPOINT_MAGIC = 'tenantry.audit.checkpoint.v1';

/** What a checkpoint is: a regular one, or the one written when retention pruned entries. */
export type CheckpointKind = 'checkpoint' | 'tombstone';

/** A signed statement "the tenant's tree of `treeSize` leaves has root `rootHash`". */
export interface Checkpoint {
  tenantId: string;
  treeSize: number;
  /** The Merkle Tree Hash, 64 hex digits. */
  rootHash: string;
  /** ISO 8601. */
  issuedAt: string;
  /** The signing key's id (`AuditKey.keyId`). */
  keyId: string;
  kind: CheckpointKind;
  /** Tombstones: the last seq retention removed; otherwise null. */
  prunedThroughSeq: number | null;
}

/** A checkpoint signing key's public half, as `GET /v1/audit/keys` serves it. */
export interface AuditKey {
  keyId: string;
  /** The raw 32-byte Ed25519 public key, base64url (no padding). */
  publicKey: string;
  /** ISO 8601: the key signs checkpoints issued from then… */
  notBefore: string;
  /** …until then (ISO 8601), or without end when null. */
  notAfter: string | null;
}

/** The public key as a JWK: `{ kty: 'OKP', crv: 'Ed25519', x, kid, alg: 'EdDSA', use: 'sig' }`. */
export function publicKeyJwk(key: AuditKey): {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  alg: 'EdDSA';
  use: 'sig';
} {
  return { kty: 'OKP', crv: 'Ed25519', x: key.publicKey, kid: key.keyId, alg: 'EdDSA', use: 'sig' };
}

const BASE64URL_32 = /^[A-Za-z0-9_-]{43}$/;

/** True when `value` looks like a raw 32-byte key in base64url without padding. */
export function isRawPublicKey(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    BASE64URL_32.test(value) &&
    Buffer.from(value, 'base64url').length === 32
  );
}

/** The node:crypto public key of a raw base64url Ed25519 key; throws when it is not one. */
export function publicKeyObject(publicKey: string): KeyObject {
  if (!isRawPublicKey(publicKey))
    throw new TypeError('publicKey must be a raw 32-byte Ed25519 key in base64url (43 characters)');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
}

/** The raw 32-byte public key (base64url) of an Ed25519 KeyObject (public or private). */
export function rawPublicKey(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string')
    throw new TypeError('the key must be an Ed25519 key');
  return jwk.x;
}

/**
 * The signed bytes: ASCII `tenantry.audit.checkpoint.v1`, then tenantId, treeSize (decimal),
 * rootHash, issuedAt, keyId, kind, prunedThroughSeq (decimal, or absent), length-prefixed as
 * the canonical entry.
 */
export function canonicalCheckpoint(c: Checkpoint): Uint8Array {
  return lengthPrefixed(CHECKPOINT_MAGIC, [
    c.tenantId,
    decimal(c.treeSize, 'treeSize', 0),
    c.rootHash,
    c.issuedAt,
    c.keyId,
    c.kind,
    c.prunedThroughSeq === null || c.prunedThroughSeq === undefined
      ? null
      : decimal(c.prunedThroughSeq, 'prunedThroughSeq', 0),
  ]);
}

/** The Ed25519 signature of canonicalCheckpoint(c), base64url. */
export function signCheckpoint(c: Checkpoint, privateKey: KeyObject): string {
  return sign(null, canonicalCheckpoint(c), privateKey).toString('base64url');
}

/** True when the key may have signed a checkpoint issued at `issuedAt` (its validity window). */
function validAt(key: AuditKey, issuedAt: string): boolean {
  const at = Date.parse(issuedAt);
  if (Number.isNaN(at)) return false;
  const from = Date.parse(key.notBefore);
  const until = key.notAfter === null ? Infinity : Date.parse(key.notAfter);
  return at >= from && at <= until;
}

/**
 * Checks a checkpoint's signature. `unknown_key` when no key of `publicKeys` has the
 * checkpoint's keyId and a validity window (notBefore ≤ issuedAt ≤ notAfter) covering its
 * issuedAt; `bad_signature` when such a key exists but the signature is not its signature of
 * canonicalCheckpoint(c) (including a malformed signature or key). Never throws.
 */
export function verifyCheckpoint(
  c: Checkpoint,
  signature: string,
  publicKeys: readonly AuditKey[],
): 'ok' | 'unknown_key' | 'bad_signature' {
  const candidates = publicKeys.filter((k) => k.keyId === c.keyId && validAt(k, c.issuedAt));
  if (candidates.length === 0) return 'unknown_key';
  let data: Uint8Array;
  try {
    data = canonicalCheckpoint(c);
  } catch {
    return 'bad_signature';
  }
  if (typeof signature !== 'string' || !/^[A-Za-z0-9_-]{86}$/.test(signature))
    return 'bad_signature';
  const sig = Buffer.from(signature, 'base64url');
  for (const key of candidates) {
    try {
      if (verify(null, data, publicKeyObject(key.publicKey), sig)) return 'ok';
    } catch {
      // a malformed key cannot have signed it
    }
  }
  return 'bad_signature';
}
