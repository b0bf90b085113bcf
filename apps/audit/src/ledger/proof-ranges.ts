import { MerkleFrontier } from './merkle-frontier.js';

/** Leaves [start, end) of a tree (0-based leaf indexes). */
export interface LeafRange {
  start: number;
  end: number;
}

/** The largest power of two strictly smaller than n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The subtrees whose roots make the inclusion proof of leaf `index` in the tree of `size`
 * leaves (RFC 9162 §2.1.3.1), deepest first: the proof is their Merkle Tree Hashes in this
 * order. They are disjoint and cover every leaf but `index`.
 */
export function inclusionRanges(index: number, size: number): LeafRange[] {
  const topDown: LeafRange[] = [];
  let start = 0;
  let end = size;
  let m = index;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (m < k) {
      topDown.push({ start: start + k, end });
      end = start + k;
    } else {
      topDown.push({ start, end: start + k });
      start += k;
      m -= k;
    }
  }
  return topDown.reverse();
}

/**
 * The subtrees whose roots make the consistency proof between the trees of `oldSize` and
 * `newSize` leaves (RFC 9162 §2.1.4.1, SUBPROOF), in proof order; none when oldSize is 0 or
 * equals newSize. They are disjoint.
 */
export function consistencyRanges(oldSize: number, newSize: number): LeafRange[] {
  if (oldSize === 0 || oldSize === newSize) return [];
  const topDown: LeafRange[] = [];
  let start = 0;
  let end = newSize;
  let m = oldSize;
  let complete = true;
  while (m !== end - start) {
    const k = splitPoint(end - start);
    if (m <= k) {
      topDown.push({ start: start + k, end });
      end = start + k;
    } else {
      topDown.push({ start, end: start + k });
      start += k;
      m -= k;
      complete = false;
    }
  }
  if (!complete) topDown.push({ start, end });
  return topDown.reverse();
}

/**
 * The Merkle Tree Hash of each of `ranges`, in their order, from one pass over the leaves in
 * index order: `pages(from, to)` yields the leaf hashes of [from, to) in order, in chunks.
 * Ranges may overlap (a proof's subtrees and the whole tree's root). O(leaves × ranges)
 * comparisons and O(leaves) hashes; O(ranges × log n) memory.
 */
export async function rangeRoots(
  ranges: readonly LeafRange[],
  pages: (from: number, to: number) => AsyncIterable<Buffer[]>,
): Promise<Buffer[]> {
  if (!ranges.length) return [];
  const slots = ranges.map((range) => ({ range, frontier: MerkleFrontier.empty() }));
  const from = Math.min(...ranges.map((r) => r.start));
  const to = Math.max(...ranges.map((r) => r.end));
  let position = from;
  for await (const page of pages(from, to)) {
    for (const leaf of page) {
      for (const { range, frontier } of slots)
        if (range.start <= position && position < range.end) frontier.push(leaf);
      position++;
    }
  }
  if (position !== to)
    throw new Error(`the tree has ${position} leaves where ${to} were needed for the proof`);
  return slots.map((slot) => slot.frontier.root());
}
