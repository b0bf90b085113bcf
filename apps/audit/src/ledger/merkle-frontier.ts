import { EMPTY_ROOT, nodeHash } from '@tenantry/audit-ledger';

/** How many bits of `n` are set (n up to 2^53). */
function bitCount(n: number): number {
  let count = 0;
  for (let rest = n; rest > 0; rest = Math.floor(rest / 2)) count += rest % 2;
  return count;
}

/**
 * A Merkle tree's compact range (RFC 9162 hashing): the roots of the perfect subtrees its
 * leaves form, largest first, one per set bit of its size. Like `MerkleAccumulator` of
 * `@tenantry/audit-ledger`, but it can be saved with a checkpoint and restored, so that
 * the next checkpoint's root costs the leaves added since plus O(log n), not all leaves.
 */
export class MerkleFrontier {
  private constructor(
    private count: number,
    private readonly stack: Buffer[],
  ) {}

  /** The frontier of the empty tree. */
  static empty(): MerkleFrontier {
    return new MerkleFrontier(0, []);
  }

  /** The frontier of a tree of `size` leaves, as `bytes()` saved it; throws when it does not fit the size. */
  static restore(size: number, bytes: Buffer): MerkleFrontier {
    if (!Number.isSafeInteger(size) || size < 0 || bytes.length !== bitCount(size) * 32)
      throw new Error(
        `a frontier of ${bytes.length} bytes does not belong to a tree of ${size} leaves`,
      );
    const stack: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += 32)
      stack.push(Buffer.from(bytes.subarray(at, at + 32)));
    return new MerkleFrontier(size, stack);
  }

  /** How many leaves the tree has. */
  get size(): number {
    return this.count;
  }

  /** Appends one leaf hash (`leafHash(entryHash)`). */
  push(leaf: Buffer): void {
    let node = leaf;
    // Each trailing 1 bit of the old size is a perfect subtree of the new node's height.
    for (let n = this.count; n % 2 === 1; n = (n - 1) / 2) node = nodeHash(this.stack.pop()!, node);
    this.stack.push(node);
    this.count += 1;
  }

  /** The Merkle Tree Hash of the leaves so far (EMPTY_ROOT for none). */
  root(): Buffer {
    if (this.stack.length === 0) return EMPTY_ROOT;
    let root = this.stack[this.stack.length - 1]!;
    for (let i = this.stack.length - 2; i >= 0; i--) root = nodeHash(this.stack[i]!, root);
    return root;
  }

  /** The subtree roots, largest first, 32 bytes each: what `restore` takes. */
  bytes(): Buffer {
    return Buffer.concat(this.stack);
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
