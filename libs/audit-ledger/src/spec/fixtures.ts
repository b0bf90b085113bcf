// Test data: chains of ledger entries, signing keys, and whole export files.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  entryHash,
  GENESIS_HASH,
  type LedgerEntry,
  type LedgerEntryContent,
} from '../canonical.js';
import { rawPublicKey, signCheckpoint, type AuditKey, type Checkpoint } from '../checkpoint.js';
import { checkpointLine, entryLine, headerLine, inclusionLine } from '../export-file.js';
import { inclusionProof, leafHash, merkleRoot } from '../merkle.js';

export const TENANT = '6f1c2d3e-4a5b-4c6d-8e7f-901234567890';
export const OTHER_TENANT = '0b7a3c52-1111-4222-8333-444455556666';

/** The content of entry `seq`: every optional field present on some entries, absent on others. */
export function content(seq: number, tenantId = TENANT): LedgerEntryContent {
  const full = seq % 2 === 0;
  return {
    tenantId,
    seq,
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    schemaVersion: 1,
    occurredAt: `2026-01-0${(seq % 9) + 1}T10:00:00Z`,
    recordedAt: `2026-01-0${(seq % 9) + 1}T10:00:00.${String(seq % 1000).padStart(3, '0')}Z`,
    category: 'identity',
    action: seq % 3 === 0 ? 'user.deleted' : 'user.created',
    outcome: seq % 5 === 0 ? 'failure' : 'success',
    severity: seq % 5 === 0 ? 'warning' : 'info',
    actor: full
      ? {
          type: 'user',
          id: `user-${seq}`,
          name: 'Zoë Ünïcode ✓',
          ip: '203.0.113.7',
          userAgent: 'curl/8.0',
          sessionId: `sess-${seq}`,
        }
      : { type: 'system', id: 'scheduler' },
    ...(full ? { onBehalfOf: { type: 'tenant', id: tenantId } } : {}),
    ...(seq % 3 !== 2 ? { target: { type: 'user', id: `user-${seq + 100}` } } : {}),
    ...(full ? { requestId: `req-${seq}`, traceId: '0af7651916cd43dd8448eb211c80319c' } : {}),
    ...(seq % 5 === 0 ? { reason: 'quota exceeded' } : {}),
    dataText: full ? JSON.stringify({ email: `u${seq}@example.com`, n: seq }) : null,
    changesText:
      seq % 4 === 0 ? JSON.stringify({ before: { role: 'a' }, after: { role: 'b' } }) : null,
  };
}

/** Entries seq 1..n of one tenant, chained from GENESIS_HASH. */
export function chain(n: number, tenantId = TENANT): LedgerEntry[] {
  const entries: LedgerEntry[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const c = content(seq, tenantId);
    const hash = entryHash(c, prevHash);
    entries.push({ ...c, prevHash, hash });
    prevHash = hash;
  }
  return entries;
}

/** A fresh Ed25519 key pair and its AuditKey. */
export function signingKey(
  keyId: string,
  notBefore = '2025-01-01T00:00:00.000Z',
  notAfter: string | null = null,
): { privateKey: KeyObject; key: AuditKey } {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { privateKey, key: { keyId, publicKey: rawPublicKey(privateKey), notBefore, notAfter } };
}

/** A checkpoint over the first `treeSize` entries of `entries`, signed. */
export function signedCheckpoint(
  entries: readonly LedgerEntry[],
  treeSize: number,
  signer: { privateKey: KeyObject; key: AuditKey },
  tenantId = TENANT,
): { checkpoint: Checkpoint; signature: string } {
  const checkpoint: Checkpoint = {
    tenantId,
    treeSize,
    rootHash: merkleRoot(entries.slice(0, treeSize).map((e) => leafHash(e.hash))).toString('hex'),
    issuedAt: '2026-02-01T00:00:00.000Z',
    keyId: signer.key.keyId,
    kind: 'checkpoint',
    prunedThroughSeq: null,
  };
  return { checkpoint, signature: signCheckpoint(checkpoint, signer.privateKey) };
}

/**
 * The lines of an export of entries fromSeq..toSeq of `entries` (the tenant's whole ledger),
 * with a checkpoint of `treeSize` (default: all entries) signed by `signer`.
 */
export function exportFile(
  entries: readonly LedgerEntry[],
  signer: { privateKey: KeyObject; key: AuditKey },
  options: { fromSeq?: number; toSeq?: number; treeSize?: number; keys?: AuditKey[] } = {},
): string[] {
  const fromSeq = options.fromSeq ?? 1;
  const toSeq = options.toSeq ?? entries.length;
  const treeSize = options.treeSize ?? entries.length;
  const { checkpoint, signature } = signedCheckpoint(entries, treeSize, signer);
  const leaves = entries.slice(0, treeSize).map((e) => leafHash(e.hash));
  const lines = [
    headerLine({ tenantId: TENANT, fromSeq, toSeq, exportedAt: '2026-02-01T00:00:01.000Z' }),
    ...entries.slice(fromSeq - 1, toSeq).map(entryLine),
    checkpointLine(checkpoint, signature, options.keys ?? [signer.key]),
  ];
  if (toSeq >= fromSeq)
    lines.push(inclusionLine(toSeq, treeSize, inclusionProof(leaves, toSeq - 1)));
  return lines;
}
