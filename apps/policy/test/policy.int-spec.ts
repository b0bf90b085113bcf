/**
 * The policy service's API against real PostgreSQL (row-level security) and NATS (the
 * snapshot bucket, the AUDIT stream): roles, templates, bindings and deny rules changed one
 * version at a time, validated, audited and published.
 */
import {
  ErrorCode,
  PolicyRpc,
  RoleBindingRpc,
  RoleRpc,
  RoleTemplateRpc,
  TenantPolicyRpc,
  type Tenant,
} from '@tenantry/contracts';
import { TenantTransactions } from '@tenantry/persistence';
import { compile } from '@tenantry/policy-engine';
import { PolicyHarness } from './policy.harness.js';

const ADMIN_A = 'user:01a00000-0000-7000-8000-00000000000a';

describe('policy service (PostgreSQL + NATS)', () => {
  let h: PolicyHarness;
  let a: Tenant;
  let b: Tenant;

  beforeAll(async () => {
    h = await PolicyHarness.start();
    a = h.addTenant('alpha');
    b = h.addTenant('beta');
  });

  afterAll(async () => {
    await h?.close();
  });

  it('creates, reads, lists, changes and deletes a custom role; each change is a version, published and compiled by a holder', async () => {
    const start = await h.call(TenantPolicyRpc.get, { tenantId: a.id });
    expect(start.version).toBe(1);

    const created = await h.call(
      RoleRpc.create,
      {
        tenantId: a.id,
        id: 'invoice-clerk',
        name: 'Invoice clerk',
        permissions: ['invoices:read', 'invoices:write'],
        inherits: ['viewer'],
      },
      ADMIN_A,
    );
    expect(created).toMatchObject({
      id: 'invoice-clerk',
      system: false,
      effectivePermissions: ['invoices:read', 'invoices:write', '*:read', '*:list'],
    });
    expect(await h.call(RoleRpc.get, { tenantId: a.id, roleId: 'invoice-clerk' })).toEqual(created);

    const updated = await h.call(RoleRpc.update, {
      tenantId: a.id,
      roleId: 'invoice-clerk',
      permissions: ['invoices:read'],
      description: 'reads invoices',
    });
    expect(updated).toMatchObject({
      permissions: ['invoices:read'],
      description: 'reads invoices',
    });

    const list = await h.call(RoleRpc.list, { tenantId: a.id, limit: 3 });
    expect(list.items).toHaveLength(3);
    const next = await h.call(RoleRpc.list, {
      tenantId: a.id,
      limit: 50,
      cursor: list.nextCursor!,
    });
    const all = [...list.items, ...next.items];
    expect(all.find((r) => r.id === 'tenant-admin')).toMatchObject({ system: true });
    expect(all.find((r) => r.id === 'invoice-clerk')).toMatchObject({ system: false });

    const policy = await h.call(TenantPolicyRpc.get, { tenantId: a.id });
    expect(policy.version).toBe(3);
    const snapshot = await h.snapshotAt(a.id, 3);
    expect(snapshot).toEqual(policy.document);
    const compiled = compile(snapshot);
    expect(compiled.version).toBe(3);
    expect(
      compiled.decide(
        { kind: 'user', id: 'u1', groups: ['tenantry:role:member'] },
        'read',
        'invoices/1',
      ).allowed,
    ).toBe(false);
    expect((await h.call(TenantPolicyRpc.get, { tenantId: a.id })).publishedVersion).toBe(3);

    await h.call(RoleRpc.delete, { tenantId: a.id, roleId: 'invoice-clerk' });
    expect((await h.failure(RoleRpc.get, { tenantId: a.id, roleId: 'invoice-clerk' })).code).toBe(
      ErrorCode.NotFound,
    );
    expect((await h.snapshotAt(a.id, 4)).roles.map((r) => r.id)).not.toContain('invoice-clerk');
  });

  it('refuses invalid input naming the fields: the contract first, then the engine', async () => {
    const contract = await h.failure(RoleRpc.create, {
      tenantId: a.id,
      id: 'Not Kebab',
      name: 'x',
    });
    expect(contract.code).toBe(ErrorCode.ValidationFailed);
    expect(contract.errors).toEqual([
      { field: 'id', message: expect.stringContaining('kebab-case') },
    ]);

    const engine = await h.failure(RoleRpc.create, {
      tenantId: a.id,
      id: 'bad',
      name: 'Bad',
      permissions: ['invoices:read', 'projects/*/tasks:read'],
      inherits: ['nobody'],
      conditions: [{ type: 'time-window', timeZone: 'Mars/Olympus', from: '09:00', to: '17:00' }],
    });
    expect(engine.code).toBe(ErrorCode.ValidationFailed);
    expect(engine.errors).toEqual(
      expect.arrayContaining([
        { field: 'permissions.1', message: expect.stringContaining('permission') },
      ]),
    );
    const second = await h.failure(RoleRpc.create, {
      tenantId: a.id,
      id: 'bad',
      name: 'Bad',
      inherits: ['nobody'],
      conditions: [{ type: 'time-window', timeZone: 'Mars/Olympus', from: '09:00', to: '17:00' }],
    });
    expect(second.errors).toEqual(
      expect.arrayContaining([
        { field: 'inherits.0', message: 'unknown role "nobody"' },
        { field: 'conditions.0.timeZone', message: 'unknown IANA time zone "Mars/Olympus"' },
      ]),
    );
    const clash = await h.failure(RoleRpc.create, { tenantId: a.id, id: 'viewer', name: 'V' });
    expect([clash.code, clash.reason]).toEqual([ErrorCode.Conflict, 'ROLE_SYSTEM_ID']);
  });

  it('refuses an inheritance cycle, naming it', async () => {
    await h.call(RoleRpc.create, { tenantId: a.id, id: 'ring-a', name: 'A' });
    await h.call(RoleRpc.create, { tenantId: a.id, id: 'ring-b', name: 'B', inherits: ['ring-a'] });
    const before = (await h.call(TenantPolicyRpc.get, { tenantId: a.id })).version;
    const error = await h.failure(RoleRpc.update, {
      tenantId: a.id,
      roleId: 'ring-a',
      inherits: ['ring-b'],
    });
    expect(error.code).toBe(ErrorCode.ValidationFailed);
    expect(error.errors).toEqual([
      {
        field: 'inherits',
        message: expect.stringMatching(/^inheritance cycle: ring-(a|b) → ring-(a|b) → ring-(a|b)$/),
      },
    ]);
    expect((await h.call(TenantPolicyRpc.get, { tenantId: a.id })).version).toBe(before);
  });

  it('binds roles, lists bindings by subject and role, and refuses to delete a role in use, naming what uses it', async () => {
    await h.call(RoleRpc.create, {
      tenantId: a.id,
      id: 'auditor-lite',
      name: 'Auditor lite',
      permissions: ['audit:read'],
    });
    const binding = await h.call(RoleBindingRpc.create, {
      tenantId: a.id,
      roleId: 'auditor-lite',
      subject: { type: 'group', id: 'finance' },
      scope: 'audit',
      expiresAt: '2031-01-01T00:00:00Z',
    });
    expect(binding.id).toMatch(/^[0-9a-f-]{36}$/);
    const rule = await h.call(PolicyRpc.create, {
      tenantId: a.id,
      name: 'no exports for lite auditors',
      permissions: ['*:export'],
      subjects: [{ type: 'role', id: 'auditor-lite' }],
    });
    await h.call(RoleRpc.create, {
      tenantId: a.id,
      id: 'auditor-plus',
      name: 'Plus',
      inherits: ['auditor-lite'],
    });

    const inUse = await h.failure(RoleRpc.delete, { tenantId: a.id, roleId: 'auditor-lite' });
    expect([inUse.code, inUse.reason]).toEqual([ErrorCode.Conflict, 'ROLE_IN_USE']);
    expect(inUse.message).toContain(binding.id);
    expect(inUse.message).toContain(rule.id);
    expect(inUse.message).toContain('auditor-plus');

    const byGroup = await h.call(RoleBindingRpc.list, {
      tenantId: a.id,
      limit: 50,
      subjectType: 'group',
      subjectId: 'finance',
    });
    expect(byGroup.items).toEqual([binding]);
    const byRole = await h.call(RoleBindingRpc.list, {
      tenantId: a.id,
      limit: 50,
      roleId: 'member',
    });
    expect(byRole.items.map((x) => x.subject.id)).toEqual(['tenantry:role:member']);

    await h.call(RoleBindingRpc.delete, { tenantId: a.id, bindingId: binding.id });
    await h.call(PolicyRpc.delete, { tenantId: a.id, policyId: rule.id });
    await h.call(RoleRpc.delete, { tenantId: a.id, roleId: 'auditor-plus' });
    await h.call(RoleRpc.delete, { tenantId: a.id, roleId: 'auditor-lite' });
  });

  it('manages role templates: the tenant’s own beside the system ones, instantiated with variables', async () => {
    await h.call(RoleTemplateRpc.create, {
      tenantId: a.id,
      id: 'project-editor',
      name: 'Editor of {project}',
      variables: ['project'],
      permissions: ['projects/{project}:write'],
      inherits: [],
    });
    const templates = await h.call(RoleTemplateRpc.list, { tenantId: a.id, limit: 100 });
    expect(templates.items.map((t) => [t.id, t.system])).toEqual(
      expect.arrayContaining([
        ['department-reader', true],
        ['project-editor', false],
      ]),
    );
    const role = await h.call(RoleRpc.create, {
      tenantId: a.id,
      id: 'apollo-editor',
      template: 'project-editor',
      variables: { project: 'apollo' },
    });
    expect(role.effectivePermissions).toEqual(['projects/apollo:write']);
    const inUse = await h.failure(RoleTemplateRpc.delete, {
      tenantId: a.id,
      templateId: 'project-editor',
    });
    expect(inUse.reason).toBe('ROLE_TEMPLATE_IN_USE');
    await h.call(RoleRpc.delete, { tenantId: a.id, roleId: 'apollo-editor' });
    await h.call(RoleTemplateRpc.delete, { tenantId: a.id, templateId: 'project-editor' });
  });

  it('manages deny rules (policies) with the engine’s shape', async () => {
    const rule = await h.call(PolicyRpc.create, {
      tenantId: a.id,
      name: 'exports need recent MFA',
      permissions: ['*:export'],
      unless: [{ type: 'mfa-within', minutes: 10 }],
    });
    expect(await h.call(PolicyRpc.get, { tenantId: a.id, policyId: rule.id })).toEqual(rule);
    const updated = await h.call(PolicyRpc.update, {
      tenantId: a.id,
      policyId: rule.id,
      scope: 'reports',
      description: 'SOC 2',
    });
    expect(updated).toMatchObject({ scope: 'reports', description: 'SOC 2' });
    const list = await h.call(PolicyRpc.list, { tenantId: a.id, limit: 10 });
    expect(list.items.map((r) => r.id)).toContain(rule.id);
    const bad = await h.failure(PolicyRpc.update, {
      tenantId: a.id,
      policyId: rule.id,
      conditions: [{ type: 'cidr', ranges: ['10.1.0.0/8'] }],
    });
    expect(bad.errors).toEqual([{ field: 'conditions.0.ranges.0', message: expect.any(String) }]);
    await h.call(PolicyRpc.delete, { tenantId: a.id, policyId: rule.id });
  });

  it("audits every change with before and after, and the actor; an operator's as cross-tenant", async () => {
    await h.call(RoleRpc.create, { tenantId: a.id, id: 'audited', name: 'Audited' }, ADMIN_A);
    await h.call(RoleRpc.update, { tenantId: a.id, roleId: 'audited', name: 'Audited 2' }, ADMIN_A);
    await h.call(
      RoleRpc.delete,
      { tenantId: a.id, roleId: 'audited' },
      'operator:01a00000-0000-7000-8000-0000000000ff',
    );
    const events = await h.auditEvents((e) => e.tenantId === a.id && e.target?.id === 'audited', 3);
    expect(events.map((e) => [e.category, e.action])).toEqual([
      ['policy', 'role.created'],
      ['policy', 'role.updated'],
      ['policy', 'role.deleted'],
    ]);
    expect(events[0]).toMatchObject({
      actor: { type: 'user', id: '01a00000-0000-7000-8000-00000000000a' },
      data: { before: null, after: { id: 'audited', name: 'Audited' } },
    });
    expect(events[1]!.data).toMatchObject({
      before: { name: 'Audited' },
      after: { name: 'Audited 2' },
    });
    expect(events[2]).toMatchObject({
      actor: { type: 'operator' },
      data: { before: { name: 'Audited 2' }, after: null, crossTenant: true },
    });
    const [binding] = await h.auditEvents((e) => e.action === 'role-binding.deleted');
    expect(binding!.data).toMatchObject({ after: null, before: { roleId: 'auditor-lite' } });
  });

  it("keeps tenants apart: A's changes never touch B's row (row-level security), and B's data is not A's", async () => {
    await h.call(TenantPolicyRpc.get, { tenantId: b.id });
    const [bBefore] = await h.sql<{ version: number; document: unknown }>(
      `SELECT version, document FROM tenant_policies WHERE tenant_id = $1`,
      [b.id],
    );
    await h.call(RoleRpc.create, { tenantId: a.id, id: 'only-in-a', name: 'Only A' }, ADMIN_A);
    expect((await h.failure(RoleRpc.get, { tenantId: b.id, roleId: 'only-in-a' })).code).toBe(
      ErrorCode.NotFound,
    );
    const [bAfter] = await h.sql(
      `SELECT version, document FROM tenant_policies WHERE tenant_id = $1`,
      [b.id],
    );
    expect(bAfter).toEqual(bBefore);
    // Without a WHERE, a tenant's transaction sees its own row only; without a tenant, none.
    const tx = h.get(TenantTransactions);
    const seen = await tx.run(a.id, (m) => m.query(`SELECT tenant_id FROM tenant_policies`));
    expect(seen).toEqual([{ tenant_id: a.id }]);
    expect(await tx.runGlobal((m) => m.query(`SELECT tenant_id FROM tenant_policies`))).toEqual([]);
    const [rls] = await h.sql<{ relrowsecurity: boolean; relforcerowsecurity: boolean }>(
      `SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = 'tenant_policies'`,
    );
    expect(rls).toEqual({ relrowsecurity: true, relforcerowsecurity: true });
  });

  it('answers TENANT_NOT_FOUND for a tenant the tenants service does not know, creating nothing', async () => {
    const unknown = '01a00000-0000-7000-8000-00000000dead';
    const error = await h.failure(RoleRpc.list, { tenantId: unknown, limit: 10 });
    expect([error.code, error.reason]).toEqual([ErrorCode.NotFound, 'TENANT_NOT_FOUND']);
    expect(await h.sql(`SELECT 1 FROM tenant_policies WHERE tenant_id = $1`, [unknown])).toEqual(
      [],
    );
  });

  it('serializes concurrent changes of one tenant: every change is a version of its own', async () => {
    const before = (await h.call(TenantPolicyRpc.get, { tenantId: b.id })).version;
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        h.call(RoleBindingRpc.create, {
          tenantId: b.id,
          roleId: 'viewer',
          subject: { type: 'user', id: `u${i}` },
        }),
      ),
    );
    const after = await h.call(TenantPolicyRpc.get, { tenantId: b.id });
    expect(after.version).toBe(before + 8);
    const snapshot = await h.snapshotAt(b.id, after.version);
    expect(snapshot.bindings.filter((x) => x.roleId === 'viewer')).toHaveLength(8);
  });
});
