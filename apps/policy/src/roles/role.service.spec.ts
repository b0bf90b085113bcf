import { ErrorCode } from '@tenantry/contracts';
import {
  inMemoryPolicies,
  TENANT_A,
  TENANT_B,
  type InMemoryOptions,
} from '../../test/unit-doubles.js';
import { RoleService } from './role.service.js';

function setup(options: InMemoryOptions = {}) {
  const policies = inMemoryPolicies(options);
  return { ...policies, roles: new RoleService(policies.service, policies.quotas) };
}

describe('RoleService', () => {
  it('lists the system roles (read-only, with what they grant) and custom ones, by id, a page at a time', async () => {
    const { roles } = setup();
    await roles.create({
      tenantId: TENANT_A,
      id: 'clerk',
      name: 'Clerk',
      permissions: ['invoices:read'],
    });
    const all = await roles.list({ tenantId: TENANT_A, limit: 50 });
    expect(all.items.map((r) => [r.id, r.system])).toEqual([
      ['analyst', true],
      ['auditor', true],
      ['clerk', false],
      ['developer', true],
      ['member', true],
      ['service-account', true],
      ['tenant-admin', true],
      ['viewer', true],
    ]);
    expect(all.items.find((r) => r.id === 'viewer')).toMatchObject({
      name: 'Viewer',
      template: 'viewer',
      permissions: [],
      effectivePermissions: ['*:read', '*:list'],
    });
    const first = await roles.list({ tenantId: TENANT_A, limit: 3 });
    const second = await roles.list({ tenantId: TENANT_A, limit: 3, cursor: first.nextCursor! });
    expect(second.items.map((r) => r.id)).toEqual(['developer', 'member', 'service-account']);
  });

  it('creates a role from a template with variables, and one inheriting it: effective permissions follow', async () => {
    const { roles } = setup();
    const reader = await roles.create({
      tenantId: TENANT_A,
      id: 'finance-reader',
      template: 'department-reader',
      variables: { department: 'finance' },
    });
    expect(reader).toMatchObject({
      name: 'Reader of finance',
      system: false,
      effectivePermissions: ['departments/finance:read', 'departments/finance:list'],
    });
    const lead = await roles.create({
      tenantId: TENANT_A,
      id: 'finance-lead',
      name: 'Finance lead',
      permissions: ['invoices:approve'],
      inherits: ['finance-reader'],
    });
    expect(lead.effectivePermissions).toEqual([
      'invoices:approve',
      'departments/finance:read',
      'departments/finance:list',
    ]);
  });

  it('refuses a system role id, a taken id, and a role with neither name nor template', async () => {
    const { roles } = setup();
    await expect(
      roles.create({ tenantId: TENANT_A, id: 'viewer', name: 'Mine' }),
    ).rejects.toMatchObject({
      code: ErrorCode.Conflict,
      reason: 'ROLE_SYSTEM_ID',
      errors: [{ field: 'id' }],
    });
    await roles.create({ tenantId: TENANT_A, id: 'clerk', name: 'Clerk' });
    await expect(
      roles.create({ tenantId: TENANT_A, id: 'clerk', name: 'Clerk' }),
    ).rejects.toMatchObject({
      code: ErrorCode.Conflict,
      reason: 'ROLE_ID_TAKEN',
    });
    await expect(roles.create({ tenantId: TENANT_A, id: 'nameless' })).rejects.toMatchObject({
      code: ErrorCode.ValidationFailed,
      errors: [{ field: 'name' }],
    });
  });

  it('refuses an inheritance cycle, naming it on inherits', async () => {
    const { roles } = setup();
    await roles.create({ tenantId: TENANT_A, id: 'a', name: 'A' });
    await roles.create({ tenantId: TENANT_A, id: 'b', name: 'B', inherits: ['a'] });
    await roles.create({ tenantId: TENANT_A, id: 'c', name: 'C', inherits: ['b'] });
    await expect(
      roles.update({ tenantId: TENANT_A, roleId: 'a', inherits: ['c'] }),
    ).rejects.toMatchObject({
      code: ErrorCode.ValidationFailed,
      errors: [
        { field: 'inherits', message: expect.stringMatching(/^inheritance cycle: .*a.*→.*a$/) },
      ],
    });
  });

  it('changes the given fields of a custom role; null removes the description; system roles are read-only', async () => {
    const { roles, audits, service } = setup();
    await roles.create({ tenantId: TENANT_A, id: 'clerk', name: 'Clerk', description: 'counts' });
    const updated = await roles.update({
      tenantId: TENANT_A,
      roleId: 'clerk',
      description: null,
      permissions: ['invoices:write'],
    });
    expect(updated).toMatchObject({
      name: 'Clerk',
      description: null,
      permissions: ['invoices:write'],
    });
    expect(audits().at(-1)).toMatchObject({
      action: 'role.updated',
      data: {
        before: { id: 'clerk', name: 'Clerk', description: 'counts' },
        after: { id: 'clerk', name: 'Clerk', permissions: ['invoices:write'] },
      },
    });
    const version = (await service.get(TENANT_A)).version;
    await roles.update({ tenantId: TENANT_A, roleId: 'clerk' });
    expect((await service.get(TENANT_A)).version).toBe(version); // nothing changed: no version
    await expect(
      roles.update({ tenantId: TENANT_A, roleId: 'viewer', name: 'Mine' }),
    ).rejects.toMatchObject({ code: ErrorCode.Conflict, reason: 'ROLE_SYSTEM_READ_ONLY' });
    await expect(roles.delete(TENANT_A, 'tenant-admin')).rejects.toMatchObject({
      reason: 'ROLE_SYSTEM_READ_ONLY',
    });
    await expect(roles.get(TENANT_A, 'nobody')).rejects.toMatchObject({
      code: ErrorCode.NotFound,
      reason: 'ROLE_NOT_FOUND',
    });
  });

  it('refuses to delete a role in use, naming the bindings, policies and roles that use it', async () => {
    const { roles, service } = setup();
    await roles.create({ tenantId: TENANT_A, id: 'clerk', name: 'Clerk' });
    await roles.create({ tenantId: TENANT_A, id: 'senior', name: 'Senior', inherits: ['clerk'] });
    await service.change(TENANT_A, (current) => ({
      document: {
        ...current,
        bindings: [
          ...current.bindings,
          { id: 'b1', roleId: 'clerk', subject: { type: 'user', id: 'u1' } },
        ],
        denyRules: [
          { id: 'r1', permissions: ['x:write'], subjects: [{ type: 'role', id: 'clerk' }] },
        ],
      },
      value: null,
      audit: {
        action: 'test.seeded',
        target: { type: 'test', id: 'x' },
        before: null,
        after: null,
      },
      item: { path: 'bindings', what: 'test' },
    }));
    const error = await roles.delete(TENANT_A, 'clerk').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.Conflict, reason: 'ROLE_IN_USE' });
    expect((error as Error).message).toMatch(
      /role bindings b1.*policies \(deny rules\) r1.*roles inheriting it: senior/,
    );
    await roles.delete(TENANT_A, 'senior');
    await expect(roles.get(TENANT_A, 'senior')).rejects.toMatchObject({ reason: 'ROLE_NOT_FOUND' });
  });

  it("never touches another tenant's policy", async () => {
    const { roles, rows } = setup();
    await roles.create({ tenantId: TENANT_A, id: 'clerk', name: 'Clerk' });
    await expect(roles.get(TENANT_B, 'clerk')).rejects.toMatchObject({ reason: 'ROLE_NOT_FOUND' });
    expect(rows.get(TENANT_B)!.version).toBe(1);
  });

  it("refuses a custom role beyond the plan's limit (QUOTA_EXCEEDED naming it); system roles do not count", async () => {
    const { roles, rows } = setup({ customRoles: { [TENANT_A]: 2, [TENANT_B]: 0 } });
    await roles.create({ tenantId: TENANT_A, id: 'clerk', name: 'Clerk' });
    await roles.create({ tenantId: TENANT_A, id: 'lead', name: 'Lead' });
    const refused = await roles
      .create({ tenantId: TENANT_A, id: 'third', name: 'Third' })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: ErrorCode.Conflict, reason: 'QUOTA_EXCEEDED' });
    expect((refused as Error).message).toMatch(
      /allows 2 custom roles \(limit customRoles\); the tenant has 2/,
    );
    expect(rows.get(TENANT_A)!.version).toBe(3);
    await expect(
      roles.create({ tenantId: TENANT_B, id: 'clerk', name: 'Clerk' }),
    ).rejects.toMatchObject({
      reason: 'QUOTA_EXCEEDED',
      message: expect.stringMatching(/allows 0 custom roles/),
    });
    // Deleting one makes room again.
    await roles.delete(TENANT_A, 'lead');
    await roles.create({ tenantId: TENANT_A, id: 'third', name: 'Third' });
  });
});
