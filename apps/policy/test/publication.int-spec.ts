/**
 * The policy service's lifecycle against real PostgreSQL and NATS: tenants from before
 * provisioning get their default policy, the platform tenant's at start, and the snapshot bucket
 * is kept in step with the database (a deleted key, a lost bucket, a stale entry, a restart).
 */
import { Kvm } from '@nats-io/kv';
import { PLATFORM_TENANT_ID, RoleRpc, TenantPolicyRpc } from '@tenantry/contracts';
import { compile, defaultPolicy } from '@tenantry/policy-engine';
import { waitFor } from '@tenantry/testing';
import { PolicyHarness } from './policy.harness.js';

describe('policy publication and lifecycle (PostgreSQL + NATS)', () => {
  let h: PolicyHarness;

  beforeAll(async () => {
    h = await PolicyHarness.start({ env: { POLICY_RECONCILE_SECONDS: '1' } });
  });

  afterAll(async () => {
    await h?.close();
  });

  it("publishes the platform tenant's default policy at start, in a bucket keeping one revision", async () => {
    const snapshot = await h.snapshotAt(PLATFORM_TENANT_ID, 1);
    expect(snapshot).toEqual(defaultPolicy(PLATFORM_TENANT_ID));
    const decision = compile(snapshot).decide(
      { kind: 'user', id: 'op1', groups: ['tenantry:role:platform-operator'] },
      'write',
      'tenants/42',
    );
    expect(decision.allowed).toBe(true);
    const status = await (await new Kvm(h.nats.js).open(h.bucketName)).status();
    expect(status.history).toBe(1);
  });

  it('gives an active tenant from before provisioning its default policy on first use, once; a provisioning one none', async () => {
    const tenant = h.addTenant('created');
    const operator = 'operator:01a00000-0000-7000-8000-000000000001';
    const first = await h.call(TenantPolicyRpc.get, { tenantId: tenant.id }, operator);
    expect(first.document).toEqual(defaultPolicy(tenant.id));
    expect(await h.snapshotAt(tenant.id, 1)).toEqual(defaultPolicy(tenant.id));
    const [created] = await h.auditEvents(
      (e) => e.tenantId === tenant.id && e.action === 'tenant-policy.created',
    );
    expect(created!.actor).toEqual({
      type: 'operator',
      id: '01a00000-0000-7000-8000-000000000001',
    });
    await h.call(RoleRpc.create, { tenantId: tenant.id, id: 'clerk', name: 'Clerk' });
    const policy = await h.call(TenantPolicyRpc.get, { tenantId: tenant.id });
    expect(policy.version).toBe(2);
    expect(policy.document.roles).toEqual(expect.arrayContaining([{ id: 'clerk', name: 'Clerk' }]));

    // A tenant still provisioning gets its policy from its run's policy step, never the default.
    const fresh = h.addTenant('fresh', 'provisioning');
    const refused = await h.failure(RoleRpc.create, {
      tenantId: fresh.id,
      id: 'clerk',
      name: 'Clerk',
    });
    expect(refused).toMatchObject({ code: 'CONFLICT', reason: 'TENANT_POLICY_UNAVAILABLE' });
    expect(refused.message).toMatch(/still provisioning/);
    expect(await h.sql(`SELECT 1 FROM tenant_policies WHERE tenant_id = $1`, [fresh.id])).toEqual(
      [],
    );
  });

  it('puts a deleted key back while running', async () => {
    const tenant = h.addTenant('deleted');
    await h.call(RoleRpc.create, { tenantId: tenant.id, id: 'clerk', name: 'Clerk' });
    await h.snapshotAt(tenant.id, 2);
    await h.deleteSnapshot(tenant.id);
    expect(await h.snapshot(tenant.id)).toBeNull();
    expect((await h.snapshotAt(tenant.id, 2)).version).toBe(2);
  });

  it('at restart, republishes what the bucket lost or has older, and what was never published', async () => {
    const lost = h.addTenant('lost');
    const stale = h.addTenant('stale');
    const missed = h.addTenant('missed');
    for (const tenant of [lost, stale, missed])
      await h.call(RoleRpc.create, { tenantId: tenant.id, id: 'clerk', name: 'Clerk' });
    const staleV2 = await h.snapshotAt(stale.id, 2);
    await h.call(RoleRpc.create, { tenantId: stale.id, id: 'clerk-2', name: 'Clerk 2' });
    await h.snapshotAt(stale.id, 3);
    await h.snapshotAt(missed.id, 2);

    await h.stopService();
    const kv = await new Kvm(h.nats.js).open(h.bucketName);
    await kv.delete(lost.id);
    await kv.put(stale.id, JSON.stringify(staleV2));
    // As if the publication's ack had been lost: the database's published_version is the truth.
    await h.sql(`UPDATE policy_publications SET published_version = 1 WHERE tenant_id = $1`, [
      missed.id,
    ]);

    await h.startService();
    expect((await h.snapshotAt(lost.id, 2)).version).toBe(2);
    expect((await h.snapshotAt(stale.id, 3)).roles.map((r) => r.id)).toContain('clerk-2');
    expect((await h.snapshotAt(missed.id, 2)).version).toBe(2);
    await waitFor('published_version caught up', async () => {
      const [row] = await h.sql<{ published_version: number }>(
        `SELECT published_version FROM policy_publications WHERE tenant_id = $1`,
        [missed.id],
      );
      return row?.published_version === 2;
    });
  });

  it('recreates a lost bucket (NATS lost its data) and republishes every tenant', async () => {
    const tenant = h.addTenant('rebuilt');
    await h.call(RoleRpc.create, { tenantId: tenant.id, id: 'clerk', name: 'Clerk' });
    await h.snapshotAt(tenant.id, 2);
    await h.nats.jsm.streams.delete(`KV_${h.bucketName}`);
    expect((await h.snapshotAt(tenant.id, 2)).version).toBe(2);
    expect((await h.snapshotAt(PLATFORM_TENANT_ID, 1)).tenantId).toBe(PLATFORM_TENANT_ID);
  });

  it('at start, gives an active tenant the tenants service lists its default policy; provisioning, failed and deleted ones none', async () => {
    await h.stopService();
    const quiet = h.addTenant('quiet');
    const others = [
      h.addTenant('provisioning', 'provisioning'),
      h.addTenant('failed', 'failed'),
      h.addTenant('gone', 'deleted'),
    ];
    await h.startService();
    expect(await h.snapshotAt(quiet.id, 1)).toEqual(defaultPolicy(quiet.id));
    const [row] = await h.sql<{ version: number }>(
      `SELECT version FROM tenant_policies WHERE tenant_id = $1`,
      [quiet.id],
    );
    expect(row!.version).toBe(1);
    expect(
      await h.sql(`SELECT tenant_id FROM tenant_policies WHERE tenant_id = ANY($1::uuid[])`, [
        others.map((t) => t.id),
      ]),
    ).toEqual([]);
  });
});
