/**
 * The tenant registry against real PostgreSQL and NATS: tenants inserted as provisioning
 * makes them, listed with filters, updated (settings checked), moved between plans with the
 * participants' usage checked (a real NATS responder stands in for identity, policy and
 * audit), plan changes at the period end applied by the maintenance loop, status transitions,
 * and the TENANT_ACCESS bucket the gateway follows.
 */
import { Kvm } from '@nats-io/kv';
import {
  ErrorCode,
  TENANT_ACCESS_BUCKET,
  TenantEvents,
  TenantRpc,
  type Tenant,
} from '@tenantry/contracts';
import { bootstrapDatabase, runMigrations, TenantTransactions } from '@tenantry/persistence';
import { scratchDatabase } from '@tenantry/testing';
import pg from 'pg';
import { migrations } from '../src/database/migrations/index.js';
import { TenantsHarness } from './tenants-core.harness.js';

const HOUR = 3_600_000;

describe('tenant registry (PostgreSQL + NATS)', () => {
  let h: TenantsHarness;

  beforeAll(async () => {
    h = await TenantsHarness.start();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('inserts a tenant as provisioning with its run, the defaults and merged settings, announced; then activates it', async () => {
    const created = await h.createTenant(
      {
        slug: 'acme',
        name: 'Acme Corp',
        plan: 'starter',
        region: 'eu-central',
        settings: { mfaRequired: true, ipAllowList: ['203.0.113.0/24'] },
        limitOverrides: { users: 30 },
        trialEndsAt: '2030-01-31T00:00:00.000Z',
      },
      'provisioning',
    );
    expect(created).toMatchObject({
      slug: 'acme',
      status: 'provisioning',
      plan: 'starter',
      region: 'eu-central',
      isolation: 'rls',
      settings: {
        mfaRequired: true,
        ssoRequired: false,
        sessionTimeoutMinutes: 10_080,
        ipAllowList: ['203.0.113.0/24'],
      },
      limitOverrides: { users: 30 },
      limits: { users: 30, ssoConnections: 1, auditRetentionDays: 90 },
      features: expect.arrayContaining(['sso', 'organizations']),
      trialEndsAt: '2030-01-31T00:00:00.000Z',
      pendingPlanChange: null,
    });
    expect(created.runId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await h.call(TenantRpc.get, { id: created.id })).toEqual(created);

    const [event] = await h.events(TenantEvents.created.subject);
    expect(event).toMatchObject({ id: created.id, status: 'provisioning' });
    // In the platform's log: the tenant has none of its own before its genesis.
    const [audit] = await h.auditEvents(
      (e) => e.action === 'tenant.created' && e.target?.id === created.id,
    );
    expect(audit).toMatchObject({
      tenantId: '00000000-0000-0000-0000-000000000000',
      data: { slug: 'acme', plan: 'starter', runId: created.runId },
    });
    expect(await h.access(created.id)).toMatchObject({ status: 'provisioning' });

    const profile = await h.tenants.profile(created.id);
    expect(profile).toMatchObject({
      tenantId: created.id,
      plan: 'starter',
      limits: { users: 30 },
      roles: ['tenant-admin', 'developer', 'member', 'viewer'],
      settings: { mfaRequired: true },
    });

    const active = await h.tenants.transition(created.id, 'active', { from: ['provisioning'] });
    expect(active.status).toBe('active');
    await h.events(TenantEvents.activated.subject);
    expect(await h.access(created.id)).toMatchObject({ status: 'active' });
  });

  it('refuses a taken slug, an unknown region, another isolation and a network that does not parse', async () => {
    await h.createTenant({ slug: 'taken' });
    const insert = (request: Parameters<TenantsHarness['createTenant']>[0]) =>
      TenantsHarness.rejection(h.createTenant(request));

    expect(await insert({ slug: 'taken' })).toMatchObject({
      code: ErrorCode.Conflict,
      reason: 'TENANT_SLUG_TAKEN',
      errors: [{ field: 'slug' }],
    });
    expect(await insert({ slug: 'mars', region: 'mars' })).toMatchObject({
      code: ErrorCode.ValidationFailed,
      reason: 'TENANT_REGION_UNKNOWN',
      message: 'region "mars" is not served by this installation; it serves local, eu-central',
    });
    expect(await insert({ slug: 'iso', isolation: 'database' })).toMatchObject({
      reason: 'TENANT_ISOLATION_UNAVAILABLE',
      errors: [{ field: 'isolation' }],
    });
    expect(
      await insert({ slug: 'net', settings: { ipAllowList: ['10.0.0.300/8'] } }),
    ).toMatchObject({
      reason: 'TENANT_SETTINGS_INVALID',
      errors: [
        {
          field: 'settings.ipAllowList.0',
          message: expect.stringContaining('"10.0.0.300/8" is not an IP network'),
        },
      ],
    });
    // Nothing of the refused ones was stored.
    const rows = await h.sql<{ slug: string }>(
      `SELECT slug FROM tenants WHERE slug IN ('mars', 'iso', 'net')`,
    );
    expect(rows).toEqual([]);
  });

  it('lists tenants oldest first, filtered by status, plan, region and a name or slug substring, page by page', async () => {
    const made: Tenant[] = [];
    made.push(await h.createTenant({ slug: 'list-a', name: 'Alpha Widgets', plan: 'free' }));
    made.push(
      await h.createTenant({ slug: 'list-b', name: 'Beta 100% Widgets', plan: 'professional' }),
    );
    made.push(
      await h.createTenant({
        slug: 'list-c',
        name: 'Gamma',
        plan: 'professional',
        region: 'eu-central',
      }),
    );
    made.push(
      await h.createTenant({ slug: 'list-d', name: 'Delta', plan: 'free' }, 'provisioning'),
    );

    const byPlan = await h.call(TenantRpc.list, { plan: 'professional', q: 'list-' });
    expect(byPlan.items.map((t) => t.slug)).toEqual(['list-b', 'list-c']);
    const byRegion = await h.call(TenantRpc.list, { region: 'eu-central', q: 'list' });
    expect(byRegion.items.map((t) => t.slug)).toEqual(['list-c']);
    const byStatus = await h.call(TenantRpc.list, { status: 'provisioning', q: 'list' });
    expect(byStatus.items.map((t) => t.slug)).toEqual(['list-d']);
    const byName = await h.call(TenantRpc.list, { q: 'WIDGETS' });
    expect(byName.items.map((t) => t.slug)).toEqual(['list-a', 'list-b']);
    // % and _ are taken literally.
    expect((await h.call(TenantRpc.list, { q: '100%' })).items.map((t) => t.slug)).toEqual([
      'list-b',
    ]);
    expect((await h.call(TenantRpc.list, { q: 'list_' })).items).toEqual([]);

    const first = await h.call(TenantRpc.list, { q: 'list-', limit: 3 });
    expect(first.items.map((t) => t.slug)).toEqual(['list-a', 'list-b', 'list-c']);
    const second = await h.call(TenantRpc.list, {
      q: 'list-',
      limit: 3,
      cursor: first.nextCursor!,
    });
    expect(second).toMatchObject({ items: [{ slug: 'list-d' }], nextCursor: null });
    expect(await h.failure(TenantRpc.list, { cursor: 'forged' })).toMatchObject({
      code: ErrorCode.ValidationFailed,
      errors: [{ field: 'cursor' }],
    });
    expect(await h.failure(TenantRpc.list, { status: 'deleting' as never })).toMatchObject({
      code: ErrorCode.ValidationFailed,
      errors: [{ field: 'status' }],
    });
  });

  it('updates name, settings and limit overrides: a bad network is named; the participants are configured and the access state written', async () => {
    const tenant = await h.createTenant({ slug: 'upd', plan: 'starter' });

    for (const [cidr, message] of [
      ['10.0.0.0/33', 'the prefix /33 is longer than the 32 bits of the address'],
      ['10.0.0.300/8', 'is not an IP network in CIDR notation'],
      ['192.168.1.0/16', 'has bits set after the /16 prefix'],
    ] as const) {
      const refused = await h.failure(TenantRpc.update, {
        id: tenant.id,
        settings: { ipAllowList: ['203.0.113.0/24', cidr] },
      });
      expect(refused).toMatchObject({
        code: ErrorCode.ValidationFailed,
        reason: 'TENANT_SETTINGS_INVALID',
        errors: [{ field: 'settings.ipAllowList.1', message: expect.stringContaining(message) }],
      });
    }
    expect(
      await h.failure(TenantRpc.update, {
        id: tenant.id,
        settings: { sessionTimeoutMinutes: 2 },
      }),
    ).toMatchObject({
      errors: [
        { field: 'settings.sessionTimeoutMinutes', message: 'must be an integer from 5 to 43200' },
      ],
    });

    const updated = await h.call(TenantRpc.update, {
      id: tenant.id,
      name: 'Updated Inc',
      settings: { ipAllowList: ['203.0.113.0/24', '2001:db8::/32'], mfaRequired: true },
      limitOverrides: { apiCallsPerMinute: 100, users: null },
    });
    expect(updated).toMatchObject({
      name: 'Updated Inc',
      settings: { ipAllowList: ['203.0.113.0/24', '2001:db8::/32'], mfaRequired: true },
      limitOverrides: { apiCallsPerMinute: 100, users: null },
      limits: { apiCallsPerMinute: 100, users: null, ssoConnections: 1 },
    });
    const profiles = h.participants.profiles(tenant.id);
    expect(profiles).toHaveLength(3);
    expect(profiles[0]).toMatchObject({
      name: 'Updated Inc',
      settings: { mfaRequired: true },
      limits: { apiCallsPerMinute: 100, users: null },
    });
    expect(await h.access(tenant.id)).toMatchObject({
      status: 'active',
      ipAllowList: ['203.0.113.0/24', '2001:db8::/32'],
      apiCallsPerMinute: 100,
      apiCallsPerDay: 100_000,
    });
    const [audit] = await h.auditEvents(
      (e) => e.action === 'tenant.updated' && e.tenantId === tenant.id,
    );
    expect(audit).toMatchObject({
      actor: { type: 'operator' },
      data: { changed: ['name', 'settings', 'limitOverrides'] },
    });

    const cleared = await h.call(TenantRpc.update, {
      id: tenant.id,
      clearOverrides: ['apiCallsPerMinute'],
    });
    expect(cleared.limitOverrides).toEqual({ users: null });
    expect(cleared.limits.apiCallsPerMinute).toBe(300);
    expect(
      await h.failure(TenantRpc.update, {
        id: tenant.id,
        limitOverrides: { users: 3 },
        clearOverrides: ['users'],
      }),
    ).toMatchObject({ reason: 'TENANT_UPDATE_INVALID', errors: [{ field: 'clearOverrides' }] });
  });

  it('configures the participants later when one was away during an update', async () => {
    const tenant = await h.createTenant({ slug: 'away' });
    h.participants.down('audit');
    try {
      await h.call(TenantRpc.update, { id: tenant.id, settings: { auditRetentionDays: 10 } });
    } finally {
      h.participants.up('audit');
    }
    expect(h.participants.profiles(tenant.id)).toHaveLength(2);
    const pass = await h.maintenance.runOnce();
    expect(pass.configured).toBeGreaterThanOrEqual(1);
    expect(h.participants.profiles(tenant.id)).toHaveLength(5);
    // Caught up: the next pass has nothing to tell.
    await h.maintenance.runOnce();
    expect(h.participants.profiles(tenant.id)).toHaveLength(5);
  });

  it('refuses a plan change below current usage naming the limit, says 503 when a participant does not answer, and changes it when the usage fits', async () => {
    const tenant = await h.createTenant({ slug: 'downgrade', plan: 'professional' });
    h.participants.count(tenant.id, 'identity', { users: 30, ssoConnections: 1 });
    h.participants.count(tenant.id, 'policy', { customRoles: 4 });

    const refused = await h.failure(TenantRpc.changePlan, { id: tenant.id, plan: 'starter' });
    expect(refused).toMatchObject({
      code: ErrorCode.Conflict,
      reason: 'TENANT_PLAN_DOWNGRADE_REFUSED',
      errors: [
        {
          field: 'limits.users',
          message: 'the plan starter allows 25 users (limit users); the tenant has 30',
        },
        {
          field: 'limits.customRoles',
          message: 'the plan starter allows 0 custom roles (limit customRoles); the tenant has 4',
        },
      ],
    });

    h.participants.down('policy');
    try {
      const unavailable = await h.failure(TenantRpc.changePlan, { id: tenant.id, plan: 'starter' });
      expect(unavailable).toMatchObject({
        code: ErrorCode.ServiceUnavailable,
        reason: 'TENANT_PARTICIPANT_UNAVAILABLE',
        message: expect.stringContaining(
          'policy did not answer (the policy service is not available)',
        ),
      });
    } finally {
      h.participants.up('policy');
    }
    expect((await h.call(TenantRpc.get, { id: tenant.id })).plan).toBe('professional');

    h.participants.count(tenant.id, 'identity', { users: 20, ssoConnections: 1 });
    h.participants.count(tenant.id, 'policy', { customRoles: 0 });
    const changed = await h.call(TenantRpc.changePlan, { id: tenant.id, plan: 'starter' });
    expect(changed).toMatchObject({
      plan: 'starter',
      limits: { users: 25, customRoles: 0, ssoConnections: 1 },
      features: expect.not.arrayContaining(['custom-roles']),
    });
    expect(h.participants.profiles(tenant.id).slice(-3)).toEqual(
      Array(3).fill(
        expect.objectContaining({
          plan: 'starter',
          roles: ['tenant-admin', 'developer', 'member', 'viewer'],
        }),
      ),
    );
    await h.accessWhere(tenant.id, (a) => a.apiCallsPerMinute === 300);
    const [audit] = await h.auditEvents(
      (e) => e.action === 'tenant.plan-changed' && e.tenantId === tenant.id,
    );
    expect(audit!.data).toMatchObject({ from: 'professional', to: 'starter', when: 'now' });
  });

  it('schedules a plan change for the period end; the maintenance applies it when due, and keeps it pending (audited) while the usage exceeds', async () => {
    const tenant = await h.createTenant({ slug: 'period-end', plan: 'professional' });
    const at = new Date(Date.now() + HOUR).toISOString();
    const scheduled = await h.call(TenantRpc.changePlan, {
      id: tenant.id,
      plan: 'free',
      when: 'period-end',
      effectiveAt: at,
    });
    expect(scheduled).toMatchObject({
      plan: 'professional',
      pendingPlanChange: { plan: 'free', at },
    });
    expect(
      await h.failure(TenantRpc.changePlan, {
        id: tenant.id,
        plan: 'free',
        when: 'period-end',
        effectiveAt: new Date(Date.now() - HOUR).toISOString(),
      }),
    ).toMatchObject({ reason: 'TENANT_PLAN_CHANGE_INVALID', errors: [{ field: 'effectiveAt' }] });

    // Not due yet.
    await h.maintenance.runOnce();
    expect((await h.call(TenantRpc.get, { id: tenant.id })).plan).toBe('professional');

    // Due, but the tenant has more users than the free plan allows: it stays pending.
    h.participants.count(tenant.id, 'identity', { users: 8 });
    const later = Date.now() + 2 * HOUR;
    expect(await h.maintenance.runOnce(new Date(later))).toMatchObject({ deferred: 1, applied: 0 });
    expect(await h.call(TenantRpc.get, { id: tenant.id })).toMatchObject({
      plan: 'professional',
      pendingPlanChange: { plan: 'free', at },
    });
    const [deferred] = await h.auditEvents(
      (e) => e.action === 'tenant.plan-change-deferred' && e.tenantId === tenant.id,
    );
    expect(deferred).toMatchObject({
      outcome: 'failure',
      data: { to: 'free', reason: 'the plan free allows 5 users (limit users); the tenant has 8' },
    });

    // The users went down; the next check (after its back-off) applies it.
    h.participants.count(tenant.id, 'identity', { users: 4 });
    expect(await h.maintenance.runOnce(new Date(later + 10 * 60_000))).toMatchObject({
      applied: 1,
    });
    expect(await h.call(TenantRpc.get, { id: tenant.id })).toMatchObject({
      plan: 'free',
      pendingPlanChange: null,
      limits: { users: 5 },
    });
    const [applied] = await h.auditEvents(
      (e) => e.action === 'tenant.plan-changed' && e.tenantId === tenant.id,
    );
    expect(applied!.data).toMatchObject({ to: 'free', when: 'period-end', scheduledAt: at });
    expect(h.participants.profiles(tenant.id).slice(-1)[0]).toMatchObject({ plan: 'free' });

    // Scheduling again and changing back "now" to the current plan cancels it.
    await h.call(TenantRpc.changePlan, { id: tenant.id, plan: 'starter', when: 'period-end' });
    const cancelled = await h.call(TenantRpc.changePlan, { id: tenant.id, plan: 'free' });
    expect(cancelled).toMatchObject({ plan: 'free', pendingPlanChange: null });
  });

  it('guards transitions, writes each status to the access bucket, and frees a deleted tenant’s slug after its data is removed', async () => {
    const tenant = await h.createTenant({ slug: 'lifecycle' });
    const suspended = await h.tenants.transition(tenant.id, 'suspended', {
      from: ['active'],
      reason: 'unpaid invoices',
    });
    expect(suspended).toMatchObject({ status: 'suspended', statusReason: 'unpaid invoices' });
    expect(await h.access(tenant.id)).toMatchObject({
      status: 'suspended',
      statusReason: 'unpaid invoices',
    });
    const conflict = await TenantsHarness.rejection(
      h.tenants.transition(tenant.id, 'active', { from: ['provisioning'] }),
    );
    expect(conflict).toMatchObject({
      code: ErrorCode.Conflict,
      reason: 'TENANT_STATUS_CONFLICT',
      message: `tenant lifecycle (${tenant.id}) is suspended: moving it to active needs it to be provisioning`,
    });
    await h.events(TenantEvents.suspended.subject);

    const deleteAfter = new Date(Date.now() + 72 * HOUR);
    await h.tenants.transition(tenant.id, 'deprovisioning', {
      from: ['active', 'suspended'],
      deleteAfter,
    });
    const removed = await h
      .get(TenantTransactions)
      .runGlobal((manager) => h.tenants.removeTenantData(manager, tenant.id));
    expect(removed).toEqual({
      organizations: 0,
      bulk_operations: 0,
      bulk_operation_items_scrubbed: 0,
      provisioning_runs_scrubbed: 0,
    });
    const deleted = await h.tenants.transition(tenant.id, 'deleted', { from: ['deprovisioning'] });
    expect(deleted).toMatchObject({ status: 'deleted', deleteAfter: deleteAfter.toISOString() });
    expect(await h.access(tenant.id)).toMatchObject({ status: 'deleted' });
    await h.auditEvents(
      (e) =>
        e.action === 'tenant.deleted' &&
        e.tenantId === '00000000-0000-0000-0000-000000000000' &&
        e.target?.id === tenant.id,
    );
    expect(await h.failure(TenantRpc.update, { id: tenant.id, name: 'x' })).toMatchObject({
      reason: 'TENANT_STATUS_CONFLICT',
    });

    // The slug is free again; the deleted tenant is still there by id.
    expect(await h.failure(TenantRpc.getBySlug, { slug: 'lifecycle' })).toMatchObject({
      code: ErrorCode.NotFound,
    });
    const again = await h.createTenant({ slug: 'lifecycle' });
    expect(again.id).not.toBe(tenant.id);
    expect((await h.call(TenantRpc.getBySlug, { slug: 'lifecycle' })).id).toBe(again.id);
    expect((await h.call(TenantRpc.get, { id: tenant.id })).status).toBe('deleted');
  });

  it('writes every tenant’s access state again when the bucket lost it', async () => {
    const tenant = await h.createTenant({ slug: 'lost-key' });
    const kv = await new Kvm(h.nats.js).open(h.ns.bucket(TENANT_ACCESS_BUCKET));
    await kv.delete(tenant.id);
    expect(await h.access(tenant.id)).toBeNull();
    expect(await h.tenants.republishAccess(null)).toBeGreaterThanOrEqual(1);
    expect(await h.access(tenant.id)).toMatchObject({ tenantId: tenant.id, status: 'active' });
  });

  it('migrates tenants made before plans: enterprise (unlimited, as they were), configured, deleting → deprovisioning, slugs free once deleted', async () => {
    const scratch = scratchDatabase('tenmig');
    try {
      await bootstrapDatabase(scratch.options);
      await runMigrations(scratch.options, migrations.slice(0, 2));
      const url = new URL(scratch.options.bootstrapUrl!);
      url.pathname = `/${scratch.options.database}`;
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      try {
        await client.query(`INSERT INTO tenants (id, name, slug, status) VALUES
          ('0193a0f0-0000-7000-8000-000000000001', 'Old', 'old', 'active'),
          ('0193a0f0-0000-7000-8000-000000000002', 'Going', 'going', 'deleting')`);
        await runMigrations(scratch.options, migrations);
        const { rows } = await client.query(
          `SELECT slug, status, plan, region, isolation, settings, limit_overrides,
             config_version, configured_version, configured_plan_version FROM tenants ORDER BY id`,
        );
        expect(rows).toEqual([
          expect.objectContaining({
            slug: 'old',
            status: 'active',
            plan: 'enterprise',
            region: 'local',
            isolation: 'rls',
            settings: expect.objectContaining({
              ssoRequired: false,
              sessionTimeoutMinutes: 10_080,
            }),
            limit_overrides: {},
            config_version: 0,
            configured_version: 0,
            configured_plan_version: 1,
          }),
          expect.objectContaining({ slug: 'going', status: 'deprovisioning' }),
        ]);
        await client.query(`UPDATE tenants SET status = 'deleted' WHERE slug = 'going'`);
        await client.query(`INSERT INTO tenants (id, name, slug, status, plan, region, settings)
          VALUES ('0193a0f0-0000-7000-8000-000000000003', 'Going again', 'going', 'active', 'free', 'local', '{}')`);
        await expect(
          client.query(`INSERT INTO tenants (id, name, slug, status, plan, region, settings)
            VALUES ('0193a0f0-0000-7000-8000-000000000004', 'Twice', 'going', 'active', 'free', 'local', '{}')`),
        ).rejects.toMatchObject({ constraint: 'tenants_slug_unique' });
      } finally {
        await client.end();
      }
    } finally {
      await scratch.drop();
    }
  });
});
