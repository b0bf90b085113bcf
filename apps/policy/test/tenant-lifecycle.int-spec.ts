/**
 * The policy service's part in a tenant's life (`policy.tenant-lifecycle.*`) against real
 * PostgreSQL and NATS, as the provisioning pipeline calls it: bootstrap (the plan's roles,
 * published, idempotent), the custom-roles quota, configure, verify, usage, export, and
 * compensate / remove leaving no row of the tenant in any table and no snapshot.
 */
import {
  DEFAULT_TENANT_SETTINGS,
  ErrorCode,
  PLATFORM_TENANT_ID,
  PolicySnapshots,
  RoleRpc,
  TenantLifecycleRpc,
  TenantPolicyRpc,
  type BootstrapTenantRequest,
  type Quotas,
  type Tenant,
  type TenantProfile,
} from '@tenantry/contracts';
import { compile } from '@tenantry/policy-engine';
import { v7 as uuidv7 } from 'uuid';
import { PolicyHarness } from './policy.harness.js';

const rpc = TenantLifecycleRpc.policy;
const OPERATOR = 'operator:01a00000-0000-7000-8000-000000000001';
const FREE_ROLES = ['tenant-admin', 'member', 'viewer'];

const UNLIMITED: Quotas = {
  users: null,
  apiCallsPerMinute: null,
  apiCallsPerDay: null,
  storageMb: null,
  customRoles: null,
  ssoConnections: null,
  meteredUnitsPerMonth: null,
  auditRetentionDays: null,
};

/** What the tenants service tells of `tenant` on the free plan (or as overridden). */
function profile(tenant: Tenant, overrides: Partial<TenantProfile> = {}): TenantProfile {
  return {
    tenantId: tenant.id,
    slug: tenant.slug,
    name: tenant.name,
    plan: 'free',
    settings: { ...DEFAULT_TENANT_SETTINGS },
    limits: { ...UNLIMITED, users: 5, customRoles: 0, ssoConnections: 0, auditRetentionDays: 30 },
    features: [],
    roles: FREE_ROLES,
    ...overrides,
  };
}

/** What the provisioning pipeline sends to bootstrap `tenant`. */
function bootstrapRequest(
  tenant: Tenant,
  overrides: Partial<TenantProfile> = {},
): BootstrapTenantRequest {
  return { ...profile(tenant, overrides), runId: uuidv7(), admin: null };
}

describe('policy tenant lifecycle (PostgreSQL + NATS)', () => {
  let h: PolicyHarness;

  beforeAll(async () => {
    h = await PolicyHarness.start();
  });

  afterAll(async () => {
    await h?.close();
  });

  /** Every table of the policy database with a tenant_id column, and its rows of `tenantId`. */
  async function rowsOf(tenantId: string): Promise<Record<string, number>> {
    const tables = await h.sql<{ table_name: string }>(
      `SELECT table_name FROM information_schema.columns
        WHERE table_schema = 'public' AND column_name = 'tenant_id' ORDER BY table_name`,
    );
    const counts: Record<string, number> = {};
    for (const { table_name } of tables) {
      const [row] = await h.sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${table_name}" WHERE tenant_id = $1`,
        [tenantId],
      );
      counts[table_name] = row!.n;
    }
    return counts;
  }

  it("bootstraps the plan's roles only, published; a second bootstrap changes nothing", async () => {
    const tenant = h.addTenant('boot', 'provisioning');
    const request = bootstrapRequest(tenant);
    const first = await h.call(rpc.bootstrap, request, OPERATOR);
    expect(first.output).toEqual({
      created: true,
      version: 1,
      publishedVersion: 1,
      roles: FREE_ROLES,
      bindings: ['default-tenant-admin', 'default-member', 'default-api-keys'],
    });
    const again = await h.call(rpc.bootstrap, request, OPERATOR);
    expect(again.output).toMatchObject({ created: false, version: 1, publishedVersion: 1 });

    const [row] = await h.sql<{ version: number; document: { roles: { id: string }[] } }>(
      `SELECT version, document FROM tenant_policies WHERE tenant_id = $1`,
      [tenant.id],
    );
    expect(row!.version).toBe(1);
    expect(row!.document.roles.map((r) => r.id)).toEqual(FREE_ROLES);
    const snapshot = await h.snapshotAt(tenant.id, 1);
    expect(snapshot).toEqual(row!.document);

    // A holder decides with it: the first admin may do anything, a member only their profile,
    // and there is no analyst role to bind.
    const policy = compile(snapshot);
    const admin = { kind: 'user' as const, id: 'u1', groups: ['tenantry:role:tenant-admin'] };
    const member = { kind: 'user' as const, id: 'u2', groups: ['tenantry:role:member'] };
    expect(policy.decide(admin, 'write', 'users/u2').allowed).toBe(true);
    expect(policy.decide(member, 'write', 'users/u1').allowed).toBe(false);
    expect(policy.decide(member, 'read', 'profile').allowed).toBe(true);

    // Audited once, in the platform's chain: the tenant's own chain opens with its genesis entry.
    const created = await h.auditEvents(
      (e) => e.action === 'tenant-policy.created' && e.target?.id === tenant.id,
    );
    expect(created).toHaveLength(1);
    expect(created[0]!.tenantId).toBe(PLATFORM_TENANT_ID);
    expect((await h.call(rpc.verify, request)).output).toEqual({
      version: 1,
      publishedVersion: 1,
      roles: FREE_ROLES,
    });
  });

  it('keeps tenant-admin whatever the plan lists, and names plan roles that are no system role', async () => {
    const tenant = h.addTenant('odd', 'provisioning');
    const { output } = await h.call(
      rpc.bootstrap,
      bootstrapRequest(tenant, { roles: ['member', 'developer', 'wizard'] }),
    );
    expect(output).toMatchObject({
      roles: ['tenant-admin', 'developer', 'member'],
      ignoredRoles: ['wizard'],
    });
  });

  it("refuses a custom role beyond the plan's limit, naming it; configure raises the limit and adds the new plan's roles", async () => {
    const tenant = h.addTenant('quota', 'provisioning');
    await h.call(
      rpc.bootstrap,
      bootstrapRequest(tenant, { limits: { ...UNLIMITED, customRoles: 1 } }),
    );
    h.setStatus(tenant.id, 'active');
    await h.call(RoleRpc.create, { tenantId: tenant.id, id: 'clerk', name: 'Clerk' });
    const refused = await h.failure(RoleRpc.create, {
      tenantId: tenant.id,
      id: 'lead',
      name: 'Lead',
    });
    expect(refused).toMatchObject({ code: ErrorCode.Conflict, reason: 'QUOTA_EXCEEDED' });
    expect(refused.message).toMatch(/allows 1 custom role \(limit customRoles\); the tenant has 1/);
    expect((await h.call(rpc.usage, { tenantId: tenant.id })).usage).toEqual({ customRoles: 1 });

    const professional = [...FREE_ROLES, 'developer', 'analyst', 'auditor'];
    const upgraded = profile(tenant, {
      plan: 'professional',
      limits: { ...UNLIMITED, customRoles: 2 },
      roles: professional,
    });
    const configured = await h.call(rpc.configure, upgraded);
    expect(configured.output).toEqual({
      profile: 'stored',
      rolesAdded: ['developer', 'analyst', 'auditor'],
    });
    await h.call(RoleRpc.create, { tenantId: tenant.id, id: 'lead', name: 'Lead' });
    expect((await h.call(rpc.usage, { tenantId: tenant.id })).usage).toEqual({ customRoles: 2 });
    const policy = await h.call(TenantPolicyRpc.get, { tenantId: tenant.id });
    expect((policy.document.roles as { id: string }[]).map((r) => r.id).sort()).toEqual(
      [...professional, 'clerk', 'lead'].sort(),
    );
    // Configured again with the same profile: nothing to add, no new version.
    expect((await h.call(rpc.configure, upgraded)).output).toEqual({ profile: 'stored' });
    expect((await h.call(TenantPolicyRpc.get, { tenantId: tenant.id })).version).toBe(
      policy.version,
    );
  });

  it('leaves a tenant without a stored profile (from before provisioning) unlimited', async () => {
    const tenant = h.addTenant('legacy');
    for (const id of ['one', 'two', 'three'])
      await h.call(RoleRpc.create, { tenantId: tenant.id, id, name: id });
    expect((await h.call(rpc.usage, { tenantId: tenant.id })).usage).toEqual({ customRoles: 3 });
  });

  it('verify refuses a tenant without a policy; suspend has nothing to do; export answers the document and profile', async () => {
    const missing = h.addTenant('missing', 'provisioning');
    const error = await h.failure(rpc.verify, bootstrapRequest(missing));
    expect(error).toMatchObject({
      code: ErrorCode.Conflict,
      reason: 'TENANT_LIFECYCLE_POLICY_MISSING',
    });
    expect(await h.call(rpc.suspend, { tenantId: missing.id, reason: 'unpaid' })).toEqual({
      output: {},
    });

    const tenant = h.addTenant('export', 'provisioning');
    await h.call(rpc.bootstrap, bootstrapRequest(tenant));
    const { data } = await h.call(rpc.export, { tenantId: tenant.id });
    expect(data.tenant_policies).toEqual([
      expect.objectContaining({
        version: 1,
        publishedVersion: 1,
        document: expect.objectContaining({ tenantId: tenant.id }),
      }),
    ]);
    expect(data.tenant_profiles).toEqual([
      expect.objectContaining({ plan: 'free', roles: FREE_ROLES }),
    ]);
  });

  it('compensate and remove leave no row of the tenant in any table and no snapshot; again, they remove nothing', async () => {
    const other = h.addTenant('other', 'provisioning');
    await h.call(rpc.bootstrap, bootstrapRequest(other));
    const otherBefore = await h.sql(
      `SELECT version, document FROM tenant_policies WHERE tenant_id = $1`,
      [other.id],
    );

    const failed = h.addTenant('failed', 'provisioning');
    const request = bootstrapRequest(failed);
    await h.call(rpc.bootstrap, request);
    await h.snapshotAt(failed.id, 1);
    const compensated = await h.call(rpc.compensate, request);
    expect(compensated.output).toEqual({
      removed: {
        tenant_policies: 1,
        policy_publications: 1,
        tenant_profiles: 1,
        [PolicySnapshots.bucket]: 1,
      },
    });
    expect(Object.values(await rowsOf(failed.id)).every((n) => n === 0)).toBe(true);
    expect(await h.snapshot(failed.id)).toBeNull();
    expect((await h.call(rpc.compensate, request)).output).toEqual({
      removed: {
        tenant_policies: 0,
        policy_publications: 0,
        tenant_profiles: 0,
        [PolicySnapshots.bucket]: 0,
      },
    });

    const deleted = h.addTenant('deleted', 'provisioning');
    await h.call(rpc.bootstrap, bootstrapRequest(deleted, { limits: UNLIMITED }));
    h.setStatus(deleted.id, 'active');
    await h.call(RoleRpc.create, { tenantId: deleted.id, id: 'clerk', name: 'Clerk' });
    await h.snapshotAt(deleted.id, 2);
    h.setStatus(deleted.id, 'deprovisioning');
    const tables = await rowsOf(deleted.id);
    expect(tables).toMatchObject({
      tenant_policies: 1,
      policy_publications: 1,
      tenant_profiles: 1,
    });
    const { removed } = await h.call(rpc.remove, { tenantId: deleted.id });
    expect(removed).toEqual({ ...tables, [PolicySnapshots.bucket]: 1 });
    expect(Object.values(await rowsOf(deleted.id)).every((n) => n === 0)).toBe(true);
    expect(await h.snapshot(deleted.id)).toBeNull();
    expect((await h.call(rpc.remove, { tenantId: deleted.id })).removed).toEqual({
      tenant_policies: 0,
      policy_publications: 0,
      tenant_profiles: 0,
      [PolicySnapshots.bucket]: 0,
    });
    // Gone for good: a later request does not bring a default policy back.
    h.setStatus(deleted.id, 'deleted');
    expect(await h.failure(TenantPolicyRpc.get, { tenantId: deleted.id })).toMatchObject({
      code: ErrorCode.NotFound,
      reason: 'TENANT_NOT_FOUND',
    });
    expect(Object.values(await rowsOf(deleted.id)).every((n) => n === 0)).toBe(true);

    // The other tenant kept its policy and its snapshot.
    expect(
      await h.sql(`SELECT version, document FROM tenant_policies WHERE tenant_id = $1`, [other.id]),
    ).toEqual(otherBefore);
    expect((await h.snapshot(other.id))?.tenantId).toBe(other.id);
  });

  it("refuses to bootstrap, configure or remove the platform tenant's policy", async () => {
    const platform = { ...h.addTenant('platform'), id: PLATFORM_TENANT_ID };
    for (const error of [
      await h.failure(rpc.bootstrap, bootstrapRequest(platform)),
      await h.failure(rpc.compensate, bootstrapRequest(platform)),
      await h.failure(rpc.remove, { tenantId: PLATFORM_TENANT_ID }),
    ])
      expect(error).toMatchObject({
        code: ErrorCode.Conflict,
        reason: 'TENANT_LIFECYCLE_PLATFORM_TENANT',
      });
    expect((await h.snapshotAt(PLATFORM_TENANT_ID, 1)).roles.map((r) => r.id)).toContain(
      'platform-operator',
    );
  });
});
