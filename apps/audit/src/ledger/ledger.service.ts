import { Inject, Injectable } from '@nestjs/common';
import {
  ChainVerifier,
  GENESIS_HASH,
  leafHash,
  verifyCheckpoint,
  type AuditKey,
} from '@tenantry/audit-ledger';
import {
  Cursor,
  TimestampSchema,
  UuidSchema,
  type AuditKeyInfo,
  type AuditReader,
  type AuditVerification,
  type AuditVerifyFailureKind,
  type ConsistencyProof,
  type InclusionProof,
  type PageQuery,
  type SignedAuditCheckpoint,
} from '@tenantry/contracts';
import { z } from 'zod';
import { AuditReadAuditor } from '../audit-events/audit-search.read-auditor.js';
import { LedgerErrors } from './ledger.errors.js';
import { LedgerRepository, type StoredCheckpoint } from './ledger.repository.js';
import { MerkleFrontier, restoreFrontier } from './merkle-frontier.js';
import { consistencyRanges, inclusionRanges, rangeRoots } from './proof-ranges.js';
import { AuditSigningKeyService } from './signing-key.service.js';

/** Leaves and entries read per query while proving and verifying. */
const PAGE = 2_000;
/** Checkpoints read per query while verifying. */
const CHECKPOINT_PAGE = 500;

const CheckpointCursorSchema = z.tuple([TimestampSchema, UuidSchema]);

/** A signed checkpoint as the API answers it. */
export function signed(stored: StoredCheckpoint): SignedAuditCheckpoint {
  return { checkpoint: stored.checkpoint, signature: stored.signature };
}

type Failure = NonNullable<AuditVerification['firstBad']>;

/**
 * The ledger's evidence for a tenant: signed checkpoints, RFC 9162 inclusion and
 * consistency proofs computed from `audit_leaves`, and `verify`, which re-reads the chain
 * and the checkpoints as PostgreSQL holds them. The request methods (`checkpoints`,
 * `inclusionProof`, `consistencyProof`, `verify`) record the read in the tenant's own chain
 * first (`audit.read`); `prove*` and `verifyLedger` do the work without recording (for
 * other features, e.g. the export, which records its own read).
 */
@Injectable()
export class LedgerService {
  constructor(
    @Inject(LedgerRepository) private readonly ledger: LedgerRepository,
    @Inject(AuditSigningKeyService) private readonly keys: AuditSigningKeyService,
    @Inject(AuditReadAuditor) private readonly auditor: AuditReadAuditor,
  ) {}

  /** Every checkpoint signing key, current and retired, newest first. */
  async publishedKeys(): Promise<{ keys: AuditKeyInfo[] }> {
    return { keys: await this.keys.published() };
  }

  /** A tenant's checkpoints, latest issued first; the cursor is (issuedAt, id) of the last one. */
  async checkpoints({
    tenantId,
    limit,
    cursor,
    reader,
  }: PageQuery & { tenantId: string; reader?: AuditReader }): Promise<{
    items: SignedAuditCheckpoint[];
    nextCursor: string | null;
  }> {
    const after = cursor ? Cursor.decode(cursor, CheckpointCursorSchema) : undefined;
    await this.recordRead(tenantId, reader, { read: 'checkpoints', ...(cursor ? { cursor } : {}) });
    const rows = await this.ledger.listCheckpoints(
      tenantId,
      limit + 1,
      after && { issuedAt: after[0], id: after[1] },
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(signed),
      nextCursor:
        rows.length > limit && last ? Cursor.encode([last.checkpoint.issuedAt, last.id]) : null,
    };
  }

  /** The inclusion proof of entry `seq` (recorded as a read). */
  async inclusionProof(request: {
    tenantId: string;
    seq: number;
    treeSize?: number;
    reader?: AuditReader;
  }): Promise<InclusionProof> {
    const { tenantId, seq, treeSize, reader } = request;
    await this.recordRead(tenantId, reader, {
      read: 'inclusion-proof',
      seq,
      ...(treeSize ? { treeSize } : {}),
    });
    return this.proveInclusion(tenantId, seq, treeSize);
  }

  /** The consistency proof between two tree sizes (recorded as a read). */
  async consistencyProof(request: {
    tenantId: string;
    from: number;
    to: number;
    reader?: AuditReader;
  }): Promise<ConsistencyProof> {
    const { tenantId, from, to, reader } = request;
    await this.recordRead(tenantId, reader, { read: 'consistency-proof', from, to });
    return this.proveConsistency(tenantId, from, to);
  }

  /** `verifyLedger` (recorded as a read). */
  async verify(request: {
    tenantId: string;
    fromSeq?: number;
    toSeq?: number;
    reader?: AuditReader;
  }): Promise<AuditVerification> {
    const { tenantId, fromSeq, toSeq, reader } = request;
    await this.recordRead(tenantId, reader, {
      read: 'verify',
      ...(fromSeq ? { fromSeq } : {}),
      ...(toSeq ? { toSeq } : {}),
    });
    return this.verifyLedger(tenantId, fromSeq, toSeq);
  }

  /**
   * RFC 9162 §2.1.3: the audit path of entry `seq` in the tree of `treeSize` entries
   * (default: the latest checkpoint's), with that tree's root and its checkpoint if one was
   * issued. Works for entries retention removed too (their hashes stay). Reads the tree's
   * leaves once (O(treeSize)).
   */
  async proveInclusion(tenantId: string, seq: number, treeSize?: number): Promise<InclusionProof> {
    const { headSeq } = await this.ledger.chainState(tenantId);
    let size = treeSize;
    if (size === undefined) {
      const latest = await this.ledger.checkpointAtMost(tenantId, Number.MAX_SAFE_INTEGER);
      if (!latest || latest.checkpoint.treeSize < seq) {
        if (seq > headSeq) throw LedgerErrors.beyondHead('seq', seq, headSeq);
        throw LedgerErrors.notSealed();
      }
      size = latest.checkpoint.treeSize;
    }
    if (size > headSeq) throw LedgerErrors.beyondHead('treeSize', size, headSeq);
    if (seq > size) throw LedgerErrors.rangeOrder('treeSize', size, 'seq', seq);
    const [root, ...proof] = await rangeRoots(
      [{ start: 0, end: size }, ...inclusionRanges(seq - 1, size)],
      this.leafPages(tenantId),
    );
    const [leaf] = await this.ledger.leaves(tenantId, seq, seq);
    if (!leaf) throw new Error(`the sealed hash of entry ${seq} is missing`);
    const checkpoint = await this.ledger.checkpointOfSize(tenantId, size);
    return {
      tenantId,
      seq,
      leafIndex: seq - 1,
      treeSize: size,
      entryHash: leaf.hash.toString('hex'),
      leafHash: leafHash(leaf.hash).toString('hex'),
      proof: proof.map((p) => p.toString('hex')),
      rootHash: root!.toString('hex'),
      checkpoint: checkpoint ? signed(checkpoint) : null,
    };
  }

  /**
   * RFC 9162 §2.1.4: the proof that the tree of `from` entries is a prefix of the tree of
   * `to` entries, with both roots and their checkpoints when issued. O(to) leaves read.
   */
  async proveConsistency(tenantId: string, from: number, to: number): Promise<ConsistencyProof> {
    const { headSeq } = await this.ledger.chainState(tenantId);
    if (to > headSeq) throw LedgerErrors.beyondHead('to', to, headSeq);
    if (to < from) throw LedgerErrors.rangeOrder('to', to, 'from', from);
    const [fromRoot, toRoot, ...proof] = await rangeRoots(
      [{ start: 0, end: from }, { start: 0, end: to }, ...consistencyRanges(from, to)],
      this.leafPages(tenantId),
    );
    const [fromCheckpoint, toCheckpoint] = await Promise.all([
      this.ledger.checkpointOfSize(tenantId, from),
      this.ledger.checkpointOfSize(tenantId, to),
    ]);
    return {
      tenantId,
      from,
      to,
      fromRoot: fromRoot!.toString('hex'),
      toRoot: toRoot!.toString('hex'),
      proof: proof.map((p) => p.toString('hex')),
      fromCheckpoint: fromCheckpoint ? signed(fromCheckpoint) : null,
      toCheckpoint: toCheckpoint ? signed(toCheckpoint) : null,
    };
  }

  /**
   * Re-reads the tenant's ledger as PostgreSQL holds it and reports the first bad position:
   * each entry of [fromSeq, toSeq] (default: the whole chain; entries retention removed are
   * skipped, their hashes stay) recomputed and chained (`chain_break`, `altered`, `gap`) and
   * compared with the hash appended at its position (`altered`); each checkpoint of a tree
   * size in the range checked against the published keys (`unknown_key`, `bad_signature`)
   * and against the root of the stored leaves (`root_mismatch`). Reads pages in seq order:
   * O(range) entries, and the leaves from the last valid checkpoint before the range
   * (its saved frontier, checked against its signed root) or from the first.
   */
  async verifyLedger(
    tenantId: string,
    fromSeq?: number,
    toSeq?: number,
  ): Promise<AuditVerification> {
    const state = await this.ledger.chainState(tenantId);
    const last = Math.max(state.headSeq, state.maxEventSeq, state.maxLeafSeq);
    if (toSeq !== undefined && toSeq > last) throw LedgerErrors.beyondHead('toSeq', toSeq, last);
    const from = fromSeq ?? 1;
    const end = toSeq ?? last;
    if (from > end) {
      if (toSeq !== undefined) throw LedgerErrors.rangeOrder('toSeq', toSeq, 'fromSeq', from);
      throw LedgerErrors.beyondHead('fromSeq', from, last);
    }
    let checked = 0;
    let checkpointsChecked = 0;
    const bad = (failure: Failure): AuditVerification => ({
      ok: false,
      checked,
      checkpoints: checkpointsChecked,
      firstBad: failure,
    });
    const keys = await this.keys.publicKeys();

    // The Merkle walk starts at the last checkpoint before the range whose signature and
    // saved frontier hold, else at the first leaf.
    let frontier = MerkleFrontier.empty();
    const base = from > 1 ? await this.ledger.checkpointAtMost(tenantId, from - 1) : null;
    if (base && verifyCheckpoint(base.checkpoint, base.signature, keys) === 'ok') {
      const restored = restoreFrontier(base);
      if (restored) frontier = restored;
    }

    // The chain starts at the range's first entry retention kept, chained to the hash
    // appended just before it.
    const chainStart = Math.max(from, state.prunedThroughSeq + 1);
    let prevHash = GENESIS_HASH;
    if (chainStart > 1 && chainStart <= end) {
      const [before] = await this.ledger.leaves(tenantId, chainStart - 1, chainStart - 1);
      if (!before)
        return bad({
          seq: chainStart - 1,
          kind: 'gap',
          message: `the hash appended as entry ${chainStart - 1} is missing from the ledger's leaves`,
        });
      prevHash = before.hash.toString('hex');
    }
    const chain = new ChainVerifier({ tenantId, fromSeq: chainStart, prevHash });
    const checkpoints = this.checkpointStream(tenantId, from, end);
    let nextCheckpoint = await checkpoints.next();

    for (let pageStart = frontier.size + 1; pageStart <= end; pageStart += PAGE) {
      const pageEnd = Math.min(end, pageStart + PAGE - 1);
      const leaves = new Map(
        (await this.ledger.leaves(tenantId, pageStart, pageEnd)).map((l) => [l.seq, l.hash]),
      );
      const rows =
        pageEnd >= chainStart
          ? await this.ledger.entriesBySeq(tenantId, Math.max(pageStart, chainStart), pageEnd, PAGE)
          : [];
      const entries = new Map(rows.map((e) => [e.seq, e]));
      for (let seq = pageStart; seq <= pageEnd; seq++) {
        const leaf = leaves.get(seq);
        const entry = entries.get(seq);
        if (entry) {
          const failure = chain.add(entry);
          if (failure)
            return bad({
              seq: failure.seq,
              kind: chainKind(failure.kind),
              message: failure.message,
            });
          if (!leaf)
            return bad({
              seq,
              kind: 'altered',
              message: `entry ${seq} is not one the ledger appended (no hash was appended at its position): it was inserted`,
            });
          if (leaf.toString('hex') !== entry.hash)
            return bad({
              seq,
              kind: 'altered',
              message: `entry ${seq} hashes to ${entry.hash}, but the ledger appended ${leaf.toString('hex')} at that position`,
            });
          checked++;
        }
        if (leaf) {
          if (frontier.size !== seq - 1)
            return bad({
              seq: frontier.size + 1,
              kind: 'gap',
              message: `the hash appended as entry ${frontier.size + 1} is missing from the ledger's leaves`,
            });
          frontier.push(leafHash(leaf));
        }
        while (!nextCheckpoint.done && nextCheckpoint.value.checkpoint.treeSize === seq) {
          const failure = checkCheckpoint(nextCheckpoint.value, keys, frontier);
          if (failure) return bad(failure);
          checkpointsChecked++;
          nextCheckpoint = await checkpoints.next();
        }
      }
    }
    if (chainStart <= end && (chain.headSeq ?? chainStart - 1) !== end) {
      const missing = (chain.headSeq ?? chainStart - 1) + 1;
      return bad({ seq: missing, kind: 'gap', message: `entry ${missing} is missing` });
    }
    return { ok: true, checked, checkpoints: checkpointsChecked };
  }

  /** Records a read of the tenant's audit log in its own chain (fail closed). */
  private async recordRead(
    tenantId: string,
    reader: AuditReader | undefined,
    data: Record<string, unknown>,
  ): Promise<void> {
    await this.auditor.record({
      tenantId,
      action: 'audit.read',
      severity: 'info',
      reader,
      data,
      what: String(data.read).replace('-', ' '),
    });
  }

  /** Leaf hashes of the 0-based leaves [from, to), a page at a time, for `rangeRoots`. */
  private leafPages(tenantId: string) {
    const ledger = this.ledger;
    return async function* (from: number, to: number): AsyncIterable<Buffer[]> {
      for (let seq = from + 1; seq <= to; seq += PAGE) {
        const last = Math.min(to, seq + PAGE - 1);
        const leaves = await ledger.leaves(tenantId, seq, last);
        const missing = leaves.findIndex((leaf, i) => leaf.seq !== seq + i);
        if (missing >= 0 || leaves.length !== last - seq + 1)
          throw new Error(
            `the hash appended as entry ${missing >= 0 ? seq + missing : seq + leaves.length} is missing from the ledger's leaves`,
          );
        yield leaves.map((leaf) => leafHash(leaf.hash));
      }
    };
  }

  /** The checkpoints of tree sizes [from, to], by tree size, read a page at a time. */
  private async *checkpointStream(
    tenantId: string,
    from: number,
    to: number,
  ): AsyncGenerator<StoredCheckpoint> {
    let after: { treeSize: number; id: string } | undefined;
    for (;;) {
      const page = await this.ledger.checkpointsBySize(tenantId, from, to, CHECKPOINT_PAGE, after);
      yield* page;
      const last = page[page.length - 1];
      if (page.length < CHECKPOINT_PAGE || !last) return;
      after = { treeSize: last.checkpoint.treeSize, id: last.id };
    }
  }
}

/** The chain verifier's kinds as verify reports them (an entry of another tenant is altered). */
function chainKind(kind: string): AuditVerifyFailureKind {
  return kind === 'chain_break' || kind === 'gap' ? kind : 'altered';
}

/** A checkpoint's signature against the keys, and its root against the leaves so far. */
function checkCheckpoint(
  stored: StoredCheckpoint,
  keys: readonly AuditKey[],
  frontier: MerkleFrontier,
): Failure | null {
  const c = stored.checkpoint;
  const signature = verifyCheckpoint(c, stored.signature, keys);
  if (signature === 'unknown_key')
    return {
      seq: c.treeSize,
      kind: 'unknown_key',
      message: `the ${c.kind} of tree size ${c.treeSize} names key ${c.keyId}, which is not a published key valid at ${c.issuedAt}`,
    };
  if (signature === 'bad_signature')
    return {
      seq: c.treeSize,
      kind: 'bad_signature',
      message: `the ${c.kind} of tree size ${c.treeSize} (issued ${c.issuedAt}) is not signed by key ${c.keyId}`,
    };
  if (frontier.size !== c.treeSize)
    return {
      seq: c.treeSize,
      kind: 'root_mismatch',
      message: `the ${c.kind} of tree size ${c.treeSize} covers more entries than the ledger's leaves (${frontier.size})`,
    };
  const root = frontier.root().toString('hex');
  if (root !== c.rootHash)
    return {
      seq: c.treeSize,
      kind: 'root_mismatch',
      message: `the ${c.kind} of tree size ${c.treeSize} signed root ${c.rootHash}, but the ledger's leaves give ${root}`,
    };
  return null;
}
