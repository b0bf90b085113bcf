import { ErrorCode } from '@tenantry/contracts';
import { inMemoryPolicies, TENANT_A } from '../../test/unit-doubles.js';
import { RoleBindingService } from './role-binding.service.js';

function setup() {
  const policies = inMemoryPolicies();
  return { ...policies, bindings: new RoleBindingService(policies.service) };
}

describe('RoleBindingService', () => {
  it('binds a role with a server-made UUIDv7 id, scope, expiry and conditions; audits it', async () => {
    const { bindings, audits, bucket } = setup();
    const binding = await bindings.create({
      tenantId: TENANT_A,
      roleId: 'viewer',
      subject: { type: 'user', id: 'u1' },
      scope: 'projects/42',
      expiresAt: '2030-01-01T00:00:00Z',
      conditions: [{ type: 'cidr', ranges: ['10.0.0.0/8'] }],
    });
    expect(binding).toMatchObject({
      roleId: 'viewer',
      subject: { type: 'user', id: 'u1' },
      scope: 'projects/42',
      expiresAt: '2030-01-01T00:00:00Z',
      conditions: [{ type: 'cidr', ranges: ['10.0.0.0/8'] }],
    });
    expect(binding.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect(audits().at(-1)).toMatchObject({
      action: 'role-binding.created',
      target: { type: 'role-binding', id: binding.id },
      data: { before: null, after: { id: binding.id, roleId: 'viewer' } },
    });
    expect(bucket.get(TENANT_A)!.bindings.map((b) => b.id)).toContain(binding.id);
  });

  it('refuses an unknown role and a bad condition, naming the fields', async () => {
    const { bindings } = setup();
    await expect(
      bindings.create({
        tenantId: TENANT_A,
        roleId: 'nobody',
        subject: { type: 'user', id: 'u1' },
        conditions: [{ type: 'cidr', ranges: ['10.1.0.0/8'] }],
      }),
    ).rejects.toMatchObject({
      code: ErrorCode.ValidationFailed,
      errors: expect.arrayContaining([
        { field: 'roleId', message: 'unknown role "nobody"' },
        { field: 'conditions.0.ranges.0', message: expect.any(String) },
      ]),
    });
  });

  it('lists by subject and role, a page at a time; deletes', async () => {
    const { bindings, audits } = setup();
    const made = [];
    for (const id of ['u1', 'u2', 'u3'])
      made.push(
        await bindings.create({
          tenantId: TENANT_A,
          roleId: 'viewer',
          subject: { type: 'user', id },
        }),
      );
    const users = await bindings.list({ tenantId: TENANT_A, limit: 2, subjectType: 'user' });
    expect(users.items.map((b) => b.subject.id)).toEqual(['u1', 'u2']);
    const rest = await bindings.list({
      tenantId: TENANT_A,
      limit: 2,
      subjectType: 'user',
      cursor: users.nextCursor!,
    });
    expect(rest).toMatchObject({ items: [{ subject: { id: 'u3' } }], nextCursor: null });
    const admins = await bindings.list({ tenantId: TENANT_A, limit: 50, roleId: 'tenant-admin' });
    expect(admins.items.map((b) => b.subject.id)).toEqual([
      'tenantry:api-keys',
      'tenantry:role:tenant-admin',
    ]);
    const one = await bindings.list({ tenantId: TENANT_A, limit: 50, subjectId: 'u2' });
    expect(one.items.map((b) => b.id)).toEqual([made[1]!.id]);

    await bindings.delete(TENANT_A, made[0]!.id);
    expect(audits().at(-1)).toMatchObject({
      action: 'role-binding.deleted',
      data: { before: { id: made[0]!.id }, after: null },
    });
    await expect(bindings.get(TENANT_A, made[0]!.id)).rejects.toMatchObject({
      code: ErrorCode.NotFound,
      reason: 'ROLE_BINDING_NOT_FOUND',
    });
    await expect(
      bindings.list({ tenantId: TENANT_A, limit: 5, cursor: 'forged!' }),
    ).rejects.toMatchObject({
      code: ErrorCode.ValidationFailed,
    });
  });
});
