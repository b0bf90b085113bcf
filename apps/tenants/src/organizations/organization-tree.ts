import { MAX_ORGANIZATION_DEPTH } from '@tenantry/contracts';

/** An organization's place in its tenant's tree. */
export interface TreeNode {
  id: string;
  /** Ids from the root down to the node itself, each followed by `/`. */
  path: string;
  /** 1 for a root. */
  depth: number;
}

/** `<root>/<child>/<id>/` → [root, child, id] */
export function pathIds(path: string): string[] {
  return path.split('/').filter(Boolean);
}

/** The materialized path of a node with this id under `parent` (a root when null). */
export function childPath(parent: Pick<TreeNode, 'path'> | null, id: string): string {
  return `${parent?.path ?? ''}${id}/`;
}

/** The policy engine's resource path of an organization: `orgs/<root slug>/…/<own slug>`. */
export function resourcePathOf(slugs: readonly string[]): string {
  return ['orgs', ...slugs].join('/');
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `over` merged onto `base`: objects key by key (recursively), anything else replaced. */
export function deepMerge(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

/**
 * Settings as they cascade down the tree: the chain's own settings, root first, merged down
 * to the last (a key set lower wins; nested objects merge key by key; arrays and other
 * values replace).
 */
export function cascadeSettings(
  chain: readonly Record<string, unknown>[],
): Record<string, unknown> {
  return chain.reduce<Record<string, unknown>>((merged, own) => deepMerge(merged, own), {});
}

/** Why a move is refused, or null when it may go ahead. */
export type MoveRefusal = { kind: 'cycle' } | { kind: 'too-deep'; deepest: number; max: number };

/**
 * Whether `node` (and its subtree, whose deepest node is at `subtreeDepth`) may move under
 * `parent` (to the roots when null): not under itself or anything below it (a cycle), and
 * not so that a node ends deeper than `max`.
 */
export function moveRefusal(
  node: TreeNode,
  parent: TreeNode | null,
  subtreeDepth: number,
  max = MAX_ORGANIZATION_DEPTH,
): MoveRefusal | null {
  if (parent && (parent.id === node.id || parent.path.startsWith(node.path))) {
    return { kind: 'cycle' };
  }
  const newDepth = (parent?.depth ?? 0) + 1;
  const deepest = subtreeDepth - node.depth + newDepth;
  if (deepest > max) return { kind: 'too-deep', deepest, max };
  return null;
}
