import { ErrorCode, PLATFORM_TENANT_ID } from '@tenantry/contracts';
import { messageContext, newContext } from '@tenantry/messaging';
import { compile, type PolicyDocument } from '@tenantry/policy-engine';
import { inMemoryPolicies, TENANT_A, TENANT_B } from '../../test/unit-doubles.js';

const ADMIN = 'user:01a22add-94c3-7000-8000-0000000000ad';

/** An edit adding a role, as the role feature makes it. */
const addRole = (role: PolicyDocument['roles'][number]) => (current: PolicyDocument) => ({
  document: { ...current, roles: [...current.roles, role] },
  value: role,
  audit: {
    action: 'role.created',
    target: { type: 'role', id: role.id },
    before: null,
    after: role,
  },
  item: { path: `roles.${current.roles.length}`, what: 'role' },
});

describe('TenantPolicyService', () => {
  it('gives a tenant its default policy once: a second ensure changes nothing', async () => {
    const { service, rows, audits, bucket } = inMemoryPolicies();
    expect(await service.ensure(TENANT_A)).toBe(true);
    await service.change(
      TENANT_A,
      addRole({ id: 'clerk', name: 'Clerk', permissions: ['invoices:read'] }),
    );
    expect(await service.ensure(TENANT_A)).toBe(false);
    expect(rows.get(TENANT_A)!.version).toBe(2);
    expect(rows.get(TENANT_A)!.document.roles.map((r) => r.id)).toContain('clerk');
    expect(audits().map((a) => a.action)).toEqual(['tenant-policy.created', 'role.created']);
    expect(bucket.get(TENANT_A)!.version).toBe(2);
  });

  it('applies a change as the next version, audits it with before/after and the actor, and publishes it', async () => {
    const { service, rows, audits, bucket, publications, kick } = inMemoryPolicies();
    await service.ensure(TENANT_A);
    const role = { id: 'clerk', name: 'Clerk', permissions: ['invoices:read'] };
    const { document } = await messageContext.run(newContext({ actor: ADMIN }), () =>
      service.change(TENANT_A, addRole(role)),
    );
    expect(document.version).toBe(2);
    expect(rows.get(TENANT_A)!.document).toEqual(document);
    expect(() => compile(bucket.get(TENANT_A))).not.toThrow();
    expect(publications.get(TENANT_A)).toEqual({ version: 2, publishedVersion: 2 });
    expect(audits().at(-1)).toMatchObject({
      tenantId: TENANT_A,
      category: 'policy',
      action: 'role.created',
      actor: { type: 'user', id: '01a22add-94c3-7000-8000-0000000000ad' },
      target: { type: 'role', id: 'clerk' },
      data: { before: null, after: role, policyVersion: 2 },
    });
    expect(kick).toHaveBeenCalled();
  });

  it('marks an operator changing a tenant’s policy as cross-tenant', async () => {
    const { service, audits } = inMemoryPolicies();
    await messageContext.run(
      newContext({ actor: 'operator:01a22add-94c3-7000-8000-0000000000ff' }),
      () => service.change(TENANT_A, addRole({ id: 'x', name: 'X' })),
    );
    expect(audits().at(-1)!.data).toMatchObject({ crossTenant: true });
  });

  it('creates the default policy of a known tenant on its first change; refuses an unknown tenant with TENANT_NOT_FOUND', async () => {
    const { service, rows } = inMemoryPolicies({ known: [TENANT_A] });
    await service.change(TENANT_A, addRole({ id: 'clerk', name: 'Clerk' }));
    expect(rows.get(TENANT_A)!.version).toBe(2);
    await expect(
      service.change(TENANT_B, addRole({ id: 'clerk', name: 'Clerk' })),
    ).rejects.toMatchObject({ code: ErrorCode.NotFound, reason: 'TENANT_NOT_FOUND' });
    await expect(service.get(TENANT_B)).rejects.toMatchObject({ reason: 'TENANT_NOT_FOUND' });
    expect(rows.has(TENANT_B)).toBe(false);
  });

  it('gives no default policy to a tenant still provisioning (its run does), failed or deleted', async () => {
    const { service, rows } = inMemoryPolicies({
      statuses: { [TENANT_A]: 'provisioning', [TENANT_B]: 'deleted' },
    });
    await expect(service.get(TENANT_A)).rejects.toMatchObject({
      code: ErrorCode.Conflict,
      reason: 'TENANT_POLICY_UNAVAILABLE',
      message: expect.stringMatching(/still provisioning/),
    });
    await expect(
      service.change(TENANT_B, addRole({ id: 'clerk', name: 'Clerk' })),
    ).rejects.toMatchObject({ code: ErrorCode.NotFound, reason: 'TENANT_NOT_FOUND' });
    expect(rows.size).toBe(0);
  });

  it('refuses a document the engine refuses, naming the request’s fields, and stores nothing', async () => {
    const { service, rows, audits } = inMemoryPolicies();
    await service.ensure(TENANT_A);
    await expect(
      service.change(
        TENANT_A,
        addRole({ id: 'clerk', name: 'Clerk', permissions: ['invoices'], inherits: ['nobody'] }),
      ),
    ).rejects.toMatchObject({
      code: ErrorCode.ValidationFailed,
      errors: [{ field: 'permissions.0', message: expect.stringContaining('permission') }],
    });
    await expect(
      service.change(TENANT_A, addRole({ id: 'clerk', name: 'Clerk', inherits: ['nobody'] })),
    ).rejects.toMatchObject({
      errors: [{ field: 'inherits.0', message: 'unknown role "nobody"' }],
    });
    expect(rows.get(TENANT_A)!.version).toBe(1);
    expect(audits().map((a) => a.action)).toEqual(['tenant-policy.created']);
  });

  it('refuses a document larger than a snapshot may hold (413)', async () => {
    const { service } = inMemoryPolicies({ maxDocumentBytes: 2_000 });
    await service.ensure(TENANT_A);
    const permissions = Array.from({ length: 100 }, (_, i) => `resource-${i}:read`);
    await expect(
      service.change(TENANT_A, addRole({ id: 'big', name: 'Big', permissions })),
    ).rejects.toMatchObject({
      code: ErrorCode.PayloadTooLarge,
      reason: 'TENANT_POLICY_TOO_LARGE',
    });
  });

  it('commits the change when publishing fails, and asks the reconciler to try again', async () => {
    const { service, rows, publications, retryLater } = inMemoryPolicies({ publishFails: true });
    await service.change(TENANT_A, addRole({ id: 'clerk', name: 'Clerk' }));
    expect(rows.get(TENANT_A)!.version).toBe(2);
    expect(publications.get(TENANT_A)).toEqual({ version: 2, publishedVersion: 0 });
    expect(retryLater).toHaveBeenCalled();
  });

  it('answers the whole document with its version and published version', async () => {
    const { service } = inMemoryPolicies({ known: [PLATFORM_TENANT_ID] });
    const policy = await service.get(PLATFORM_TENANT_ID);
    expect(policy).toMatchObject({ tenantId: PLATFORM_TENANT_ID, version: 1, publishedVersion: 1 });
    expect((policy.document as PolicyDocument).bindings.map((b) => b.roleId)).toContain(
      'platform-operator',
    );
  });
});
