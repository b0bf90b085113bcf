import {
  cascadeSettings,
  childPath,
  moveRefusal,
  pathIds,
  resourcePathOf,
  type TreeNode,
} from './organization-tree.js';

/** a → b → c, and d at the top. */
const a: TreeNode = { id: 'a', path: 'a/', depth: 1 };
const b: TreeNode = { id: 'b', path: 'a/b/', depth: 2 };
const c: TreeNode = { id: 'c', path: 'a/b/c/', depth: 3 };
const d: TreeNode = { id: 'd', path: 'd/', depth: 1 };

describe('organization tree', () => {
  it('builds and reads materialized paths and resource paths', () => {
    expect(childPath(null, 'a')).toBe('a/');
    expect(childPath(b, 'x')).toBe('a/b/x/');
    expect(pathIds('a/b/c/')).toEqual(['a', 'b', 'c']);
    expect(resourcePathOf(['emea', 'sales'])).toBe('orgs/emea/sales');
  });

  it('cascades settings from the root down: a lower key wins, objects merge, arrays replace', () => {
    const merged = cascadeSettings([
      { locale: 'en', mfa: { required: false, methods: ['totp'] }, tags: ['root'] },
      { mfa: { required: true } },
      { locale: 'de', tags: ['leaf'] },
    ]);
    expect(merged).toEqual({
      locale: 'de',
      mfa: { required: true, methods: ['totp'] },
      tags: ['leaf'],
    });
    expect(cascadeSettings([])).toEqual({});
  });

  it('refuses a move under the node itself or anything below it', () => {
    expect(moveRefusal(a, a, 3)).toEqual({ kind: 'cycle' });
    expect(moveRefusal(a, b, 3)).toEqual({ kind: 'cycle' });
    expect(moveRefusal(a, c, 3)).toEqual({ kind: 'cycle' });
    expect(moveRefusal(b, c, 3)).toEqual({ kind: 'cycle' });
  });

  it('allows moves elsewhere, and to the top level', () => {
    expect(moveRefusal(b, d, 3)).toBeNull();
    expect(moveRefusal(c, null, 3)).toBeNull();
    expect(moveRefusal(d, c, 1)).toBeNull();
    // A sibling whose path merely starts with the same characters is not inside the subtree.
    expect(
      moveRefusal({ id: 'a', path: 'a/', depth: 1 }, { id: 'ab', path: 'ab/', depth: 1 }, 1),
    ).toBeNull();
  });

  it('refuses a move that would put any node of the subtree deeper than the maximum', () => {
    // b's subtree is two levels (b, c); under c (depth 3) b lands at 4 and c at 5.
    expect(moveRefusal(b, { id: 'x', path: 'd/x/y/', depth: 3 }, 3, 4)).toEqual({
      kind: 'too-deep',
      deepest: 5,
      max: 4,
    });
    expect(moveRefusal(b, { id: 'x', path: 'd/x/', depth: 2 }, 3, 4)).toBeNull();
  });
});
