// verifyChain against the corruption probes: a flipped bit, a deleted, swapped or inserted row.
import { entryHash, GENESIS_HASH, type LedgerEntry } from './canonical.js';
import { chain, content, OTHER_TENANT } from './spec/fixtures.js';
import { ChainVerifier, verifyChain } from './verify.js';

const N = 12;
const flipBit = (s: string, index: number): string =>
  s.slice(0, index) + String.fromCharCode(s.charCodeAt(index) ^ 1) + s.slice(index + 1);

describe('verifyChain', () => {
  it('accepts an intact chain, and any run of it given the previous hash', () => {
    const entries = chain(N);
    expect(verifyChain(entries)).toEqual({ ok: true });
    expect(verifyChain(entries.slice(4), { prevHash: entries[3]!.hash, fromSeq: 5 })).toEqual({
      ok: true,
    });
    // Without the previous hash, a run not starting at seq 1 trusts its first prevHash.
    expect(verifyChain(entries.slice(4))).toEqual({ ok: true });
    expect(verifyChain([])).toEqual({ ok: true });
  });

  it('seq 1 must chain to GENESIS_HASH', () => {
    const c = content(1);
    const forged = { ...c, prevHash: 'ab'.repeat(32), hash: entryHash(c, 'ab'.repeat(32)) };
    expect(verifyChain([forged])).toMatchObject({
      ok: false,
      seq: 1,
      index: 0,
      kind: 'chain_break',
    });
  });

  it('one bit flipped in any stored field is found at that entry', () => {
    const fields: Array<[string, (e: LedgerEntry) => LedgerEntry, string]> = [
      ['action', (e) => ({ ...e, action: flipBit(e.action, 2) }), 'altered'],
      ['actor.id', (e) => ({ ...e, actor: { ...e.actor, id: flipBit(e.actor.id, 0) } }), 'altered'],
      ['dataText', (e) => ({ ...e, dataText: flipBit(e.dataText!, 5) }), 'altered'],
      ['recordedAt', (e) => ({ ...e, recordedAt: flipBit(e.recordedAt, 20) }), 'altered'],
      ['hash', (e) => ({ ...e, hash: flipBit(e.hash, 7) }), 'altered'],
      ['prevHash', (e) => ({ ...e, prevHash: flipBit(e.prevHash, 7) }), 'chain_break'],
      ['seq', (e) => ({ ...e, seq: e.seq ^ 1 }), 'gap'],
      ['tenantId', (e) => ({ ...e, tenantId: flipBit(e.tenantId, 3) }), 'tenant_mismatch'],
    ];
    for (const [field, corrupt, kind] of fields)
      for (const at of [1, 5, N - 1]) {
        const entries = chain(N);
        entries[at] = corrupt(entries[at]!);
        const result = verifyChain(entries);
        expect([field, at, result]).toEqual([
          field,
          at,
          expect.objectContaining({ ok: false, kind, index: at, seq: at + 1 }),
        ]);
      }
  });

  it('a deleted row is a gap at the next one', () => {
    const entries = chain(N);
    entries.splice(6, 1);
    expect(verifyChain(entries)).toEqual({
      ok: false,
      seq: 7,
      index: 6,
      kind: 'gap',
      message: 'expected seq 7, found 8',
    });
  });

  it('two swapped rows are a gap at the first', () => {
    const entries = chain(N);
    [entries[3], entries[4]] = [entries[4]!, entries[3]!];
    expect(verifyChain(entries)).toMatchObject({ ok: false, seq: 4, index: 3, kind: 'gap' });
  });

  it('an inserted row: a gap when its seq repeats, a chain break when the seqs are renumbered', () => {
    const entries = chain(N);
    const c = content(5);
    const inserted = { ...c, action: 'user.forged', prevHash: entries[3]!.hash, hash: '' };
    inserted.hash = entryHash(inserted, inserted.prevHash);
    const duplicated = [...entries.slice(0, 5), inserted, ...entries.slice(5)];
    expect(verifyChain(duplicated)).toMatchObject({ ok: false, seq: 6, index: 5, kind: 'gap' });
    // Renumber the rest (and even re-hash the renumbered rows): the row after the inserted one
    // still names its old predecessor.
    const renumbered = [
      ...entries.slice(0, 4),
      inserted,
      ...entries.slice(4).map((e) => {
        const moved = { ...e, seq: e.seq + 1 };
        return { ...moved, hash: entryHash(moved, moved.prevHash) };
      }),
    ];
    expect(verifyChain(renumbered)).toMatchObject({
      ok: false,
      seq: 6,
      index: 5,
      kind: 'chain_break',
    });
  });

  it('checks tenant, then seq, then chain, then hash: the first failing check is reported', () => {
    const entries = chain(3);
    const all = {
      ...entries[1]!,
      tenantId: OTHER_TENANT,
      seq: 9,
      prevHash: GENESIS_HASH,
      action: 'x.y',
    };
    expect(verifyChain([entries[0]!, all])).toMatchObject({ kind: 'tenant_mismatch' });
    expect(verifyChain([entries[0]!, { ...all, tenantId: entries[1]!.tenantId }])).toMatchObject({
      kind: 'gap',
    });
    expect(
      verifyChain([entries[0]!, { ...all, tenantId: entries[1]!.tenantId, seq: 2 }]),
    ).toMatchObject({
      kind: 'chain_break',
    });
    expect(
      verifyChain([
        entries[0]!,
        { ...all, tenantId: entries[1]!.tenantId, seq: 2, prevHash: entries[0]!.hash },
      ]),
    ).toMatchObject({ kind: 'altered' });
  });

  it('honours the options: tenant, first seq and previous hash', () => {
    const entries = chain(N);
    expect(verifyChain(entries, { tenantId: OTHER_TENANT })).toMatchObject({
      kind: 'tenant_mismatch',
      seq: 1,
    });
    expect(verifyChain(entries.slice(2), { fromSeq: 2 })).toMatchObject({ kind: 'gap', seq: 2 });
    expect(verifyChain(entries.slice(2), { prevHash: entries[0]!.hash })).toMatchObject({
      kind: 'chain_break',
      seq: 3,
    });
  });

  it('a malformed stored hash or field is reported, not thrown', () => {
    const entries = chain(3);
    expect(verifyChain([entries[0]!, { ...entries[1]!, hash: 'nope' }])).toMatchObject({
      kind: 'altered',
      seq: 2,
    });
    expect(verifyChain([{ ...entries[0]!, schemaVersion: 1.5 }])).toMatchObject({
      kind: 'altered',
      seq: 1,
    });
    expect(verifyChain([entries[1]!, { ...entries[2]!, prevHash: 'x' }])).toMatchObject({
      kind: 'chain_break',
      seq: 3,
    });
  });
});

describe('ChainVerifier', () => {
  it('verifies page by page, exposing the head, and sticks to its first failure', () => {
    const entries = chain(N);
    const verifier = new ChainVerifier({ prevHash: GENESIS_HASH, fromSeq: 1 });
    expect(verifier.headHash).toBeUndefined();
    for (const e of entries.slice(0, 6)) expect(verifier.add(e)).toBeNull();
    expect([verifier.verified, verifier.headSeq, verifier.headHash]).toEqual([
      6,
      6,
      entries[5]!.hash,
    ]);
    const failure = verifier.add(entries[7]!);
    expect(failure).toMatchObject({ kind: 'gap', seq: 7 });
    expect(verifier.add(entries[6]!)).toBe(failure);
    expect(verifier.verified).toBe(6);
  });
});
