/**
 * Plans as data against real PostgreSQL and NATS: the five plans the migration seeds, and an
 * operator's edit reaching every tenant on the plan (its limits, the participants' profile,
 * the access state the gateway follows).
 */
import { ErrorCode, PlanRpc, TenantRpc } from '@tenantry/contracts';
import { TenantsHarness } from './tenants-core.harness.js';

const ALL_ROLES = [
  'tenant-admin',
  'developer',
  'analyst',
  'auditor',
  'member',
  'viewer',
  'service-account',
];

describe('plans (PostgreSQL + NATS)', () => {
  let h: TenantsHarness;

  beforeAll(async () => {
    h = await TenantsHarness.start();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('seeds free, starter, professional, enterprise and custom with their quotas, features and roles', async () => {
    const { items } = await h.call(PlanRpc.list, {});
    expect(items.map((p) => p.key)).toEqual([
      'free',
      'starter',
      'professional',
      'enterprise',
      'custom',
    ]);
    const [free, starter, professional, enterprise, custom] = items;
    expect(free).toMatchObject({
      quotas: {
        users: 5,
        apiCallsPerMinute: 60,
        apiCallsPerDay: 10_000,
        ssoConnections: 0,
        customRoles: 0,
        auditRetentionDays: 30,
      },
      roles: ['tenant-admin', 'member', 'viewer'],
    });
    expect(free!.features).not.toContain('sso');
    expect(starter).toMatchObject({
      quotas: { users: 25, ssoConnections: 1 },
      roles: ['tenant-admin', 'developer', 'member', 'viewer'],
      features: expect.arrayContaining(['sso']),
    });
    expect(professional).toMatchObject({
      quotas: { users: 250, ssoConnections: 3, customRoles: 20, auditRetentionDays: 365 },
      roles: ['tenant-admin', 'developer', 'analyst', 'auditor', 'member', 'viewer'],
      features: expect.arrayContaining(['sso', 'scim', 'custom-roles', 'audit-export']),
    });
    for (const unlimited of [enterprise!, custom!]) {
      expect(unlimited.quotas).toEqual({
        users: null,
        apiCallsPerMinute: null,
        apiCallsPerDay: null,
        storageMb: null,
        customRoles: null,
        ssoConnections: null,
        meteredUnitsPerMonth: null,
        auditRetentionDays: 2555,
      });
      expect(unlimited.roles).toEqual(ALL_ROLES);
      expect(unlimited.features).toContain('isolation-database');
    }
    expect(await h.call(PlanRpc.get, { key: 'starter' })).toEqual(starter);
    expect(await h.failure(PlanRpc.get, { key: 'gold' as never })).toMatchObject({
      code: ErrorCode.ValidationFailed,
      errors: [{ field: 'key' }],
    });
  });

  it('lets an operator edit a plan: audited in the platform log, its tenants get the new limits, profiles and access state', async () => {
    const tenant = await h.createTenant({ slug: 'on-starter', plan: 'starter' });
    const before = h.participants.profiles(tenant.id).length;

    const updated = await h.call(PlanRpc.update, {
      key: 'starter',
      description: 'Small teams, now with more API calls.',
      quotas: { apiCallsPerMinute: 500, storageMb: null },
      features: ['sso', 'mfa', 'api-keys', 'organizations', 'audit-export'],
    });
    expect(updated).toMatchObject({
      description: 'Small teams, now with more API calls.',
      quotas: { apiCallsPerMinute: 500, storageMb: null, users: 25 },
      features: ['sso', 'mfa', 'audit-export', 'api-keys', 'organizations'],
    });
    expect(await h.call(PlanRpc.get, { key: 'starter' })).toEqual(updated);
    expect((await h.call(TenantRpc.get, { id: tenant.id })).limits).toMatchObject({
      apiCallsPerMinute: 500,
      storageMb: null,
    });
    const [audit] = await h.auditEvents(
      (e) => e.action === 'plan.updated' && e.target?.id === 'starter',
    );
    expect(audit).toMatchObject({
      tenantId: '00000000-0000-0000-0000-000000000000',
      data: {
        changed: ['description', 'quotas', 'features'],
        after: { quotas: { apiCallsPerMinute: 500 } },
      },
    });

    // The maintenance loop tells the participants and the gateway.
    const pass = await h.maintenance.runOnce();
    expect(pass.configured).toBeGreaterThanOrEqual(1);
    const profiles = h.participants.profiles(tenant.id).slice(before);
    expect(profiles).toHaveLength(3);
    expect(profiles[0]).toMatchObject({
      limits: { apiCallsPerMinute: 500 },
      features: expect.arrayContaining(['audit-export']),
    });
    expect(await h.access(tenant.id)).toMatchObject({ apiCallsPerMinute: 500 });
    // Once told, not again.
    await h.maintenance.runOnce();
    expect(h.participants.profiles(tenant.id).slice(before)).toHaveLength(3);

    // A change that changes nothing writes nothing.
    const same = await h.call(PlanRpc.update, {
      key: 'starter',
      quotas: { apiCallsPerMinute: 500 },
    });
    expect(same.updatedAt).toBe(updated.updatedAt);
    expect(
      await h.failure(PlanRpc.update, { key: 'starter', quotas: { users: -1 } }),
    ).toMatchObject({ code: ErrorCode.ValidationFailed, errors: [{ field: 'quotas.users' }] });
  });
});
