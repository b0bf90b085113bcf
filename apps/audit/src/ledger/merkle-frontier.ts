import { MerkleAccumulator } from '@tenantry/audit-ledger';

/**
 * A Merkle tree's compact range (RFC 9162 hashing): `MerkleAccumulator` of
 * `@tenantry/audit-ledger`, saved with a checkpoint as one buffer (the subtree roots,
 * largest first, 32 bytes each) and restored from it, so that the next checkpoint's root
 * costs the leaves added since plus O(log n), not all leaves.
 */
export class MerkleFrontier {
  private constructor(private readonly tree: MerkleAccumulator) {}

  /** The frontier of the empty tree. */
  static empty(): MerkleFrontier {
    return new MerkleFrontier(new MerkleAccumulator());
  }

  /** The frontier of a tree of `size` leaves, as `bytes()` saved it; throws when it does not fit the size. */
  static restore(size: number, bytes: Buffer): MerkleFrontier {
    if (!Number.isSafeInteger(size) || size < 0 || bytes.length % 32 !== 0)
      throw new Error(
        `a frontier of ${bytes.length} bytes does not belong to a tree of ${size} leaves`,
      );
    const hashes: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += 32)
      hashes.push(Buffer.from(bytes.subarray(at, at + 32)));
    try {
      return new MerkleFrontier(MerkleAccumulator.restore(size, hashes));
    } catch {
      throw new Error(
        `a frontier of ${bytes.length} bytes does not belong to a tree of ${size} leaves`,
      );
    }
  }

  /** How many leaves the tree has. */
  get size(): number {
    return this.tree.size;
  }

  /** Appends one leaf hash (`leafHash(entryHash)`). */
  push(leaf: Buffer): void {
    this.tree.push(leaf);
  }

  /** The Merkle Tree Hash of the leaves so far (EMPTY_ROOT for none). */
  root(): Buffer {
    return this.tree.root();
  }

  /** The subtree roots, largest first, 32 bytes each: what `restore` takes. */
  bytes(): Buffer {
    return Buffer.concat(this.tree.frontier);
  }
}

/**
 * A checkpoint's saved frontier, when it gives the checkpoint's (signed) root; null when it
 * does not belong to that tree (then the tree must be recomputed from its first leaf).
 */
export function restoreFrontier(stored: {
  checkpoint: { treeSize: number; rootHash: string };
  frontier: Buffer;
}): MerkleFrontier | null {
  try {
    const frontier = MerkleFrontier.restore(stored.checkpoint.treeSize, stored.frontier);
    return frontier.root().toString('hex') === stored.checkpoint.rootHash ? frontier : null;
  } catch {
    return null;
  }
}
