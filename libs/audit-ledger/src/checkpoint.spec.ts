// Checkpoints: canonical bytes, Ed25519 signatures, key windows.
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import {
  canonicalCheckpoint,
  publicKeyJwk,
  publicKeyObject,
  rawPublicKey,
  signCheckpoint,
  verifyCheckpoint,
  type Checkpoint,
} from './checkpoint.js';
import { signingKey, TENANT } from './spec/fixtures.js';

const CHECKPOINT: Checkpoint = {
  tenantId: TENANT,
  treeSize: 42,
  rootHash: 'ab'.repeat(32),
  issuedAt: '2026-02-01T00:00:00.000Z',
  keyId: 'k1',
  kind: 'checkpoint',
  prunedThroughSeq: null,
};

describe('canonicalCheckpoint', () => {
  it('is the magic then the 7 fields, length-prefixed, absent prunedThroughSeq = FFFFFFFF', () => {
    const field = (s: string) => {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(Buffer.byteLength(s));
      return Buffer.concat([len, Buffer.from(s)]);
    };
    expect(Buffer.from(canonicalCheckpoint(CHECKPOINT))).toEqual(
      Buffer.concat([
        Buffer.from('tenantry.audit.checkpoint.v1'),
        ...[TENANT, '42', 'ab'.repeat(32), '2026-02-01T00:00:00.000Z', 'k1', 'checkpoint'].map(
          field,
        ),
        Buffer.from([0xff, 0xff, 0xff, 0xff]),
      ]),
    );
    const tombstone = canonicalCheckpoint({
      ...CHECKPOINT,
      kind: 'tombstone',
      prunedThroughSeq: 17,
    });
    expect(Buffer.from(tombstone).subarray(-6)).toEqual(
      Buffer.concat([Buffer.from([0, 0, 0, 2]), Buffer.from('17')]),
    );
  });
});

describe('signing and verifying', () => {
  const signer = signingKey('k1');

  it('signs with Ed25519 over the canonical bytes (checked with node:crypto directly)', () => {
    const signature = signCheckpoint(CHECKPOINT, signer.privateKey);
    expect(signature).toMatch(/^[A-Za-z0-9_-]{86}$/);
    const publicKey = createPublicKey(signer.privateKey);
    expect(
      verify(null, canonicalCheckpoint(CHECKPOINT), publicKey, Buffer.from(signature, 'base64url')),
    ).toBe(true);
    expect(verifyCheckpoint(CHECKPOINT, signature, [signer.key])).toBe('ok');
  });

  it('any changed field is a bad signature', () => {
    const signature = signCheckpoint(CHECKPOINT, signer.privateKey);
    for (const changed of [
      { tenantId: 'other' },
      { treeSize: 43 },
      { rootHash: 'ac'.repeat(32) },
      { issuedAt: '2026-02-01T00:00:00.001Z' },
      { kind: 'tombstone' as const },
      { prunedThroughSeq: 0 },
    ])
      expect([
        changed,
        verifyCheckpoint({ ...CHECKPOINT, ...changed }, signature, [signer.key]),
      ]).toEqual([changed, 'bad_signature']);
  });

  it('a signature by another key, or a malformed one, is a bad signature', () => {
    const other = signingKey('k1');
    expect(
      verifyCheckpoint(CHECKPOINT, signCheckpoint(CHECKPOINT, other.privateKey), [signer.key]),
    ).toBe('bad_signature');
    const signature = signCheckpoint(CHECKPOINT, signer.privateKey);
    const flipped = Buffer.from(signature, 'base64url');
    flipped[10]! ^= 1;
    expect(verifyCheckpoint(CHECKPOINT, flipped.toString('base64url'), [signer.key])).toBe(
      'bad_signature',
    );
    expect(verifyCheckpoint(CHECKPOINT, 'not a signature', [signer.key])).toBe('bad_signature');
    expect(verifyCheckpoint(CHECKPOINT, signature.slice(1), [signer.key])).toBe('bad_signature');
  });

  it('finds the key by keyId among several; an unlisted keyId is an unknown key', () => {
    const k2 = signingKey('k2');
    const signature = signCheckpoint({ ...CHECKPOINT, keyId: 'k2' }, k2.privateKey);
    expect(verifyCheckpoint({ ...CHECKPOINT, keyId: 'k2' }, signature, [signer.key, k2.key])).toBe(
      'ok',
    );
    expect(verifyCheckpoint({ ...CHECKPOINT, keyId: 'k2' }, signature, [signer.key])).toBe(
      'unknown_key',
    );
    expect(verifyCheckpoint({ ...CHECKPOINT, keyId: 'k3' }, signature, [signer.key, k2.key])).toBe(
      'unknown_key',
    );
  });

  it('a key outside its validity window (notBefore ≤ issuedAt ≤ notAfter) is an unknown key', () => {
    const retired = signingKey('old', '2025-01-01T00:00:00.000Z', '2026-01-31T00:00:00.000Z');
    const c = { ...CHECKPOINT, keyId: 'old' };
    const signature = signCheckpoint(c, retired.privateKey);
    expect(verifyCheckpoint(c, signature, [retired.key])).toBe('unknown_key');
    const early = { ...c, issuedAt: '2026-01-30T00:00:00.000Z' };
    expect(verifyCheckpoint(early, signCheckpoint(early, retired.privateKey), [retired.key])).toBe(
      'ok',
    );
    const future = signingKey('new', '2027-01-01T00:00:00.000Z');
    const f = { ...CHECKPOINT, keyId: 'new' };
    expect(verifyCheckpoint(f, signCheckpoint(f, future.privateKey), [future.key])).toBe(
      'unknown_key',
    );
  });

  it('the raw key round-trips through a JWK', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const raw = rawPublicKey(privateKey);
    expect(raw).toBe(rawPublicKey(publicKey));
    expect(Buffer.from(raw, 'base64url')).toHaveLength(32);
    // The raw key is the last 32 bytes of the SPKI DER.
    expect(Buffer.from(raw, 'base64url')).toEqual(
      publicKey.export({ format: 'der', type: 'spki' }).subarray(-32),
    );
    const jwk = publicKeyJwk({
      keyId: 'k9',
      publicKey: raw,
      notBefore: CHECKPOINT.issuedAt,
      notAfter: null,
    });
    expect(jwk).toEqual({
      kty: 'OKP',
      crv: 'Ed25519',
      x: raw,
      kid: 'k9',
      alg: 'EdDSA',
      use: 'sig',
    });
    expect(publicKeyObject(raw).equals(publicKey)).toBe(true);
    expect(() => publicKeyObject('short')).toThrow(
      'publicKey must be a raw 32-byte Ed25519 key in base64url',
    );
    expect(() => rawPublicKey(generateKeyPairSync('x25519').publicKey)).toThrow(
      'the key must be an Ed25519 key',
    );
  });
});
