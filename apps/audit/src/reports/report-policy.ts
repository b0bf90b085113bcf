import { Roles, type User } from '@tenantry/contracts';
import { identityRoleGroup, normalizePolicy, type NormalizedPolicy } from '@tenantry/policy-engine';

/** A binding as the access review lists it. */
export interface ReviewedBinding {
  id: string;
  roleId: string;
  roleName: string | null;
  admin: boolean;
  subject: { type: string; id: string };
  scope: string | null;
  expiresAt: string | null;
}

/** A policy role reaching a user, and how. */
export interface HeldRole {
  roleId: string;
  bindingId: string;
  via: string;
  admin: boolean;
}

/** Identity roles that make a user an admin when the policy service cannot say more. */
const ADMIN_IDENTITY_ROLES: readonly string[] = [Roles.tenantAdmin, Roles.platformOperator];

/**
 * The tenant's policy read for an access review: its bindings, which roles are admin roles
 * (they grant every permission, `*:*`, themselves or through roles they inherit), and which
 * roles reach a user (bindings to them, or to the group of one of their identity roles;
 * expired bindings do not count).
 */
export class PolicyView {
  private readonly adminRoles: Set<string>;

  private constructor(private readonly policy: NormalizedPolicy) {
    this.adminRoles = new Set(
      [...policy.roles.keys()].filter((id) => this.grantsEverything(id, new Set())),
    );
  }

  /** Throws (ContractValidationError) when the document is not a valid policy. */
  static of(document: Record<string, unknown>): PolicyView {
    return new PolicyView(normalizePolicy(document));
  }

  bindings(): ReviewedBinding[] {
    return this.policy.bindings.map((binding) => ({
      id: binding.id,
      roleId: binding.roleId,
      roleName: this.policy.roles.get(binding.roleId)?.name ?? null,
      admin: this.adminRoles.has(binding.roleId),
      subject: { type: binding.subject.type, id: binding.subject.id },
      scope: binding.scope ?? null,
      expiresAt: binding.expiresAtText ?? null,
    }));
  }

  /** The roles bound to the user or to one of their identity roles' groups, in force at `now`. */
  rolesOf(user: Pick<User, 'id' | 'roles'>, now: Date): HeldRole[] {
    const groups = new Set(user.roles.map(identityRoleGroup));
    const held: HeldRole[] = [];
    for (const binding of this.policy.bindings) {
      if (binding.expiresAt <= now.getTime()) continue;
      const { type, id } = binding.subject;
      const via =
        type === 'user' && id === user.id
          ? 'user'
          : type === 'group' && groups.has(id)
            ? `group ${id}`
            : null;
      if (via === null) continue;
      held.push({
        roleId: binding.roleId,
        bindingId: binding.id,
        via,
        admin: this.adminRoles.has(binding.roleId),
      });
    }
    return held;
  }

  /** Whether the role, or one it inherits, grants `*:*` (conditions or not: still held). */
  private grantsEverything(roleId: string, seen: Set<string>): boolean {
    if (seen.has(roleId)) return false;
    seen.add(roleId);
    const role = this.policy.roles.get(roleId);
    if (!role) return false;
    if (role.permissions.some((p) => p.resource === '*' && !p.below && p.action === '*'))
      return true;
    return role.inherits.some((parent) => this.grantsEverything(parent, seen));
  }
}

/** Without the policy: whether the user's identity roles make them an admin. */
export function hasAdminIdentityRole(user: Pick<User, 'roles'>): boolean {
  return user.roles.some((role) => ADMIN_IDENTITY_ROLES.includes(role));
}
