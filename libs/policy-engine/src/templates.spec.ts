// A new tenant's default policy: identity roles and API keys keep the rights they had before
// tenants wrote policies of their own.
import { PLATFORM_TENANT_ID, type Principal } from '@tenantry/contracts';
import { compile } from './compile.js';
import { API_KEYS_GROUP, fromPrincipal, identityRoleGroup } from './principal.js';
import { defaultPolicy, SYSTEM_ROLE_TEMPLATES } from './templates.js';

const TENANT = '0193a0b6-3b53-756b-8000-0000000000aa';
const principal = (over: Partial<Principal>): Principal => ({
  kind: 'user',
  id: '0193a0b6-3b53-756b-8000-000000000001',
  tenantId: TENANT,
  roles: [],
  scopes: [],
  ...over,
});

describe('defaultPolicy', () => {
  const tenant = compile(defaultPolicy(TENANT));
  const platform = compile(defaultPolicy(PLATFORM_TENANT_ID));
  const allowed = (p: Principal, permission: string, policy = tenant) => {
    const [resource, action] = permission.split(':') as [string, string];
    return policy.decide(fromPrincipal(p), action, resource).allowed;
  };

  it('is version 1 of the tenant, with every variable-free system role but the operator one', () => {
    const doc = defaultPolicy(TENANT);
    expect(doc).toMatchObject({ schemaVersion: 1, tenantId: TENANT, version: 1 });
    expect(doc.roles.map((r) => r.id)).toEqual(
      SYSTEM_ROLE_TEMPLATES.filter((t) => !t.variables && t.id !== 'platform-operator').map(
        (t) => t.id,
      ),
    );
  });

  it('lets a tenant admin do everything in the tenant, a member only their own profile and tenant', () => {
    const admin = principal({ roles: ['tenant-admin'] });
    const member = principal({ roles: ['member'] });
    expect(allowed(admin, 'users:write')).toBe(true);
    expect(allowed(admin, 'audit:read')).toBe(true);
    expect(allowed(member, 'profile:write')).toBe(true);
    expect(allowed(member, 'tenants:read')).toBe(true);
    expect(allowed(member, 'users:read')).toBe(false);
    expect(allowed(principal({ roles: [] }), 'profile:read')).toBe(false);
  });

  it("lets an API key do what its scopes say, within the tenant's widest role", () => {
    const key = principal({ kind: 'api_key', scopes: ['audit:read', 'users:*'] });
    expect(allowed(key, 'audit:read')).toBe(true);
    expect(allowed(key, 'users:write')).toBe(true);
    expect(allowed(key, 'audit:export')).toBe(false);
    expect(allowed(principal({ kind: 'api_key', scopes: [] }), 'audit:read')).toBe(false);
  });

  it('lets operators and platform API keys act in the platform tenant, and nobody else', () => {
    const operator = principal({ kind: 'operator', tenantId: null, roles: ['platform-operator'] });
    expect(allowed(operator, 'tenants:write', platform)).toBe(true);
    const platformKey = principal({ kind: 'api_key', tenantId: null, scopes: ['tenants:read'] });
    expect(allowed(platformKey, 'tenants:read', platform)).toBe(true);
    expect(allowed(platformKey, 'tenants:write', platform)).toBe(false);
    // A tenant's admin is not an operator, in the platform tenant or in its own.
    expect(allowed(principal({ roles: ['tenant-admin'] }), 'tenants:write', platform)).toBe(false);
    expect(allowed(operator, 'users:read')).toBe(false);
  });

  it('puts identity roles and API keys in reserved groups that an IdP cannot claim', () => {
    expect(fromPrincipal(principal({ roles: ['member'] }), ['eng', 'tenantry:api-keys'])).toEqual(
      expect.objectContaining({ groups: [identityRoleGroup('member'), 'eng'] }),
    );
    expect(fromPrincipal(principal({ kind: 'api_key' })).groups).toEqual([API_KEYS_GROUP]);
    const idpAdmin = fromPrincipal(principal({ roles: [] }), [identityRoleGroup('tenant-admin')]);
    expect(tenant.decide(idpAdmin, 'write', 'users').allowed).toBe(false);
  });
});
