import { AppError, ErrorCode, PLATFORM_TENANT_ID, type Tenant } from '@tenantry/contracts';
import { double } from '@tenantry/testing';
import { inMemoryPolicies, TENANT_A, TENANT_B, testTenant } from '../../test/unit-doubles.js';
import { TenantDirectory } from '../core/tenant-directory.js';
import { PolicyReconciler } from './policy-reconciler.js';

const TENANT_C = '01a22add-94c3-7000-8000-00000000000c';
const TENANT_D = '01a22add-94c3-7000-8000-00000000000d';
const TENANT_E = '01a22add-94c3-7000-8000-00000000000e';
const TENANT_F = '01a22add-94c3-7000-8000-00000000000f';
const TENANT_G = '01a22add-94c3-7000-8000-000000000010';

const tenant = (id: string, status: Tenant['status'] = 'active') => testTenant(id, status);

/** `listed`: what the tenants service lists; an AppError: it is down. */
function setup(listed: Tenant[] | AppError = []) {
  const policies = inMemoryPolicies();
  const tenants = double(TenantDirectory, {
    all: async function* () {
      if (listed instanceof AppError) throw listed;
      yield* listed;
    },
  });
  const reconciler = new PolicyReconciler(
    policies.repository,
    policies.service,
    policies.publisher,
    tenants,
    { reconcileIntervalMs: 60_000 },
  );
  return { ...policies, reconciler };
}

describe('PolicyReconciler', () => {
  it('gives the platform tenant its policy, and publishes what is behind or missing from the bucket', async () => {
    const { reconciler, service, publications, bucket, publish } = setup();
    await service.ensure(TENANT_A);
    await service.ensure(TENANT_B);
    // A's publication was lost (NATS away after the commit); B's key was deleted.
    publications.get(TENANT_A)!.publishedVersion = 0;
    bucket.delete(TENANT_A);
    bucket.delete(TENANT_B);
    publish.mockClear();

    expect(await reconciler.reconcile(false)).toBe(2);
    expect([...bucket.keys()].sort()).toEqual([PLATFORM_TENANT_ID, TENANT_A, TENANT_B].sort());
    expect(publications.get(TENANT_A)!.publishedVersion).toBe(1);
    expect(publications.get(PLATFORM_TENANT_ID)!.publishedVersion).toBe(1);

    publish.mockClear();
    expect(await reconciler.reconcile(false)).toBe(0);
    expect(publish).not.toHaveBeenCalled();
  });

  it('at start, also republishes a tenant whose bucket entry is older than the database', async () => {
    const { reconciler, service, bucket } = setup();
    await service.ensure(TENANT_A);
    const old = bucket.get(TENANT_A)!;
    await service.change(TENANT_A, (current) => ({
      document: { ...current, roles: [...current.roles, { id: 'clerk', name: 'Clerk' }] },
      value: null,
      audit: {
        action: 'role.created',
        target: { type: 'role', id: 'clerk' },
        before: null,
        after: null,
      },
      item: { path: 'roles', what: 'role' },
    }));
    bucket.set(TENANT_A, old); // as if a stale copy were restored
    expect(await reconciler.reconcile(false)).toBe(0); // the key is there: a periodic pass trusts it
    expect(await reconciler.reconcile(true)).toBe(1);
    expect(bucket.get(TENANT_A)!.version).toBe(2);
  });

  it('at start, gives every active or suspended tenant the tenants service lists its default policy, no other', async () => {
    const { reconciler, service, rows, bucket } = setup([
      tenant(TENANT_A),
      tenant(TENANT_C),
      tenant(TENANT_D, 'deleted'),
      tenant(TENANT_E, 'suspended'),
      // Its provisioning run makes its policy (with its plan's roles): never the default one.
      tenant(TENANT_F, 'provisioning'),
      tenant(TENANT_G, 'failed'),
      tenant(TENANT_B, 'deprovisioning'),
    ]);
    await service.ensure(TENANT_A);
    await service.change(TENANT_A, (current) => ({
      document: { ...current, roles: [...current.roles, { id: 'clerk', name: 'Clerk' }] },
      value: null,
      audit: {
        action: 'role.created',
        target: { type: 'role', id: 'clerk' },
        before: null,
        after: null,
      },
      item: { path: 'roles', what: 'role' },
    }));
    await reconciler.reconcile(true);
    expect(rows.get(TENANT_A)!.version).toBe(2); // never reset
    expect(rows.get(TENANT_C)!.version).toBe(1);
    expect(rows.has(TENANT_D)).toBe(false);
    expect(rows.has(TENANT_E)).toBe(true);
    for (const id of [TENANT_F, TENANT_G, TENANT_B]) expect(rows.has(id)).toBe(false);
    expect(bucket.get(TENANT_C)!.tenantId).toBe(TENANT_C);
  });

  it('deletes the snapshot of a tenant whose policy was removed (a publication raced the removal)', async () => {
    const { reconciler, service, bucket } = setup();
    await service.ensure(TENANT_A);
    await service.ensure(TENANT_B);
    await reconciler.reconcile(true);
    const stale = bucket.get(TENANT_A)!;
    await service.remove(TENANT_A);
    bucket.set(TENANT_A, stale); // put back by a publication that was in flight
    expect(await reconciler.reconcile(false)).toBe(0);
    expect(bucket.has(TENANT_A)).toBe(false);
    expect(bucket.has(TENANT_B)).toBe(true);
  });

  it('publishes even while the tenants service does not answer', async () => {
    const { reconciler, service, publications, bucket } = setup(
      new AppError(ErrorCode.ServiceUnavailable, 'tenants is down'),
    );
    await service.ensure(TENANT_A);
    publications.get(TENANT_A)!.publishedVersion = 0;
    bucket.delete(TENANT_A);
    expect(await reconciler.reconcile(true)).toBe(1);
    expect(bucket.has(TENANT_A)).toBe(true);
  });
});
