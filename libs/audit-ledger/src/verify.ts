// Verifying a run of ledger entries: gap-free seq, one tenant, each entry chained to its
// predecessor, each stored hash equal to the recomputed one.
import { entryHash, GENESIS_HASH, type LedgerEntry } from './canonical.js';
import { isHash } from './encoding.js';

/** Why a run of entries does not verify. */
export type ChainFailureKind = 'gap' | 'tenant_mismatch' | 'chain_break' | 'altered';

/** The first bad position of a run of entries. */
export interface ChainFailure {
  ok: false;
  /** The seq the bad position should hold (for a gap, the missing seq). */
  seq: number;
  /** 0-based position in the run. */
  index: number;
  kind: ChainFailureKind;
  /** In words, naming the values that differ. */
  message: string;
}

/** Where a run starts; everything optional. */
export interface ChainOptions {
  /**
   * The hash the first entry must chain to (its predecessor's, already trusted). Without it:
   * GENESIS_HASH when the run starts at seq 1, else the first entry's own prevHash is taken
   * as is (to be authenticated another way: the last entry's inclusion in a signed tree).
   */
  prevHash?: string;
  /** The seq the first entry must have; without it, the first entry's seq is taken. */
  fromSeq?: number;
  /** The tenant every entry must belong to; without it, the first entry's tenant. */
  tenantId?: string;
}

/**
 * Checks entries one by one in constant memory (it keeps only the previous entry's seq and
 * hash). Each entry is checked in this order and the first failure is reported:
 * 1. `tenant_mismatch`: its tenantId differs from the run's tenant;
 * 2. `gap`: its seq is not the previous seq + 1 (or fromSeq for the first);
 * 3. `chain_break`: its prevHash is not the previous entry's hash (GENESIS_HASH for seq 1);
 * 4. `altered`: its stored hash is not entryHash(entry, prevHash) (including a malformed one).
 * A deleted or swapped row is thus a gap, a row whose chain link was forged a chain_break, a
 * changed field (or hash) `altered`.
 */
export class ChainVerifier {
  private tenantId: string | undefined;
  private nextSeq: number | undefined;
  private lastHash: string | undefined;
  private count = 0;
  private failure: ChainFailure | undefined;

  constructor(options: ChainOptions = {}) {
    this.tenantId = options.tenantId;
    this.nextSeq = options.fromSeq;
    this.lastHash = options.prevHash;
  }

  /** How many entries were accepted. */
  get verified(): number {
    return this.count;
  }

  /** The last accepted entry's hash (undefined before the first). */
  get headHash(): string | undefined {
    return this.count === 0 ? undefined : this.lastHash;
  }

  /** The last accepted entry's seq (undefined before the first). */
  get headSeq(): number | undefined {
    return this.count === 0 || this.nextSeq === undefined ? undefined : this.nextSeq - 1;
  }

  /** Checks the next entry: null when it is fine, else the failure (and every later call's). */
  add(entry: LedgerEntry): ChainFailure | null {
    if (this.failure) return this.failure;
    const index = this.count;
    const expectedSeq = this.nextSeq ?? entry.seq;
    const fail = (kind: ChainFailureKind, message: string): ChainFailure =>
      (this.failure = { ok: false, seq: expectedSeq, index, kind, message });
    const tenantId = this.tenantId ?? entry.tenantId;
    if (entry.tenantId !== tenantId)
      return fail(
        'tenant_mismatch',
        `entry seq ${entry.seq} belongs to tenant ${entry.tenantId}, not ${tenantId}`,
      );
    if (entry.seq !== expectedSeq || !Number.isSafeInteger(entry.seq) || entry.seq < 1)
      return fail('gap', `expected seq ${expectedSeq}, found ${String(entry.seq)}`);
    const expectedPrev =
      this.lastHash ??
      (entry.seq === 1 ? GENESIS_HASH : isHash(entry.prevHash) ? entry.prevHash : '');
    if (entry.prevHash !== expectedPrev)
      return fail(
        'chain_break',
        expectedPrev === ''
          ? `entry seq ${entry.seq} has a malformed prevHash`
          : `entry seq ${entry.seq} has prevHash ${String(entry.prevHash)}, but the previous hash is ${expectedPrev}`,
      );
    let recomputed: string;
    try {
      recomputed = entryHash(entry, entry.prevHash);
    } catch (error) {
      return fail(
        'altered',
        `entry seq ${entry.seq} cannot be hashed: ${(error as Error).message}`,
      );
    }
    if (recomputed !== entry.hash)
      return fail(
        'altered',
        `entry seq ${entry.seq} hashes to ${recomputed}, but its stored hash is ${String(entry.hash)}`,
      );
    this.tenantId = tenantId;
    this.nextSeq = entry.seq + 1;
    this.lastHash = entry.hash;
    this.count += 1;
    return null;
  }
}

/**
 * Verifies a run of entries in seq order (see ChainVerifier for the checks and their order).
 * `{ ok: true }`, or the first bad position: its expected `seq`, its `index` in the array,
 * the `kind` and a `message`.
 */
export function verifyChain(
  entries: readonly LedgerEntry[],
  opts: ChainOptions = {},
): { ok: true } | ChainFailure {
  const verifier = new ChainVerifier(opts);
  for (const entry of entries) {
    const failure = verifier.add(entry);
    if (failure) return failure;
  }
  return { ok: true };
}
