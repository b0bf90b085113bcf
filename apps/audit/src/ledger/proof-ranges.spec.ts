import { createHash } from 'node:crypto';
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  merkleRoot,
  verifyConsistency,
  verifyInclusion,
} from '@tenantry/audit-ledger';
import { MerkleFrontier } from './merkle-frontier.js';
import { consistencyRanges, inclusionRanges, rangeRoots } from './proof-ranges.js';

const leaves = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    leafHash(createHash('sha256').update(`entry ${i}`).digest('hex')),
  );

/** Serves leaves [from, to) in chunks of 3, as the repository serves pages. */
function pagesOf(all: Buffer[]) {
  return async function* (from: number, to: number) {
    for (let at = from; at < to; at += 3) yield all.slice(at, Math.min(at + 3, to));
  };
}

const hex = (list: Buffer[]) => list.map((b) => b.toString('hex'));

describe('MerkleFrontier', () => {
  it('gives the RFC 9162 root at every size, also after being saved and restored', () => {
    const all = leaves(70);
    let frontier = MerkleFrontier.empty();
    expect(frontier.root().equals(merkleRoot([]))).toBe(true);
    for (let n = 1; n <= all.length; n++) {
      frontier.push(all[n - 1]!);
      expect(frontier.root().toString('hex')).toBe(merkleRoot(all.slice(0, n)).toString('hex'));
      if (n % 7 === 0) frontier = MerkleFrontier.restore(n, frontier.bytes());
    }
  });

  it('refuses a saved frontier that does not fit the tree size', () => {
    const frontier = MerkleFrontier.empty();
    for (const leaf of leaves(5)) frontier.push(leaf);
    expect(() => MerkleFrontier.restore(7, frontier.bytes())).toThrow(
      'a frontier of 64 bytes does not belong to a tree of 7 leaves',
    );
  });
});

describe('proofs from one pass over the leaves', () => {
  const all = leaves(40);

  it('inclusion: the same proof as the library, for every leaf of every tree size', async () => {
    for (let size = 1; size <= all.length; size++) {
      const tree = all.slice(0, size);
      const root = merkleRoot(tree);
      for (let index = 0; index < size; index++) {
        const proof = await rangeRoots(inclusionRanges(index, size), pagesOf(tree));
        expect(hex(proof)).toEqual(hex(inclusionProof(tree, index)));
        expect(verifyInclusion(tree[index]!, index, size, proof, root)).toBe(true);
      }
    }
  });

  it('consistency: the same proof as the library, for every pair of sizes', async () => {
    for (let to = 1; to <= all.length; to++) {
      const tree = all.slice(0, to);
      for (let from = 1; from <= to; from++) {
        const proof = await rangeRoots(consistencyRanges(from, to), pagesOf(tree));
        expect(hex(proof)).toEqual(hex(consistencyProof(tree, from)));
        expect(
          verifyConsistency(from, to, merkleRoot(all.slice(0, from)), merkleRoot(tree), proof),
        ).toBe(true);
      }
    }
  });

  it('computes overlapping ranges in the same pass (a proof and its tree root)', async () => {
    const tree = all.slice(0, 13);
    const [root, ...proof] = await rangeRoots(
      [{ start: 0, end: 13 }, ...inclusionRanges(6, 13)],
      pagesOf(tree),
    );
    expect(root!.toString('hex')).toBe(merkleRoot(tree).toString('hex'));
    expect(hex(proof)).toEqual(hex(inclusionProof(tree, 6)));
  });

  it('fails, naming the counts, when the leaves run out', async () => {
    await expect(rangeRoots(inclusionRanges(0, 8), pagesOf(all.slice(0, 5)))).rejects.toThrow(
      'the tree has 5 leaves where 8 were needed for the proof',
    );
  });
});
