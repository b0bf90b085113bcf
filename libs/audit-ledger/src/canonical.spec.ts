// The canonical entry encoding, byte by byte, and the entry hash.
import { createHash } from 'node:crypto';
import {
  canonicalEntry,
  ENTRY_MAGIC,
  entryHash,
  GENESIS_HASH,
  type LedgerEntryContent,
} from './canonical.js';
import { content } from './spec/fixtures.js';

/** Reads back a canonical encoding: the magic and the 25 fields (null for absent). */
function decode(bytes: Uint8Array): { magic: string; fields: (string | null)[] } {
  const buf = Buffer.from(bytes);
  const magic = buf.subarray(0, ENTRY_MAGIC.length).toString('ascii');
  const fields: (string | null)[] = [];
  let at = ENTRY_MAGIC.length;
  while (at < buf.length) {
    const length = buf.readUInt32BE(at);
    at += 4;
    if (length === 0xffffffff) fields.push(null);
    else {
      fields.push(buf.subarray(at, at + length).toString('utf8'));
      at += length;
    }
  }
  return { magic, fields };
}

const MINIMAL: LedgerEntryContent = {
  tenantId: 't',
  seq: 1,
  id: 'e',
  schemaVersion: 1,
  occurredAt: '2026-01-01T00:00:00Z',
  recordedAt: '2026-01-01T00:00:00.000Z',
  category: 'c',
  action: 'a.b',
  outcome: 'success',
  severity: 'info',
  actor: { type: 'system', id: 's' },
  dataText: null,
  changesText: null,
};

describe('canonicalEntry', () => {
  it('is the magic then the 25 fields in order, each length-prefixed', () => {
    const e = content(4); // every optional field present
    expect(decode(canonicalEntry(e))).toEqual({
      magic: 'tenantry.audit.entry.v1',
      fields: [
        e.tenantId,
        '4',
        e.id,
        '1',
        e.occurredAt,
        e.recordedAt,
        e.category,
        e.action,
        e.outcome,
        e.severity,
        'user',
        'user-4',
        'Zoë Ünïcode ✓',
        '203.0.113.7',
        'curl/8.0',
        'sess-4',
        'tenant',
        e.tenantId,
        'user',
        'user-104',
        'req-4',
        '0af7651916cd43dd8448eb211c80319c',
        null,
        e.dataText,
        e.changesText,
      ],
    });
  });

  it('matches a hand-written encoding of a minimal entry (lengths in big-endian, absent = FFFFFFFF)', () => {
    const field = (s: string) => {
      const b = Buffer.from(s, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      return Buffer.concat([len, b]);
    };
    const absent = Buffer.from([0xff, 0xff, 0xff, 0xff]);
    const expected = Buffer.concat([
      Buffer.from('tenantry.audit.entry.v1', 'ascii'),
      ...[
        't',
        '1',
        'e',
        '1',
        '2026-01-01T00:00:00Z',
        '2026-01-01T00:00:00.000Z',
        'c',
        'a.b',
        'success',
        'info',
        'system',
        's',
      ].map(field),
      ...Array.from({ length: 13 }, () => absent),
    ]);
    expect(Buffer.from(canonicalEntry(MINIMAL))).toEqual(expected);
    // And the hash of it with the genesis prevHash, computed independently.
    expect(entryHash(MINIMAL, GENESIS_HASH)).toBe(
      createHash('sha256').update(expected).update(Buffer.alloc(32)).digest('hex'),
    );
  });

  it('tells an absent field (null or undefined) from an empty one, and multi-byte lengths are in bytes', () => {
    const absent = entryHash({ ...MINIMAL, requestId: null }, GENESIS_HASH);
    expect(entryHash({ ...MINIMAL, requestId: undefined }, GENESIS_HASH)).toBe(absent);
    expect(entryHash({ ...MINIMAL, requestId: '' }, GENESIS_HASH)).not.toBe(absent);
    const bytes = Buffer.from(canonicalEntry({ ...MINIMAL, actor: { type: 'user', id: 'é' } }));
    const at = bytes.indexOf(Buffer.from('é', 'utf8'));
    expect(bytes.readUInt32BE(at - 4)).toBe(2);
  });

  it('a value moved from one field to the next changes the hash (no ambiguity)', () => {
    const a = { ...MINIMAL, actor: { type: 'user', id: 'ab', name: '' } };
    const b = { ...MINIMAL, actor: { type: 'user', id: 'a', name: 'b' } };
    expect(entryHash(a, GENESIS_HASH)).not.toBe(entryHash(b, GENESIS_HASH));
  });

  it('every one of the 25 fields and the prevHash changes the hash', () => {
    const e = content(4);
    const base = entryHash(e, GENESIS_HASH);
    const variants: LedgerEntryContent[] = [
      { ...e, tenantId: e.tenantId + 'x' },
      { ...e, seq: 5 },
      { ...e, id: e.id + 'x' },
      { ...e, schemaVersion: 2 },
      { ...e, occurredAt: '2026-01-05T10:00:00.000Z' },
      { ...e, recordedAt: '2026-01-05T10:00:00.005Z' },
      { ...e, category: 'billing' },
      { ...e, action: 'user.updated' },
      { ...e, outcome: 'failure' },
      { ...e, severity: 'critical' },
      { ...e, actor: { ...e.actor, type: 'operator' } },
      { ...e, actor: { ...e.actor, id: 'other' } },
      { ...e, actor: { ...e.actor, name: null } },
      { ...e, actor: { ...e.actor, ip: '203.0.113.8' } },
      { ...e, actor: { ...e.actor, userAgent: 'curl/8.1' } },
      { ...e, actor: { ...e.actor, sessionId: undefined } },
      { ...e, onBehalfOf: { type: 'user', id: e.onBehalfOf!.id } },
      { ...e, onBehalfOf: { type: 'tenant', id: 'x' } },
      { ...e, target: { type: 'group', id: e.target!.id } },
      { ...e, target: { type: 'user', id: 'x' } },
      { ...e, requestId: 'req-x' },
      { ...e, traceId: null },
      { ...e, reason: 'because' },
      { ...e, dataText: '{"email":"u4@example.com","n":5}' },
      { ...e, changesText: null },
    ];
    const hashes = new Set([base, ...variants.map((v) => entryHash(v, GENESIS_HASH))]);
    expect(hashes.size).toBe(26);
    expect(entryHash(e, 'f'.repeat(64))).not.toBe(base);
  });

  it('refuses a malformed prevHash, seq or schemaVersion, naming it', () => {
    expect(() => entryHash(MINIMAL, 'abc')).toThrow('prevHash must be 64 lowercase hex digits');
    expect(() => entryHash(MINIMAL, 'A'.repeat(64))).toThrow(
      'prevHash must be 64 lowercase hex digits',
    );
    expect(() => canonicalEntry({ ...MINIMAL, seq: 0 })).toThrow(
      'seq must be an integer ≥ 1 (got 0)',
    );
    expect(() => canonicalEntry({ ...MINIMAL, seq: 1.5 })).toThrow('seq must be an integer ≥ 1');
    expect(() => canonicalEntry({ ...MINIMAL, schemaVersion: -1 })).toThrow(
      'schemaVersion must be an integer ≥ 0',
    );
  });

  it('GENESIS_HASH is 32 zero bytes', () => {
    expect(GENESIS_HASH).toBe('0'.repeat(64));
  });
});
