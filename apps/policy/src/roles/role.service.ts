import { Inject, Injectable } from '@nestjs/common';
import type {
  CreateRoleRequestSchema,
  ListRolesRequestSchema,
  TenantRole,
  UpdateRoleRequestSchema,
} from '@tenantry/contracts';
import {
  normalizePolicy,
  SYSTEM_ROLE_TEMPLATES,
  type NormalizedPolicy,
  type PolicyDocument,
  type Role,
} from '@tenantry/policy-engine';
import type { z } from 'zod';
import { compact, pageById } from '../core/paging.js';
import { PolicyQuotas } from '../tenant-lifecycle/policy-quotas.js';
import { TenantPolicyService } from '../tenant-policies/tenant-policy.service.js';
import { RoleErrors, type RoleUsers } from './role.errors.js';

type CreateRoleRequest = z.output<typeof CreateRoleRequestSchema>;
type ListRolesRequest = z.output<typeof ListRolesRequestSchema>;
type UpdateRoleRequest = z.output<typeof UpdateRoleRequestSchema>;

/** Ids no custom role may take: every system template's (the system roles are made from them). */
const SYSTEM_IDS = new Set(SYSTEM_ROLE_TEMPLATES.map((t) => t.id));

/** A system role: made from the system template of its own id (read-only). */
export function isSystemRole(role: Role): boolean {
  return SYSTEM_IDS.has(role.id) && role.template === role.id;
}

/** What uses a role: bindings of it, deny rules targeting its holders, roles inheriting it. */
export function usersOfRole(
  document: PolicyDocument,
  normalized: NormalizedPolicy,
  roleId: string,
): RoleUsers {
  return {
    bindings: document.bindings.filter((b) => b.roleId === roleId).map((b) => b.id),
    policies: (document.denyRules ?? [])
      .filter((r) => r.subjects?.some((s) => s.type === 'role' && s.id === roleId))
      .map((r) => r.id),
    roles: [...normalized.roles.values()]
      .filter((r) => r.id !== roleId && r.inherits.includes(roleId))
      .map((r) => r.id),
  };
}

/**
 * A tenant's roles: the system roles (read-only) and its custom ones, each with what it
 * grants in all. Changes go through TenantPolicyService (validated, versioned, audited,
 * published).
 */
@Injectable()
export class RoleService {
  constructor(
    @Inject(TenantPolicyService) private readonly policies: TenantPolicyService,
    @Inject(PolicyQuotas) private readonly quotas: PolicyQuotas,
  ) {}

  async list(
    request: ListRolesRequest,
  ): Promise<{ items: TenantRole[]; nextCursor: string | null }> {
    const document = await this.policies.document(request.tenantId);
    const normalized = normalizePolicy(document);
    return pageById(document.roles, request, (role) => toContract(role, document, normalized));
  }

  async get(tenantId: string, roleId: string): Promise<TenantRole> {
    const document = await this.policies.document(tenantId);
    const role = document.roles.find((r) => r.id === roleId);
    if (!role) throw RoleErrors.notFound(roleId);
    return toContract(role, document, normalizePolicy(document));
  }

  /**
   * A custom role; its id must be new and not a system role's, and the tenant's plan must
   * allow one more (`limits.customRoles`, QUOTA_EXCEEDED). Audited (role.created).
   */
  async create(request: CreateRoleRequest): Promise<TenantRole> {
    const { tenantId, ...fields } = request;
    if (SYSTEM_IDS.has(fields.id)) throw RoleErrors.systemRoleId(fields.id);
    if (fields.name === undefined && fields.template === undefined) throw RoleErrors.nameRequired();
    const role = compact({ ...fields, conditions: fields.conditions as Role['conditions'] });
    const limit = await this.quotas.customRolesLimit(tenantId);
    const { value, document } = await this.policies.change(tenantId, (current) => {
      if (current.roles.some((r) => r.id === role.id)) throw RoleErrors.idTaken(role.id);
      // Counted under the policy's lock: concurrent creations never pass the limit together.
      const custom = current.roles.filter((r) => !isSystemRole(r)).length;
      if (limit !== null && custom >= limit) throw RoleErrors.quotaExceeded(limit, custom);
      return {
        document: { ...current, roles: [...current.roles, role] },
        value: role,
        audit: {
          action: 'role.created',
          target: { type: 'role', id: role.id },
          before: null,
          after: role,
        },
        item: { path: `roles.${current.roles.length}`, what: 'role' },
      };
    });
    return toContract(value, document, normalizePolicy(document));
  }

  /** Changes the given fields of a custom role (`null` removes one). Audited (role.updated). */
  async update(request: UpdateRoleRequest): Promise<TenantRole> {
    const { tenantId, roleId, ...change } = request;
    const { value, document } = await this.policies.change(tenantId, (current) => {
      const index = this.customRoleIndex(current, roleId);
      const before = current.roles[index]!;
      const after: Role = compact({
        ...before,
        ...change,
        description:
          change.description === null ? undefined : (change.description ?? before.description),
        template: change.template === null ? undefined : (change.template ?? before.template),
        variables: change.variables === null ? undefined : (change.variables ?? before.variables),
        conditions: (change.conditions ?? before.conditions) as Role['conditions'],
      });
      const roles = current.roles.with(index, after);
      return {
        document: { ...current, roles },
        value: after,
        audit: { action: 'role.updated', target: { type: 'role', id: roleId }, before, after },
        item: { path: `roles.${index}`, what: 'role' },
      };
    });
    return toContract(value, document, normalizePolicy(document));
  }

  /**
   * Deletes a custom role that nothing uses: refused (409) naming the bindings, deny rules and
   * roles that still use it. Audited (role.deleted).
   */
  async delete(tenantId: string, roleId: string): Promise<{ deleted: true }> {
    await this.policies.change(tenantId, (current) => {
      const index = this.customRoleIndex(current, roleId);
      const users = usersOfRole(current, normalizePolicy(current), roleId);
      if (users.bindings.length || users.policies.length || users.roles.length)
        throw RoleErrors.inUse(roleId, users);
      const before = current.roles[index]!;
      return {
        document: { ...current, roles: current.roles.filter((_, i) => i !== index) },
        value: null,
        audit: {
          action: 'role.deleted',
          target: { type: 'role', id: roleId },
          before,
          after: null,
        },
        item: { path: 'roles', what: 'role' },
      };
    });
    return { deleted: true };
  }

  /** The index of a custom role; ROLE_NOT_FOUND, or ROLE_SYSTEM_READ_ONLY for a system role. */
  private customRoleIndex(document: PolicyDocument, roleId: string): number {
    const index = document.roles.findIndex((r) => r.id === roleId);
    if (index < 0) throw RoleErrors.notFound(roleId);
    if (isSystemRole(document.roles[index]!)) throw RoleErrors.systemRoleReadOnly(roleId);
    return index;
  }
}

/** Every permission a role grants: its own and its template's, and its inherited roles', transitively. */
export function effectivePermissions(normalized: NormalizedPolicy, roleId: string): string[] {
  const permissions = new Set<string>();
  const seen = new Set<string>();
  const visit = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    const role = normalized.roles.get(id);
    if (!role) return;
    for (const p of role.permissions) permissions.add(p.text);
    for (const parent of role.inherits) visit(parent);
  };
  visit(roleId);
  return [...permissions];
}

function substitute(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(/\{([^{}]*)\}/g, (whole, name: string) =>
    Object.hasOwn(vars, name) ? vars[name]! : whole,
  );
}

export function toContract(
  role: Role,
  document: PolicyDocument,
  normalized: NormalizedPolicy,
): TenantRole {
  const template =
    role.template === undefined
      ? undefined
      : (document.templates?.find((t) => t.id === role.template) ??
        SYSTEM_ROLE_TEMPLATES.find((t) => t.id === role.template));
  const description =
    role.description ??
    (template?.description ? substitute(template.description, role.variables ?? {}) : null);
  return {
    id: role.id,
    name: normalized.roles.get(role.id)?.name ?? role.name ?? role.id,
    description,
    system: isSystemRole(role),
    template: role.template ?? null,
    variables: role.variables ?? null,
    permissions: role.permissions ?? [],
    inherits: role.inherits ?? [],
    conditions: role.conditions ?? [],
    effectivePermissions: effectivePermissions(normalized, role.id),
  };
}
