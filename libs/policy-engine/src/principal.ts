/** From the platform's principal (`@tenantry/contracts`) to the engine's. */
import { PLATFORM_TENANT_ID, type Principal } from '@tenantry/contracts';
import type { PolicyPrincipal } from './decision.js';

/** Authentication methods that count as MFA in a principal's `amr`. */
const MFA_METHODS = new Set(['otp', 'mfa', 'hwk', 'swk']);

/**
 * The group every user with identity role `role` is in (`tenantry:role:tenant-admin`): a
 * tenant's default policy binds the system role of the same name to it, and a tenant admin
 * can bind more (or less) to it like to any group. The `tenantry:` prefix is Tenantry's own;
 * SSO and SCIM groups never carry it.
 */
export function identityRoleGroup(role: string): string {
  return `tenantry:role:${role}`;
}

/**
 * The group every API key of a tenant is in: what a key may do at most, before its scopes
 * narrow it (the default policy binds `tenant-admin` to it, so a key's scopes decide).
 */
export const API_KEYS_GROUP = 'tenantry:api-keys';

/**
 * The engine's principal for a principal the gateway established: an operator is a user of the
 * platform tenant, an API key brings its scopes (intersected with its bindings), a platform API
 * key belongs to the platform tenant. Its groups: one per identity role (`identityRoleGroup`),
 * `API_KEYS_GROUP` for a key, and `groups` from SSO/SCIM.
 */
export function fromPrincipal(principal: Principal, groups?: readonly string[]): PolicyPrincipal {
  const apiKey = principal.kind === 'api_key';
  const implicit = apiKey ? [API_KEYS_GROUP] : principal.roles.map(identityRoleGroup);
  const all = groups?.length ? [...implicit, ...groups.filter((g) => !isReserved(g))] : implicit;
  return {
    kind: apiKey ? 'api_key' : 'user',
    id: principal.id,
    tenantId: principal.tenantId ?? PLATFORM_TENANT_ID,
    ...(all.length ? { groups: all } : {}),
    ...(apiKey ? { apiKeyScopes: principal.scopes } : {}),
  };
}

/** A group name only Tenantry itself may give (an IdP's group called so is ignored). */
export function isReserved(group: string): boolean {
  return group.startsWith('tenantry:');
}

/** When the principal last did MFA (epoch ms), from its `amr` and `authTime`; undefined if it did not. */
export function mfaAtOf(principal: Principal): number | undefined {
  if (!principal.authTime || !principal.amr?.some((m) => MFA_METHODS.has(m))) return undefined;
  const at = Date.parse(principal.authTime);
  return Number.isNaN(at) ? undefined : at;
}
