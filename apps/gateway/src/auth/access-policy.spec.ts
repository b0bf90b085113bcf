import { PLATFORM_TENANT_ID, type Principal } from '@tenantry/contracts';
import type { AccessRule } from './access.decorators.js';
import { decide, describeRule, permits } from './access-policy.js';

const A = '0193a000-0000-7000-8000-00000000000a';
const B = '0193b000-0000-7000-8000-00000000000b';

const operator: Principal = {
  kind: 'operator',
  id: '0193c000-0000-7000-8000-000000000001',
  tenantId: null,
  roles: ['platform-operator'],
  scopes: [],
};
const admin: Principal = {
  kind: 'user',
  id: '0193c000-0000-7000-8000-000000000002',
  tenantId: A,
  roles: ['tenant-admin'],
  scopes: [],
};
const member: Principal = { ...admin, roles: ['member'] };
/** A tenant user that carries the operator role: still a user (a tenant's token is never an operator's). */
const userNamedOperator: Principal = { ...admin, roles: ['platform-operator'] };
const key = (scopes: string[], tenantId: string | null = A): Principal => ({
  kind: 'api_key',
  id: '0193c000-0000-7000-8000-000000000003',
  tenantId,
  roles: [],
  scopes,
});

const ADMIN_ROUTE: AccessRule = {
  operator: true,
  tenantRoles: ['tenant-admin'],
  scopes: ['users:read'],
};
const OPERATOR_ONLY: AccessRule = { operator: true };
const SIGNED_IN: AccessRule = { operator: true, tenantRoles: '*' };
const USERS_ONLY: AccessRule = { tenantRoles: '*' };

describe('permits: each kind of principal only by its own field', () => {
  it.each([
    ['an operator', operator, ADMIN_ROUTE, true],
    ['an operator', operator, OPERATOR_ONLY, true],
    ['an operator', operator, USERS_ONLY, false],
    ['a tenant admin', admin, ADMIN_ROUTE, true],
    ['a tenant admin', admin, OPERATOR_ONLY, false],
    ['a member', member, ADMIN_ROUTE, false],
    ['a member', member, SIGNED_IN, true],
    ['a tenant user with the operator role', userNamedOperator, OPERATOR_ONLY, false],
    ['a key with the scope', key(['users:read']), ADMIN_ROUTE, true],
    ['a key with users:*', key(['users:*']), ADMIN_ROUTE, true],
    ['a key with *:read', key(['*:read']), ADMIN_ROUTE, true],
    ['a key with *:*', key(['*:*']), ADMIN_ROUTE, true],
    ['a key with another scope', key(['users:write', 'audit:read']), ADMIN_ROUTE, false],
    ['a key with every scope', key(['*:*']), OPERATOR_ONLY, false],
    ['a key with every scope', key(['*:*']), SIGNED_IN, false],
    ['a key with no scopes', key([]), ADMIN_ROUTE, false],
  ] as const)('%s on %j: %s', (_who, principal, rule, expected) => {
    expect(permits(rule, principal)).toBe(expected);
  });

  it('needs every scope a route lists', () => {
    const rule: AccessRule = { scopes: ['users:read', 'sessions:read'] };
    expect(permits(rule, key(['users:read']))).toBe(false);
    expect(permits(rule, key(['users:read', 'sessions:*']))).toBe(true);
  });
});

describe('decide: the tenant of the route comes first', () => {
  it.each([
    // Own tenant: the role or scope decides.
    ['a tenant admin, own tenant', admin, A, 'allow'],
    ['a member, own tenant', member, A, 'forbidden'],
    ['a key with the scope, own tenant', key(['users:read']), A, 'allow'],
    ['a key without the scope, own tenant', key(['audit:read']), A, 'forbidden'],
    // Another tenant: the tenant-not-found 404, before and whatever the permission.
    ['a tenant admin, another tenant', admin, B, 'not-found'],
    ['a member, another tenant', member, B, 'not-found'],
    ['a key with the scope, another tenant', key(['users:read']), B, 'not-found'],
    ['a key without the scope, another tenant', key(['audit:read']), B, 'not-found'],
    // No tenant of their own: allowed if the tenant exists.
    ['an operator', operator, B, 'check-tenant'],
    ['a platform key with the scope', key(['users:read'], null), B, 'check-tenant'],
    ['a platform key without the scope', key(['audit:read'], null), B, 'forbidden'],
    // The platform's id is never a tenant.
    ['an operator, the platform id', operator, PLATFORM_TENANT_ID, 'not-found'],
    ['a platform key, the platform id', key(['*:*'], null), PLATFORM_TENANT_ID, 'not-found'],
    ['a tenant admin, the platform id', admin, PLATFORM_TENANT_ID, 'not-found'],
    // Routes of no tenant.
    ['an operator, no tenant in the route', operator, undefined, 'allow'],
    ['a member, no tenant in the route', member, undefined, 'forbidden'],
    ['a key with the scope, no tenant in the route', key(['users:read']), undefined, 'allow'],
  ] as const)('%s: %s', (_who, principal, routeTenant, expected) => {
    expect(decide(ADMIN_ROUTE, principal, routeTenant)).toBe(expected);
  });

  it('compares tenant ids without regard to case', () => {
    expect(decide(ADMIN_ROUTE, admin, A.toUpperCase())).toBe('allow');
    expect(decide(ADMIN_ROUTE, admin, B.toUpperCase())).toBe('not-found');
  });
});

describe('describeRule: the 403 says what it takes', () => {
  it.each([
    [
      ADMIN_ROUTE,
      'a platform operator, a user with the role tenant-admin or an API key with the scope users:read',
    ],
    [OPERATOR_ONLY, 'a platform operator'],
    [SIGNED_IN, 'a platform operator or a signed-in user'],
    [
      { scopes: ['users:read', 'sessions:read'] },
      'an API key with the scopes users:read and sessions:read',
    ],
  ] as [AccessRule, string][])('%j', (rule, words) => {
    expect(describeRule(rule)).toBe(words);
  });
});
