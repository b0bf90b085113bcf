// The NDJSON export: what the service writes verifies, and every corruption is named at its line.
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { entryHash, type LedgerEntry } from './canonical.js';
import { checkpointLine, entryLine, headerLine, verifyExport } from './export-file.js';
import {
  chain,
  exportFile,
  OTHER_TENANT,
  signedCheckpoint,
  signingKey,
  TENANT,
} from './spec/fixtures.js';

const N = 12;
const ENTRIES = chain(N);
const SIGNER = signingKey('k1');

/** Line i (1-based) of `lines` replaced by f(parsed line). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- edits of arbitrary JSON lines
function editLine(lines: string[], line: number, f: (o: Record<string, any>) => unknown): string[] {
  const copy = [...lines];
  copy[line - 1] = JSON.stringify(f(JSON.parse(copy[line - 1]!)));
  return copy;
}

describe('verifyExport: intact files', () => {
  it('verifies a whole ledger, saying the key came from the file', async () => {
    const lines = exportFile(ENTRIES, SIGNER);
    expect(lines).toHaveLength(N + 3);
    const result = await verifyExport(lines);
    expect(result).toEqual({
      ok: true,
      tenantId: TENANT,
      entries: N,
      fromSeq: 1,
      toSeq: N,
      checkpoint: expect.objectContaining({ treeSize: N, keyId: 'k1' }),
      key: SIGNER.key,
      keySource: 'file',
    });
  });

  it('verifies a range not starting at seq 1, under a larger checkpoint', async () => {
    const lines = exportFile(ENTRIES, SIGNER, { fromSeq: 4, toSeq: 9, treeSize: N });
    expect(await verifyExport(lines)).toMatchObject({ ok: true, entries: 6, fromSeq: 4, toSeq: 9 });
  });

  it('reads a stream line by line (readline), CRLF and a trailing blank line included', async () => {
    const text = exportFile(ENTRIES, SIGNER).join('\r\n') + '\r\n\r\n';
    const lines = createInterface({
      input: Readable.from([text.slice(0, 1000), text.slice(1000)]),
      crlfDelay: Infinity,
    });
    expect(await verifyExport(lines)).toMatchObject({ ok: true, entries: N });
  });

  it('verifies an export without entries (its checkpoint still signed)', async () => {
    const lines = exportFile(ENTRIES, SIGNER, { fromSeq: 13, toSeq: 12 });
    expect(lines).toHaveLength(2);
    expect(await verifyExport(lines)).toMatchObject({
      ok: true,
      entries: 0,
      fromSeq: 13,
      toSeq: 12,
    });
  });

  it('with trusted keys: by keyId, or by the public key the file lists under that keyId', async () => {
    const lines = exportFile(ENTRIES, SIGNER);
    expect(await verifyExport(lines, { trustedKeys: [SIGNER.key] })).toMatchObject({
      ok: true,
      keySource: 'trusted',
    });
    const pinned = { ...SIGNER.key, keyId: 'from the command line' };
    expect(await verifyExport(lines, { trustedKeys: [pinned] })).toMatchObject({
      ok: true,
      keySource: 'trusted',
      key: { keyId: 'k1', publicKey: SIGNER.key.publicKey },
    });
    const stranger = signingKey('k1').key;
    expect(
      await verifyExport(lines, { trustedKeys: [{ ...stranger, keyId: 'k2' }] }),
    ).toMatchObject({
      ok: false,
      line: N + 2,
      kind: 'unknown_key',
    });
    // A trusted key with the checkpoint's keyId but other bytes did not sign it.
    expect(await verifyExport(lines, { trustedKeys: [stranger] })).toMatchObject({
      ok: false,
      kind: 'bad_signature',
    });
  });

  it('entryLine writes exactly the hashed fields (extra properties left out)', () => {
    const withExtra = { ...ENTRIES[1]!, data: { injected: true } } as LedgerEntry;
    const parsed = JSON.parse(entryLine(withExtra));
    expect(parsed.data).toBeUndefined();
    expect(Object.keys(parsed)).toHaveLength(21);
    expect(parsed).toMatchObject({ type: 'entry', seq: 2, hash: ENTRIES[1]!.hash, reason: null });
  });
});

describe('verifyExport: corrupted files name the first bad line', () => {
  const LINES = exportFile(ENTRIES, SIGNER);
  const CHECKPOINT_LINE = N + 2;
  const INCLUSION_LINE = N + 3;
  const fail = async (
    lines: string[],
    trustedKeys = undefined as undefined | (typeof SIGNER.key)[],
  ) => {
    const result = await verifyExport(lines, trustedKeys ? { trustedKeys } : {});
    if (result.ok) throw new Error('verified a corrupted file');
    return { line: result.line, kind: result.kind, message: result.message };
  };

  it('one bit flipped in an entry field: altered', async () => {
    const lines = editLine(LINES, 7, (o) => ({ ...o, action: o.action.replace('user', 'usdr') }));
    expect(await fail(lines)).toEqual({
      line: 7,
      kind: 'altered',
      message: expect.stringContaining('entry seq 6 hashes to'),
    });
  });

  it('a deleted, swapped or inserted entry line: gap', async () => {
    const deleted = LINES.filter((_, i) => i !== 5);
    expect(await fail(deleted)).toMatchObject({
      line: 6,
      kind: 'gap',
      message: 'expected seq 5, found 6',
    });
    const swapped = [...LINES];
    [swapped[3], swapped[4]] = [swapped[4]!, swapped[3]!];
    expect(await fail(swapped)).toMatchObject({ line: 4, kind: 'gap' });
    const inserted = [...LINES.slice(0, 5), LINES[4]!, ...LINES.slice(5)];
    expect(await fail(inserted)).toMatchObject({ line: 6, kind: 'gap' });
  });

  it('a forged prevHash: chain_break; an entry of another tenant: tenant_mismatch', async () => {
    expect(
      await fail(editLine(LINES, 4, (o) => ({ ...o, prevHash: 'ab'.repeat(32) }))),
    ).toMatchObject({
      line: 4,
      kind: 'chain_break',
    });
    expect(await fail(editLine(LINES, 4, (o) => ({ ...o, tenantId: OTHER_TENANT })))).toMatchObject(
      {
        line: 4,
        kind: 'tenant_mismatch',
      },
    );
  });

  it('a consistent rewrite of the chain is caught by the inclusion proof', async () => {
    // Change entry 6 and re-hash everything after it: the chain is sound, the signed root is not.
    const forged = ENTRIES.map((e) => ({ ...e }));
    forged[5] = { ...forged[5]!, action: 'user.forged' };
    for (let i = 5; i < N; i++) {
      forged[i]!.prevHash = forged[i - 1]!.hash;
      forged[i]!.hash = entryHash(forged[i]!, forged[i]!.prevHash);
    }
    const lines = [LINES[0]!, ...forged.map(entryLine), ...LINES.slice(N + 1)];
    expect(await fail(lines)).toMatchObject({ line: INCLUSION_LINE, kind: 'inclusion_invalid' });
  });

  it('re-signed with a key the forger lists in the file: verifies only without trusted keys', async () => {
    const forger = signingKey('k1');
    const forged = ENTRIES.map((e) => ({ ...e }));
    forged[N - 1] = { ...forged[N - 1]!, reason: 'hidden' };
    forged[N - 1]!.hash = entryHash(forged[N - 1]!, forged[N - 1]!.prevHash);
    const lines = exportFile(forged, forger);
    expect(await verifyExport(lines)).toMatchObject({ ok: true, keySource: 'file' });
    expect(await fail(lines, [SIGNER.key])).toMatchObject({
      line: CHECKPOINT_LINE,
      kind: 'bad_signature',
    });
  });

  it('the checkpoint: changed root, bad signature, unlisted key, other tenant, too small', async () => {
    const root = editLine(LINES, CHECKPOINT_LINE, (o) => ({
      ...o,
      checkpoint: { ...o.checkpoint, rootHash: 'cd'.repeat(32) },
    }));
    expect(await fail(root)).toMatchObject({ line: CHECKPOINT_LINE, kind: 'bad_signature' });
    const sig = editLine(LINES, CHECKPOINT_LINE, (o) => ({
      ...o,
      signature: o.signature.replace(/^./, (c: string) => (c === 'A' ? 'B' : 'A')),
    }));
    expect(await fail(sig)).toMatchObject({ line: CHECKPOINT_LINE, kind: 'bad_signature' });
    const unlisted = editLine(LINES, CHECKPOINT_LINE, (o) => ({ ...o, keys: [] }));
    expect(await fail(unlisted)).toMatchObject({ line: CHECKPOINT_LINE, kind: 'unknown_key' });
    const other = signedCheckpoint(ENTRIES, N, SIGNER, OTHER_TENANT);
    const tenant = [...LINES];
    tenant[CHECKPOINT_LINE - 1] = checkpointLine(other.checkpoint, other.signature, [SIGNER.key]);
    expect(await fail(tenant)).toMatchObject({ line: CHECKPOINT_LINE, kind: 'tenant_mismatch' });
    const small = signedCheckpoint(ENTRIES, N - 1, SIGNER);
    const tooSmall = [...LINES];
    tooSmall[CHECKPOINT_LINE - 1] = checkpointLine(small.checkpoint, small.signature, [SIGNER.key]);
    expect(await fail(tooSmall)).toMatchObject({
      line: CHECKPOINT_LINE,
      kind: 'inclusion_invalid',
      message: `the checkpoint's tree size ${N - 1} does not cover seq ${N}`,
    });
  });

  it('the inclusion proof: a flipped bit, another seq or size, a missing element', async () => {
    const bit = editLine(LINES, INCLUSION_LINE, (o) => ({
      ...o,
      proof: [
        o.proof[0].replace(/^./, (c: string) => (c === '0' ? '1' : '0')),
        ...o.proof.slice(1),
      ],
    }));
    expect(await fail(bit)).toMatchObject({ line: INCLUSION_LINE, kind: 'inclusion_invalid' });
    expect(
      await fail(editLine(LINES, INCLUSION_LINE, (o) => ({ ...o, seq: N - 1 }))),
    ).toMatchObject({ kind: 'inclusion_invalid' });
    expect(
      await fail(editLine(LINES, INCLUSION_LINE, (o) => ({ ...o, treeSize: N + 1 }))),
    ).toMatchObject({ kind: 'inclusion_invalid' });
    expect(
      await fail(editLine(LINES, INCLUSION_LINE, (o) => ({ ...o, proof: o.proof.slice(1) }))),
    ).toMatchObject({ kind: 'inclusion_invalid' });
    expect(await fail(LINES.slice(0, -1))).toEqual({
      line: INCLUSION_LINE,
      kind: 'inclusion_invalid',
      message: 'the file ends without the inclusion proof of its last entry',
    });
  });

  it('missing or truncated parts', async () => {
    expect(await fail(LINES.slice(0, N + 1))).toEqual({
      line: N + 2,
      kind: 'missing_checkpoint',
      message: 'the file ends without a checkpoint line',
    });
    expect(await fail(LINES.slice(0, 8))).toMatchObject({
      line: 9,
      kind: 'gap',
      message: "the file ends at seq 7, but the header's toSeq is 12",
    });
    expect(await fail([...LINES.slice(0, 8), ...LINES.slice(N + 1)])).toMatchObject({
      line: 9,
      kind: 'gap',
    });
    expect(await fail([])).toMatchObject({
      line: 1,
      kind: 'malformed',
      message: 'the file is empty: no header',
    });
    expect(await fail(LINES.slice(1))).toMatchObject({
      line: 1,
      kind: 'malformed',
      message: 'the first line must be the header',
    });
  });

  it('malformed lines name the field', async () => {
    const cases: Array<[string[], number, string]> = [
      [
        editLine(LINES, 3, (o) => ({ ...o, data: { a: 1 } })),
        3,
        'entry has an unexpected field "data"',
      ],
      [editLine(LINES, 3, (o) => ({ ...o, seq: '2' })), 3, 'entry.seq must be an integer ≥ 1'],
      [
        editLine(LINES, 3, (o) => ({ ...o, actor: { ...o.actor, name: 5 } })),
        3,
        'entry.actor.name must be a string or null',
      ],
      [
        editLine(LINES, 3, (o) => ({ ...o, hash: o.hash.toUpperCase() })),
        3,
        'entry.hash must be 64 lowercase hex digits',
      ],
      [
        editLine(LINES, 1, (o) => ({ ...o, format: 'v0' })),
        1,
        'header.format must be "tenantry.audit.export.v1" (got "v0")',
      ],
      [editLine(LINES, 1, (o) => ({ ...o, toSeq: -5 })), 1, 'header.toSeq must be an integer ≥ 0'],
      [[...LINES.slice(0, 2), '{"type":"entry"', ...LINES.slice(3)], 3, 'not JSON'],
      [[...LINES.slice(0, 2), '[1,2]', ...LINES.slice(3)], 3, 'a line must be a JSON object'],
      [[...LINES.slice(0, 2), '', ...LINES.slice(2)], 3, 'blank line inside the export'],
      [[...LINES, LINES[1]!], N + 4, 'expected the end of the file, got a "entry" line'],
      [
        [...LINES.slice(0, 3), LINES[INCLUSION_LINE - 1]!],
        4,
        'expected an entry or the checkpoint line, got a "inclusion" line',
      ],
      [
        editLine(LINES, CHECKPOINT_LINE, (o) => ({
          ...o,
          keys: [{ ...o.keys[0], publicKey: 'x' }],
        })),
        CHECKPOINT_LINE,
        'keys[0].publicKey must be a raw 32-byte Ed25519 key in base64url',
      ],
      [
        editLine(LINES, CHECKPOINT_LINE, (o) => ({
          ...o,
          checkpoint: { ...o.checkpoint, kind: 'other' },
        })),
        CHECKPOINT_LINE,
        'checkpoint.kind must be "checkpoint" or "tombstone"',
      ],
      [
        editLine(LINES, INCLUSION_LINE, (o) => ({ ...o, proof: ['zz'] })),
        INCLUSION_LINE,
        'inclusion.proof[0] must be 64 lowercase hex digits',
      ],
    ];
    for (const [lines, line, message] of cases)
      expect(await fail(lines)).toEqual({
        line,
        kind: 'malformed',
        message: expect.stringContaining(message),
      });
  });

  it("an entry past the header's toSeq is malformed", async () => {
    const lines = exportFile(ENTRIES, SIGNER, { toSeq: 5, treeSize: N });
    const extra = [...lines.slice(0, 6), entryLine(ENTRIES[5]!), ...lines.slice(6)];
    expect(await fail(extra)).toMatchObject({
      line: 7,
      kind: 'malformed',
      message: "an entry (seq 6) after the header's last seq 5",
    });
    expect(headerLine({ tenantId: TENANT, fromSeq: 1, toSeq: 5, exportedAt: 'x' })).toBe(
      `{"type":"header","format":"tenantry.audit.export.v1","tenantId":"${TENANT}","fromSeq":1,"toSeq":5,"exportedAt":"x"}`,
    );
  });
});
