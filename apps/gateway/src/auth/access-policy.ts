import { PLATFORM_TENANT_ID, type Principal } from '@tenantry/contracts';
import type { AccessRule } from './access.decorators.js';
import { scopesCover } from './scopes.js';

/** Whether the rule allows this principal, tenants aside. */
export function permits(rule: AccessRule, principal: Principal): boolean {
  switch (principal.kind) {
    case 'operator':
      return rule.operator === true;
    case 'user': {
      const roles = rule.tenantRoles;
      return roles === '*' || (!!roles && roles.some((role) => principal.roles.includes(role)));
    }
    case 'api_key':
      return !!rule.scopes?.length && scopesCover(principal.scopes, rule.scopes);
    default:
      return false;
  }
}

/**
 * - `allow`: go on;
 * - `forbidden`: 403 (the principal's own tenant, or no tenant in the route);
 * - `not-found`: the tenant-not-found 404 (another tenant's, or the platform's id), exactly
 *   what a tenant that does not exist gets;
 * - `check-tenant`: allowed if the tenant exists (operators and platform API keys, who
 *   belong to no tenant): ask the tenants service.
 */
export type Decision = 'allow' | 'forbidden' | 'not-found' | 'check-tenant';

/** The decision for a principal on a route, with the route's tenant id when it has one. */
export function decide(rule: AccessRule, principal: Principal, routeTenant?: string): Decision {
  if (routeTenant === undefined) return permits(rule, principal) ? 'allow' : 'forbidden';
  if (routeTenant === PLATFORM_TENANT_ID) return 'not-found';
  const own = principal.tenantId;
  // Another tenant's resources: the 404 comes before any other answer, so nothing tells them apart.
  if (own !== null && routeTenant !== own && routeTenant.toLowerCase() !== own.toLowerCase())
    return 'not-found';
  if (!permits(rule, principal)) return 'forbidden';
  return own === null ? 'check-tenant' : 'allow';
}

/** Who the rule allows, in words: "a platform operator, a user with the role tenant-admin, or an API key with the scope users:read". */
export function describeRule(rule: AccessRule): string {
  const who: string[] = [];
  if (rule.operator) who.push('a platform operator');
  if (rule.tenantRoles === '*') who.push('a signed-in user');
  else if (rule.tenantRoles?.length)
    who.push(`a user with the role ${rule.tenantRoles.join(' or ')}`);
  if (rule.scopes?.length)
    who.push(
      `an API key with the scope${rule.scopes.length > 1 ? 's' : ''} ${rule.scopes.join(' and ')}`,
    );
  return who.length > 1 ? `${who.slice(0, -1).join(', ')} or ${who.at(-1)}` : (who[0] ?? 'nobody');
}
