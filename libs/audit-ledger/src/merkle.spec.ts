// RFC 9162 Merkle trees against the Certificate Transparency reference vectors, tampering
// probes, and random properties.
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import {
  consistencyProof,
  EMPTY_ROOT,
  inclusionProof,
  leafHash,
  MerkleAccumulator,
  merkleRoot,
  nodeHash,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';

const h = (hex: string) => Buffer.from(hex, 'hex');
const hex = (b: Buffer) => b.toString('hex');

// The RFC 6962 test tree: leaves, roots of sizes 1..8, inclusion and consistency proofs, as in
// github.com/transparency-dev/merkle proof/verify_test.go (inclusionProofs, consistencyProofs,
// roots, leaves; the same data as google/certificate-transparency's merkle_tree_test.cc).
const LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
];
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
/** leaf: 1-based, as in the Go vectors. */
const INCLUSION = [
  { leaf: 1, size: 1, proof: [] as string[] },
  {
    leaf: 1,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    leaf: 6,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { leaf: 3, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    leaf: 2,
    size: 5,
    proof: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];
const CONSISTENCY = [
  { size1: 1, size2: 1, proof: [] as string[] },
  {
    size1: 1,
    size2: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    size1: 6,
    size2: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    size1: 2,
    size2: 5,
    proof: [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  {
    size1: 6,
    size2: 7,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];
const SOME_HASH = h('abacaba000000000000000000000000000000000000000000060061e00123456');
const EMPTY_TREE_HASH = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const CT = LEAVES.map((l) => leafHash(l));

/** Copies of `proof` with one bit flipped in one element, one per element. */
function bitFlips(proof: readonly Buffer[], mask: number): Buffer[][] {
  return proof.map((_, i) =>
    proof.map((p, j) => {
      if (j !== i) return p;
      const copy = Buffer.from(p);
      copy[0]! ^= mask;
      return copy;
    }),
  );
}

/** transparency-dev's corruptInclusionProof: every probe must fail. */
function inclusionProbes(index: number, size: number, proof: Buffer[], root: Buffer, leaf: Buffer) {
  const probes: Array<[string, Buffer, number, number, Buffer[], Buffer]> = [
    ['index - 1', leaf, index - 1, size, proof, root],
    ['index + 1', leaf, index + 1, size, proof, root],
    ['index ^ 2', leaf, index ^ 2, size, proof, root],
    ['size * 2', leaf, index, size * 2, proof, root],
    ['size / 2', leaf, index, Math.floor(size / 2), proof, root],
    ['wrong leaf', Buffer.from('WrongLeaf'), index, size, proof, root],
    ['empty root', leaf, index, size, proof, h(EMPTY_TREE_HASH)],
    ['random root', leaf, index, size, proof, SOME_HASH],
    ['trailing garbage', leaf, index, size, [...proof, Buffer.alloc(0)], root],
    ['trailing root', leaf, index, size, [...proof, root], root],
    ['preceding garbage', leaf, index, size, [Buffer.alloc(0), ...proof], root],
    ['preceding root', leaf, index, size, [root, ...proof], root],
  ];
  bitFlips(proof, 8).forEach((p, i) =>
    probes.push([`proof[${i}] bit 3`, leaf, index, size, p, root]),
  );
  if (proof.length > 0)
    probes.push(['removed component', leaf, index, size, proof.slice(0, -1), root]);
  if (proof.length > 1)
    probes.push([
      'inserted component',
      leaf,
      index,
      size,
      [proof[0]!, SOME_HASH, ...proof.slice(1)],
      root,
    ]);
  return probes;
}

/** transparency-dev's corruptConsistencyProof: every probe must fail. */
function consistencyProbes(s1: number, s2: number, r1: Buffer, r2: Buffer, proof: Buffer[]) {
  const probes: Array<[string, number, number, Buffer, Buffer, Buffer[]]> = [
    ['size1 - 1', s1 - 1, s2, r1, r2, proof],
    ['size1 + 1', s1 + 1, s2, r1, r2, proof],
    ['size1 ^ 2', s1 ^ 2, s2, r1, r2, proof],
    ['size2 * 2', s1, s2 * 2, r1, r2, proof],
    ['size2 / 2', s1, Math.floor(s2 / 2), r1, r2, proof],
    ['wrong root1', s1, s2, Buffer.from('WrongRoot'), r2, proof],
    ['wrong root2', s1, s2, r1, Buffer.from('WrongRoot'), proof],
    ['swapped roots', s1, s2, r2, r1, proof],
    ['empty proof', s1, s2, r1, r2, []],
    ['trailing garbage', s1, s2, r1, r2, [...proof, Buffer.alloc(0)]],
    ['trailing root1', s1, s2, r1, r2, [...proof, r1]],
    ['trailing root2', s1, s2, r1, r2, [...proof, r2]],
    ['preceding garbage', s1, s2, r1, r2, [Buffer.alloc(0), ...proof]],
    ['preceding root1', s1, s2, r1, r2, [r1, ...proof]],
    ['preceding root2', s1, s2, r1, r2, [r2, ...proof]],
    ['preceding proof[0]', s1, s2, r1, r2, [proof[0]!, ...proof]],
  ];
  if (proof.length > 0) probes.push(['truncated proof', s1, s2, r1, r2, proof.slice(0, -1)]);
  bitFlips(proof, 16).forEach((p, i) => probes.push([`proof[${i}] bit 4`, s1, s2, r1, r2, p]));
  return probes;
}

describe('RFC 9162 hashing', () => {
  it('hashes leaves with 0x00 and nodes with 0x01', () => {
    const sha = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
    const a = h('aa'.repeat(32));
    const b = h('bb'.repeat(32));
    expect(leafHash(a)).toEqual(sha(Buffer.from([0]), a));
    expect(leafHash(a.toString('hex'))).toEqual(sha(Buffer.from([0]), a));
    expect(nodeHash(a, b)).toEqual(sha(Buffer.from([1]), a, b));
    expect(hex(leafHash(''))).toBe(ROOTS[0]);
  });

  it('refuses leaf data that is not hex', () => {
    expect(() => leafHash('xyz')).toThrow('leaf data must be hex digits');
    expect(() => leafHash('abc')).toThrow('leaf data must be hex digits');
  });

  it('the empty tree is SHA-256 of nothing', () => {
    expect(hex(EMPTY_ROOT)).toBe(EMPTY_TREE_HASH);
    expect(hex(merkleRoot([]))).toBe(EMPTY_TREE_HASH);
  });

  it('matches the reference roots of sizes 1..8', () => {
    for (let n = 1; n <= 8; n++)
      expect([n, hex(merkleRoot(CT.slice(0, n)))]).toEqual([n, ROOTS[n - 1]]);
  });

  it('MerkleAccumulator gives the same roots as leaves are pushed', () => {
    const acc = new MerkleAccumulator();
    expect(acc.root()).toEqual(EMPTY_ROOT);
    CT.forEach((leaf, i) => {
      acc.push(leaf);
      expect(acc.size).toBe(i + 1);
      expect(hex(acc.root())).toBe(ROOTS[i]);
    });
  });

  it('MerkleAccumulator resumes from a saved frontier', () => {
    const acc = new MerkleAccumulator();
    CT.slice(0, 5).forEach((leaf) => acc.push(leaf));
    expect(acc.frontier).toHaveLength(2); // 5 = 4 + 1
    const resumed = MerkleAccumulator.restore(5, acc.frontier);
    CT.slice(5).forEach((leaf) => resumed.push(leaf));
    expect(hex(resumed.root())).toBe(ROOTS[7]);
    expect(() => MerkleAccumulator.restore(5, [CT[0]!])).toThrow(
      'a frontier of a tree of 5 leaves has 2 hashes (got 1)',
    );
  });
});

describe('inclusion proofs (RFC 9162 §2.1.3)', () => {
  it.each(INCLUSION)('leaf $leaf of $size: the reference proof is computed and verifies', (v) => {
    const tree = CT.slice(0, v.size);
    const root = h(ROOTS[v.size - 1]!);
    expect(inclusionProof(tree, v.leaf - 1).map(hex)).toEqual(v.proof);
    expect(verifyInclusion(CT[v.leaf - 1]!, v.leaf - 1, v.size, v.proof.map(h), root)).toBe(true);
  });

  it.each(INCLUSION.filter((v) => v.size > 1))(
    'leaf $leaf of $size: every tampered probe fails',
    (v) => {
      const root = h(ROOTS[v.size - 1]!);
      for (const [what, leaf, index, size, proof, r] of inclusionProbes(
        v.leaf - 1,
        v.size,
        v.proof.map(h),
        root,
        CT[v.leaf - 1]!,
      ))
        expect([what, verifyInclusion(leaf, index, size, proof, r)]).toEqual([what, false]);
    },
  );

  it('refuses impossible indexes and sizes without throwing', () => {
    const leaf = CT[0]!;
    for (const [index, size] of [
      [0, 0],
      [1, 0],
      [2, 1],
      [-1, 1],
      [0.5, 1],
      [0, Number.NaN],
    ] as const)
      expect(verifyInclusion(leaf, index, size, [], leaf)).toBe(false);
    // A one-leaf tree's root is its leaf hash, with an empty proof.
    expect(verifyInclusion(leaf, 0, 1, [], leaf)).toBe(true);
    expect(verifyInclusion(leaf, 0, 1, [], Buffer.alloc(0))).toBe(false);
    expect(verifyInclusion(Buffer.alloc(0), 0, 1, [], leaf)).toBe(false);
  });

  it('inclusionProof refuses an index outside the tree', () => {
    expect(() => inclusionProof(CT, 8)).toThrow('index 8 is not in a tree of 8 leaves');
    expect(() => inclusionProof(CT, -1)).toThrow('index must be an integer ≥ 0');
  });
});

describe('consistency proofs (RFC 9162 §2.1.4)', () => {
  it.each(CONSISTENCY)('$size1 → $size2: the reference proof is computed and verifies', (v) => {
    const r1 = h(ROOTS[v.size1 - 1]!);
    const r2 = h(ROOTS[v.size2 - 1]!);
    expect(consistencyProof(CT.slice(0, v.size2), v.size1).map(hex)).toEqual(v.proof);
    expect(verifyConsistency(v.size1, v.size2, r1, r2, v.proof.map(h))).toBe(true);
  });

  it.each(CONSISTENCY.filter((v) => v.size1 < v.size2))(
    '$size1 → $size2: every tampered probe fails',
    (v) => {
      const r1 = h(ROOTS[v.size1 - 1]!);
      const r2 = h(ROOTS[v.size2 - 1]!);
      for (const [what, s1, s2, a, b, proof] of consistencyProbes(
        v.size1,
        v.size2,
        r1,
        r2,
        v.proof.map(h),
      ))
        expect([what, verifyConsistency(s1, s2, a, b, proof)]).toEqual([what, false]);
    },
  );

  it('handles the trivial sizes as transparency-dev does (but pins the empty root)', () => {
    const r1 = h(ROOTS[0]!);
    const r2 = h(ROOTS[1]!);
    const empty = h(EMPTY_TREE_HASH);
    expect(verifyConsistency(0, 0, empty, empty, [])).toBe(true);
    expect(verifyConsistency(0, 3, empty, h(ROOTS[2]!), [])).toBe(true);
    expect(verifyConsistency(1, 1, r1, r1, [])).toBe(true);
    expect(verifyConsistency(1, 1, r1, r2, [])).toBe(false); // roots differ
    expect(verifyConsistency(1, 1, r1, r1, [empty])).toBe(false); // proof not empty
    expect(verifyConsistency(0, 1, empty, r1, [empty])).toBe(false);
    expect(verifyConsistency(0, 1, r2, r1, [])).toBe(false); // stricter: old root must be empty
    expect(verifyConsistency(1, 0, r1, r2, [])).toBe(false); // time travel
    expect(verifyConsistency(2, 1, r2, r1, [])).toBe(false);
    expect(verifyConsistency(1, 2, r1, r2, [])).toBe(false); // empty proof
    expect(verifyConsistency(-1, 2, r1, r2, [])).toBe(false);
    expect(consistencyProof(CT, 0)).toEqual([]);
    expect(consistencyProof(CT, 8)).toEqual([]);
    expect(() => consistencyProof(CT, 9)).toThrow('oldSize 9 is larger than the tree (8)');
  });
});

/** The RFC's PATH(m, D[n]) recursion, giving only which side each sibling is on (bottom-up). */
function inclusionShape(m: number, n: number): string[] {
  if (n <= 1) return [];
  let k = 1;
  while (k * 2 < n) k *= 2;
  return m < k ? [...inclusionShape(m, k), 'right'] : [...inclusionShape(m - k, n - k), 'left'];
}

/** The RFC's SUBPROOF(m, D[n], b) recursion, giving only the shape of the proof (bottom-up). */
function consistencyShape(m: number, n: number, b: boolean): string[] {
  if (m === n) return b ? [] : ['old'];
  let k = 1;
  while (k * 2 < n) k *= 2;
  return m <= k
    ? [...consistencyShape(m, k, b), 'right']
    : [...consistencyShape(m - k, n - k, false), 'left'];
}

describe('properties over random trees (fast-check, seeded)', () => {
  const SEED = 20261130;
  const leaves = (n: number) =>
    Array.from({ length: n }, (_, i) =>
      leafHash(createHash('sha256').update(`leaf ${i}`).digest()),
    );
  /** The RFC's recursive definition, written plainly, as the reference. */
  const reference = (d: Buffer[]): Buffer => {
    if (d.length === 0) return EMPTY_ROOT;
    if (d.length === 1) return d[0]!;
    let k = 1;
    while (k * 2 < d.length) k *= 2;
    return nodeHash(reference(d.slice(0, k)), reference(d.slice(k)));
  };
  const TREE = leaves(70);

  it('merkleRoot equals the recursive definition for sizes 0..70', () => {
    for (let n = 0; n <= 70; n++)
      expect(merkleRoot(TREE.slice(0, n))).toEqual(reference(TREE.slice(0, n)));
  });

  it('every inclusion proof verifies, and every single tampering fails', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70 }), fc.nat(), (size, seed) => {
        const tree = TREE.slice(0, size);
        const root = merkleRoot(tree);
        const index = seed % size;
        const proof = inclusionProof(tree, index);
        expect(verifyInclusion(tree[index]!, index, size, proof, root)).toBe(true);
        if (size === 1) return;
        const probes = inclusionProbes(index, size, proof, root, tree[index]!);
        for (const delta of [-1, 1, 3])
          probes.push([`size ${delta}`, tree[index]!, index, size + delta, proof, root]);
        for (const [what, leaf, i, s, p, r] of probes) {
          // The proof does not commit to the tree size beyond the path's shape (the signed
          // checkpoint does): a size giving the same shape verifies, any other fails.
          const sameShape =
            i === index &&
            leaf === tree[index] &&
            p === proof &&
            r === root &&
            s >= 1 &&
            i < s &&
            inclusionShape(i, s).join() === inclusionShape(index, size).join();
          expect([what, verifyInclusion(leaf, i, s, p, r)]).toEqual([what, sameShape]);
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('every index of every size 1..40 verifies (exhaustive)', () => {
    for (let size = 1; size <= 40; size++) {
      const tree = TREE.slice(0, size);
      const root = merkleRoot(tree);
      for (let i = 0; i < size; i++)
        expect(verifyInclusion(tree[i]!, i, size, inclusionProof(tree, i), root)).toBe(true);
    }
  });

  it('consistency proofs verify for every old ≤ new, and every single tampering fails', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70 }), fc.nat(), (newSize, seed) => {
        const oldSize = seed % (newSize + 1);
        const tree = TREE.slice(0, newSize);
        const r1 = merkleRoot(tree.slice(0, oldSize));
        const r2 = merkleRoot(tree);
        const proof = consistencyProof(tree, oldSize);
        expect(verifyConsistency(oldSize, newSize, r1, r2, proof)).toBe(true);
        if (oldSize === 0 || oldSize === newSize) return;
        const probes = consistencyProbes(oldSize, newSize, r1, r2, proof);
        for (const delta of [-1, 1, 3])
          probes.push([`size2 ${delta}`, oldSize, newSize + delta, r1, r2, proof]);
        for (const [what, s1, s2, a, b, p] of probes) {
          // As for inclusion, a new size giving the proof the same shape verifies.
          const sameShape =
            s1 === oldSize &&
            a === r1 &&
            b === r2 &&
            p === proof &&
            s2 > s1 &&
            consistencyShape(s1, s2, true).join() ===
              consistencyShape(oldSize, newSize, true).join();
          expect([what, verifyConsistency(s1, s2, a, b, p)]).toEqual([what, sameShape]);
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('every consistency pair of sizes 0..33 verifies (exhaustive)', () => {
    for (let n = 0; n <= 33; n++)
      for (let m = 0; m <= n; m++) {
        const tree = TREE.slice(0, n);
        const proof = consistencyProof(tree, m);
        expect([
          m,
          n,
          verifyConsistency(m, n, merkleRoot(tree.slice(0, m)), merkleRoot(tree), proof),
        ]).toEqual([m, n, true]);
      }
  });
});

describe('a million leaves', () => {
  it('root, an inclusion proof and a consistency proof, each in one O(n) pass', () => {
    const n = 1_000_000;
    const seed = createHash('sha256').update('seed').digest();
    const tree: Buffer[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const leaf = Buffer.from(seed);
      leaf.writeUInt32BE(i);
      tree[i] = leaf;
    }
    let start = performance.now();
    const root = merkleRoot(tree);
    const rootMs = performance.now() - start;
    start = performance.now();
    const index = 765_432;
    const proof = inclusionProof(tree, index);
    const proofMs = performance.now() - start;
    expect(proof).toHaveLength(20);
    expect(verifyInclusion(tree[index]!, index, n, proof, root)).toBe(true);
    const consistency = consistencyProof(tree, 999_999);
    expect(
      verifyConsistency(999_999, n, merkleRoot(tree.slice(0, 999_999)), root, consistency),
    ).toBe(true);
    if (process.env.SHOW_TIMES) console.log({ rootMs, proofMs });
    // Generous bounds for a busy shared machine; typically well under a second each.
    expect(rootMs).toBeLessThan(5_000);
    expect(proofMs).toBeLessThan(5_000);
  });
});
