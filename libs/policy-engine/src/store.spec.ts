// Snapshots per tenant: missing or stale ones fail closed; tenants never see each other's data.
import { PLATFORM_TENANT_ID, type Principal } from '@tenantry/contracts';
import { compile } from './compile.js';
import type { PolicyDocument } from './document.js';
import { fromPrincipal, mfaAtOf } from './principal.js';
import { ACME, MON } from './spec/acme-policy.js';
import { PolicyStore } from './store.js';
import { systemRoles } from './templates.js';

const GLOBEX: PolicyDocument = {
  schemaVersion: 1,
  tenantId: 'globex',
  version: 3,
  roles: [...systemRoles(), { id: 'clerk', name: 'Globex clerk', permissions: ['invoices:*'] }],
  // The same user ids as in acme, with other (wider) rights.
  bindings: [
    { id: 'g1', roleId: 'tenant-admin', subject: { type: 'user', id: 'alice' } },
    { id: 'g2', roleId: 'tenant-admin', subject: { type: 'group', id: 'eng' } },
    { id: 'g3', roleId: 'clerk', subject: { type: 'user', id: 'ivan' } },
  ],
  denyRules: [{ id: 'd1', permissions: ['invoices:approve'] }],
};

function clockAt(start: number) {
  const clock = { now: start, fn: () => clock.now };
  return clock;
}

describe('PolicyStore', () => {
  it('denies with policy-unavailable when the tenant has no snapshot', () => {
    const store = new PolicyStore({ maxAgeMs: 60_000 });
    const d = store.decide('acme', { kind: 'user', id: 'alice' }, 'approve', 'invoices/1');
    expect(d).toMatchObject({
      allowed: false,
      policyVersion: null,
      reason: { kind: 'policy-unavailable', message: 'no policy of tenant acme is loaded' },
    });
    expect(
      store.decideBatch('acme', { kind: 'user', id: 'a' }, [{ action: 'a', resource: 'b' }]),
    ).toEqual([d]);
    expect(store.explain('acme', { kind: 'user', id: 'a' }, 'a', 'b').decision).toEqual(d);
  });

  it('fails closed once a snapshot is older than maxAgeMs, and a confirmation renews it', () => {
    const clock = clockAt(1_000_000);
    const store = new PolicyStore({ maxAgeMs: 30_000, clock: clock.fn });
    expect(store.put(compile(ACME))).toBe(true);
    const ask = () =>
      store.decide('acme', { kind: 'user', id: 'alice' }, 'approve', 'invoices/1', { now: MON });
    expect(ask().allowed).toBe(true);
    clock.now += 30_000; // exactly at the limit: still usable
    expect(ask().allowed).toBe(true);
    expect(store.status('acme')).toEqual({
      tenantId: 'acme',
      version: 7,
      ageMs: 30_000,
      fresh: true,
    });
    clock.now += 1;
    expect(ask()).toMatchObject({
      allowed: false,
      policyVersion: 7,
      reason: {
        kind: 'policy-unavailable',
        message:
          'the policy of tenant acme (version 7) was last confirmed 30 s ago, more than the 30 s allowed',
      },
    });
    expect(store.confirm('acme', 6)).toBe(false); // not the version held: fetch the current one
    expect(ask().allowed).toBe(false);
    expect(store.confirm('acme', 7)).toBe(true);
    expect(ask().allowed).toBe(true);
    expect(store.list()).toEqual([{ tenantId: 'acme', version: 7, ageMs: 0, fresh: true }]);
  });

  it('confirms every snapshot at once, each staying as old as its last confirmation after', () => {
    const clock = clockAt(1_000_000);
    const store = new PolicyStore({ maxAgeMs: 30_000, clock: clock.fn });
    store.put(compile(ACME));
    store.put(compile(GLOBEX));
    clock.now += 40_000;
    expect(store.list().map((s) => s.fresh)).toEqual([false, false]);
    store.confirmAll();
    expect(store.list()).toEqual([
      { tenantId: 'acme', version: 7, ageMs: 0, fresh: true },
      { tenantId: 'globex', version: 3, ageMs: 0, fresh: true },
    ]);
    clock.now += 20_000;
    store.confirm('globex', 3);
    clock.now += 20_000;
    expect(store.status('acme')).toMatchObject({ ageMs: 40_000, fresh: false });
    expect(store.status('globex')).toMatchObject({ ageMs: 20_000, fresh: true });
  });

  it('never goes back to an older version; the same version replaces', () => {
    const store = new PolicyStore({ maxAgeMs: 60_000 });
    expect(store.load({ ...ACME, version: 8 })).toBe(true);
    expect(store.put(compile(ACME))).toBe(false);
    expect(store.get('acme')!.version).toBe(8);
    expect(store.load({ ...ACME, version: 8, bindings: [] })).toBe(true);
    expect(
      store.decide('acme', { kind: 'user', id: 'alice' }, 'approve', 'x', { now: MON }).reason.kind,
    ).toBe('no-grant');
    store.remove('acme');
    expect(store.get('acme')).toBeUndefined();
  });

  it('refuses an invalid document with the fields named', () => {
    const store = new PolicyStore({ maxAgeMs: 60_000 });
    expect(() => store.load({ ...ACME, version: -1 })).toThrow(/version/);
  });

  it('turns an unexpected error into a deny', () => {
    const store = new PolicyStore({ maxAgeMs: 60_000 });
    store.load(ACME);
    const d = store.decide('acme', null as unknown as { kind: 'user'; id: string }, 'read', 'x');
    expect(d.allowed).toBe(false);
    expect(d.reason.kind).toBe('evaluation-error');
  });

  it('refuses a zero or negative max age', () => {
    expect(() => new PolicyStore({ maxAgeMs: 0 })).toThrow(/maxAgeMs/);
  });
});

describe('tenant isolation', () => {
  const store = new PolicyStore({ maxAgeMs: 60_000 });
  store.load(ACME);
  store.load(GLOBEX);

  it.each([
    // [tenant, principal, action, resource, expected kind]
    ['acme', { kind: 'user', id: 'alice' }, 'delete', 'users/1', 'no-grant'],
    ['globex', { kind: 'user', id: 'alice' }, 'delete', 'users/1', 'granted'],
    ['acme', { kind: 'user', id: 'zoe', groups: ['eng'] }, 'delete', 'users/1', 'no-grant'],
    ['globex', { kind: 'user', id: 'zoe', groups: ['eng'] }, 'delete', 'users/1', 'granted'],
    // acme's expired binding of ivan does not borrow globex's live one
    ['acme', { kind: 'user', id: 'ivan' }, 'read', 'invoices/1', 'binding-expired'],
    ['globex', { kind: 'user', id: 'ivan' }, 'read', 'invoices/1', 'granted'],
    // acme's deny rules do not reach globex, nor globex's acme
    ['globex', { kind: 'user', id: 'alice' }, 'write', 'invoices/1', 'granted'],
    ['acme', { kind: 'user', id: 'alice' }, 'approve', 'invoices/1', 'granted'],
    ['globex', { kind: 'user', id: 'alice' }, 'approve', 'invoices/1', 'deny-rule'],
    // a principal of one tenant asking in the other
    [
      'globex',
      { kind: 'user', id: 'alice', tenantId: 'acme' },
      'delete',
      'users/1',
      'cross-tenant',
    ],
    [
      'acme',
      { kind: 'user', id: 'alice', tenantId: 'globex' },
      'approve',
      'invoices/1',
      'cross-tenant',
    ],
    ['initech', { kind: 'user', id: 'alice' }, 'read', 'x', 'policy-unavailable'],
  ] as const)('%s: %j %s %s -> %s', (tenant, principal, action, resource, kind) => {
    // Saturday in Paris: acme's weekend rule would deny invoice writes there
    const d = store.decide(tenant, principal, action, resource, {
      now: Date.parse('2026-11-28T10:00:00Z'),
    });
    expect(d.reason.kind).toBe(kind);
    if (d.policyVersion !== null) expect(d.policyVersion).toBe(tenant === 'acme' ? 7 : 3);
  });
});

describe('fromPrincipal', () => {
  const principal = (over: Partial<Principal>): Principal => ({
    kind: 'user',
    id: '0193a0b6-3b53-756b-8000-000000000001',
    tenantId: '0193a0b6-3b53-756b-8000-0000000000aa',
    roles: [],
    scopes: [],
    ...over,
  });

  it('maps users, operators and API keys', () => {
    expect(fromPrincipal(principal({}), ['eng'])).toEqual({
      kind: 'user',
      id: '0193a0b6-3b53-756b-8000-000000000001',
      tenantId: '0193a0b6-3b53-756b-8000-0000000000aa',
      groups: ['eng'],
    });
    expect(fromPrincipal(principal({ kind: 'operator', tenantId: null }))).toMatchObject({
      kind: 'user',
      tenantId: PLATFORM_TENANT_ID,
    });
    expect(fromPrincipal(principal({ kind: 'api_key', scopes: ['audit:read'] }))).toMatchObject({
      kind: 'api_key',
      apiKeyScopes: ['audit:read'],
    });
  });

  it('takes the MFA time from amr and authTime', () => {
    const authTime = '2026-11-30T10:00:00Z';
    expect(mfaAtOf(principal({ amr: ['pwd', 'otp'], authTime }))).toBe(Date.parse(authTime));
    expect(mfaAtOf(principal({ amr: ['pwd'], authTime }))).toBeUndefined();
    expect(mfaAtOf(principal({ amr: ['otp'] }))).toBeUndefined();
  });

  it('lets a platform operator act through the platform tenant only', () => {
    const platform = compile({
      schemaVersion: 1,
      tenantId: PLATFORM_TENANT_ID,
      version: 1,
      roles: systemRoles('platform'),
      bindings: [{ id: 'op', roleId: 'platform-operator', subject: { type: 'user', id: 'root' } }],
    });
    const operator = fromPrincipal(principal({ kind: 'operator', id: 'root', tenantId: null }));
    expect(platform.decide(operator, 'delete', 'tenants/acme').allowed).toBe(true);
    expect(compile(ACME).decide(operator, 'read', 'invoices').reason.kind).toBe('cross-tenant');
  });
});
