import { defaultPolicy, type PolicyDocument } from '@tenantry/policy-engine';

/** Kept whatever the plan says: the first admin's role, and the one API keys are bound to. */
const ALWAYS_KEPT = 'tenant-admin';

/**
 * A new tenant's policy on its plan: `defaultPolicy(tenantId)` with only the system roles the
 * plan gives (and `tenant-admin` always: the first admin's role, the API keys' binding), and
 * only the bindings of the roles kept (the identity roles' groups `tenant-admin` and `member`,
 * the API keys' group to `tenant-admin`). `ignored`: plan roles that are no tenant system role.
 */
export function planPolicy(
  tenantId: string,
  planRoles: readonly string[],
): { document: PolicyDocument; ignored: string[] } {
  const base = defaultPolicy(tenantId);
  const known = new Set(base.roles.map((r) => r.id));
  const wanted = new Set([ALWAYS_KEPT, ...planRoles]);
  const roles = base.roles.filter((r) => wanted.has(r.id));
  const kept = new Set(roles.map((r) => r.id));
  return {
    document: { ...base, roles, bindings: base.bindings.filter((b) => kept.has(b.roleId)) },
    ignored: [...new Set(planRoles)].filter((id) => !known.has(id)),
  };
}

/** The plan's system roles a document lacks (added when the tenant moves to a plan with more). */
export function missingPlanRoles(document: PolicyDocument, planRoles: readonly string[]) {
  const have = new Set(document.roles.map((r) => r.id));
  const wanted = new Set(planRoles);
  return defaultPolicy(document.tenantId).roles.filter((r) => wanted.has(r.id) && !have.has(r.id));
}
