// Merkle Tree Hash, inclusion and consistency proofs exactly as RFC 9162 §2.1 (Certificate
// Transparency v2): leaves hashed with the prefix 0x00, interior nodes with 0x01, a tree of n
// leaves split at the largest power of two smaller than n.
import { hash as oneShotHash } from 'node:crypto';
import { hexBytes } from './encoding.js';

const sha256 = (data: Uint8Array): Buffer => oneShotHash('sha256', data, 'buffer');

/** MTH of the empty tree: SHA-256 of nothing. */
export const EMPTY_ROOT: Buffer = sha256(new Uint8Array(0));

/**
 * SHA-256(0x00 ‖ leaf data). The ledger's leaf data is an entry's hash (64 hex digits, the
 * usual argument); any bytes (or hex string) are accepted so that RFC test vectors apply.
 */
export function leafHash(entryHashHex: string | Uint8Array): Buffer {
  const data =
    typeof entryHashHex === 'string' ? hexBytes(entryHashHex, 'leaf data') : entryHashHex;
  const input = Buffer.allocUnsafe(1 + data.length);
  input[0] = 0x00;
  input.set(data, 1);
  return sha256(input);
}

/** Reused input of nodeHash for two 32-byte hashes (crypto.hash reads it synchronously). */
const NODE_INPUT = Buffer.alloc(65);

/** SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length === 32 && right.length === 32) {
    NODE_INPUT[0] = 0x01;
    NODE_INPUT.set(left, 1);
    NODE_INPUT.set(right, 33);
    return sha256(NODE_INPUT);
  }
  const input = Buffer.allocUnsafe(1 + left.length + right.length);
  input[0] = 0x01;
  input.set(left, 1);
  input.set(right, 1 + left.length);
  return sha256(input);
}

/** The largest power of two strictly smaller than n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function checkSize(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`${what} must be an integer ≥ 0 (got ${String(value)})`);
}

/**
 * Streams the Merkle Tree Hash: push leaf hashes in order, read `root()` at any time. Keeps
 * one hash per set bit of the size (O(log n) memory): the roots of the perfect subtrees the
 * leaves so far form, largest first.
 */
export class MerkleAccumulator {
  private readonly stack: Buffer[] = [];
  private count = 0;

  /**
   * An accumulator resumed from a saved `frontier` of a tree of `size` leaves (so that a new
   * checkpoint hashes only the leaves added since the last). Throws when the frontier does not
   * have one hash per set bit of size.
   */
  static restore(size: number, frontier: readonly Buffer[]): MerkleAccumulator {
    checkSize(size, 'size');
    let bits = 0;
    for (let n = size; n > 0; n = Math.floor(n / 2)) bits += n % 2;
    if (frontier.length !== bits)
      throw new RangeError(
        `a frontier of a tree of ${size} leaves has ${bits} hashes (got ${frontier.length})`,
      );
    const acc = new MerkleAccumulator();
    acc.stack.push(...frontier);
    acc.count = size;
    return acc;
  }

  /** How many leaves were pushed. */
  get size(): number {
    return this.count;
  }

  /** The roots of the perfect subtrees the leaves form, largest first (O(log n) hashes). */
  get frontier(): Buffer[] {
    return [...this.stack];
  }

  /** Appends one leaf hash (already leaf-hashed: `leafHash(entryHash)`). */
  push(leafHashValue: Buffer): void {
    let node = leafHashValue;
    // Each trailing 1 bit of the old size is a perfect subtree of the new node's height.
    for (let n = this.count; n % 2 === 1; n = (n - 1) / 2) node = nodeHash(this.stack.pop()!, node);
    this.stack.push(node);
    this.count += 1;
  }

  /** MTH of the leaves pushed so far (EMPTY_ROOT for none). */
  root(): Buffer {
    if (this.stack.length === 0) return EMPTY_ROOT;
    let root = this.stack[this.stack.length - 1]!;
    for (let i = this.stack.length - 2; i >= 0; i--) root = nodeHash(this.stack[i]!, root);
    return root;
  }
}

/** MTH of leafHashes[start, end). */
function rangeRoot(leafHashes: readonly Buffer[], start: number, end: number): Buffer {
  const acc = new MerkleAccumulator();
  for (let i = start; i < end; i++) acc.push(leafHashes[i]!);
  return acc.root();
}

/** The Merkle Tree Hash (RFC 9162 §2.1.1) over leaf hashes (already `leafHash`ed). */
export function merkleRoot(leafHashes: readonly Buffer[]): Buffer {
  return rangeRoot(leafHashes, 0, leafHashes.length);
}

/**
 * The inclusion proof (audit path, RFC 9162 §2.1.3.1) of the leaf at `index` (0-based: the
 * entry of seq index + 1) in the tree of all `leafHashes`, deepest sibling first.
 */
export function inclusionProof(leafHashes: readonly Buffer[], index: number): Buffer[] {
  const n = leafHashes.length;
  checkSize(index, 'index');
  if (index >= n) throw new RangeError(`index ${index} is not in a tree of ${n} leaves`);
  const topDown: Buffer[] = [];
  let start = 0;
  let end = n;
  let m = index;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (m < k) {
      topDown.push(rangeRoot(leafHashes, start + k, end));
      end = start + k;
    } else {
      topDown.push(rangeRoot(leafHashes, start, start + k));
      start += k;
      m -= k;
    }
  }
  return topDown.reverse();
}

/**
 * The consistency proof (RFC 9162 §2.1.4.1) between the tree of the first `oldSize` leaves
 * and the tree of all `leafHashes` (newSize = leafHashes.length). Empty when oldSize is 0 or
 * equals newSize.
 */
export function consistencyProof(leafHashes: readonly Buffer[], oldSize: number): Buffer[] {
  const n = leafHashes.length;
  checkSize(oldSize, 'oldSize');
  if (oldSize > n) throw new RangeError(`oldSize ${oldSize} is larger than the tree (${n})`);
  if (oldSize === 0 || oldSize === n) return [];
  // SUBPROOF(m, D[start:end], b), unrolled: each step appends one hash, emitted bottom-up.
  const topDown: Buffer[] = [];
  let start = 0;
  let end = n;
  let m = oldSize;
  let complete = true; // b: the subtree is the whole old tree so far
  while (m !== end - start) {
    const k = splitPoint(end - start);
    if (m <= k) {
      topDown.push(rangeRoot(leafHashes, start + k, end));
      end = start + k;
    } else {
      topDown.push(rangeRoot(leafHashes, start, start + k));
      start += k;
      m -= k;
      complete = false;
    }
  }
  if (!complete) topDown.push(rangeRoot(leafHashes, start, end));
  return topDown.reverse();
}

/**
 * RFC 9162 §2.1.3.2: true when `proof` proves the leaf hash at `index` is in the tree of
 * `treeSize` leaves whose root is `root`. False (never throws) on a wrong index or root, a
 * changed proof element, a proof with too many or too few elements, or a tree size that
 * changes the path's shape (the size itself is bound by the signed checkpoint).
 */
export function verifyInclusion(
  leafHashValue: Buffer,
  index: number,
  treeSize: number,
  proof: readonly Buffer[],
  root: Buffer,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize)) return false;
  if (index < 0 || index >= treeSize) return false;
  let fn = index;
  let sn = treeSize - 1;
  let r = leafHashValue;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/**
 * RFC 9162 §2.1.4.2: true when `proof` proves the tree of `oldSize` leaves (root `oldRoot`) is
 * a prefix of the tree of `newSize` leaves (root `newRoot`). Equal sizes need an empty proof
 * and equal roots; oldSize 0 an empty proof and oldRoot = EMPTY_ROOT. Never throws.
 */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Buffer,
  newRoot: Buffer,
  proof: readonly Buffer[],
): boolean {
  if (!Number.isSafeInteger(oldSize) || !Number.isSafeInteger(newSize)) return false;
  if (oldSize < 0 || oldSize > newSize) return false;
  if (oldSize === newSize) return proof.length === 0 && oldRoot.equals(newRoot);
  if (oldSize === 0) return proof.length === 0 && oldRoot.equals(EMPTY_ROOT);
  if (proof.length === 0) return false;
  // Step 2: when oldSize is a power of two, the old root is the first element of the path.
  const fullPath = splitPoint(oldSize + 1) === oldSize ? [oldRoot, ...proof] : proof;
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = (fn - 1) / 2;
    sn = Math.floor(sn / 2);
  }
  let fr = fullPath[0]!;
  let sr = fullPath[0]!;
  for (const c of fullPath.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(oldRoot) && sr.equals(newRoot);
}
