/**
 * Tenantry's built-in role templates. A tenant's document instantiates them by id
 * (`{ "id": "viewer", "template": "viewer" }`, or `systemRoles()`), with variables where a
 * template has some (`{ "id": "finance-reader", "template": "department-reader",
 * "variables": { "department": "finance" } }`).
 */
import { PLATFORM_TENANT_ID } from '@tenantry/contracts';
import type { Binding, PolicyDocument, Role, RoleTemplate } from './document.js';
import { API_KEYS_GROUP, identityRoleGroup } from './principal.js';

export const SYSTEM_ROLE_TEMPLATES: readonly RoleTemplate[] = Object.freeze([
  {
    id: 'platform-operator',
    name: 'Platform operator',
    description:
      'Runs the installation. Bound in the platform tenant only, where it grants everything.',
    permissions: ['*:*'],
  },
  {
    id: 'tenant-admin',
    name: 'Tenant admin',
    description:
      "Everything in the tenant: users, groups, roles, keys, settings, the product's resources.",
    permissions: ['*:*'],
  },
  {
    id: 'developer',
    name: 'Developer',
    description:
      'Reads everything; manages the integration: API keys, webhooks, projects. No users, roles or billing.',
    permissions: [
      '*:read',
      '*:list',
      'api-keys:*',
      'webhooks:*',
      'projects:*',
      'service-accounts:read',
    ],
  },
  {
    id: 'analyst',
    name: 'Analyst',
    description: 'Reads and exports everything; manages reports.',
    permissions: ['*:read', '*:list', '*:export', 'reports:*'],
  },
  {
    id: 'auditor',
    name: 'Auditor',
    description:
      'Reads everything (an audit looks at configuration too) and exports the audit log; changes nothing.',
    permissions: ['*:read', '*:list', 'audit:export'],
  },
  {
    id: 'member',
    name: 'Member',
    description:
      'Signs in and manages their own profile, password, MFA and sessions; reads their tenant.',
    permissions: ['profile:*', 'tenants:read'],
  },
  {
    id: 'viewer',
    name: 'Viewer',
    description: 'Reads and lists everything; changes nothing.',
    permissions: ['*:read', '*:list'],
  },
  {
    id: 'service-account',
    name: 'Service account',
    description: 'A product backend: publishes audit and usage events, reads nothing else.',
    permissions: ['audit:write', 'usage:write'],
  },
  {
    id: 'department-reader',
    name: 'Reader of {department}',
    description: "Reads and lists a department's resources (departments/{department} and below).",
    variables: ['department'],
    permissions: ['departments/{department}:read', 'departments/{department}:list'],
  },
] satisfies RoleTemplate[]);

/**
 * The system roles of a tenant: one role per variable-free template, with the template's id
 * (`tenant-admin`, `developer`, `analyst`, `auditor`, `viewer`, `service-account`), and
 * `platform-operator` too for the platform tenant.
 */
export function systemRoles(kind: 'tenant' | 'platform' = 'tenant'): Role[] {
  return SYSTEM_ROLE_TEMPLATES.filter(
    (t) => !t.variables?.length && (kind === 'platform' || t.id !== 'platform-operator'),
  ).map((t) => ({ id: t.id, template: t.id }));
}

/** The identity roles (`Roles` in contracts) and the system role each one's group is bound to. */
const IDENTITY_ROLE_BINDINGS: Readonly<Record<'tenant' | 'platform', Record<string, string>>> = {
  tenant: { 'tenant-admin': 'tenant-admin', member: 'member' },
  platform: { 'platform-operator': 'platform-operator' },
};

/**
 * A new tenant's policy (version 1): its system roles, each identity role's group bound to the
 * system role of the same name (`tenant-admin`, `member`; `platform-operator` in the platform
 * tenant), and every API key bound to the tenant's widest role, so that a key's scopes decide
 * what it may do until an admin binds keys more narrowly.
 */
export function defaultPolicy(tenantId: string): PolicyDocument {
  const kind = tenantId === PLATFORM_TENANT_ID ? 'platform' : 'tenant';
  const widest = kind === 'platform' ? 'platform-operator' : 'tenant-admin';
  const bindings: Binding[] = [
    ...Object.entries(IDENTITY_ROLE_BINDINGS[kind]).map(([identityRole, roleId]) => ({
      id: `default-${identityRole}`,
      roleId,
      subject: { type: 'group' as const, id: identityRoleGroup(identityRole) },
    })),
    { id: 'default-api-keys', roleId: widest, subject: { type: 'group', id: API_KEYS_GROUP } },
  ];
  return { schemaVersion: 1, tenantId, version: 1, roles: systemRoles(kind), bindings };
}
