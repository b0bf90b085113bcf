import { ErrorCode } from '@tenantry/contracts';
import { inMemoryPolicies, TENANT_A } from '../../test/unit-doubles.js';
import { RoleService } from '../roles/role.service.js';
import { RoleTemplateService } from './role-template.service.js';

function setup() {
  const policies = inMemoryPolicies();
  return {
    ...policies,
    templates: new RoleTemplateService(policies.service),
    roles: new RoleService(policies.service, policies.quotas),
  };
}

describe('RoleTemplateService', () => {
  it("lists the system templates and the tenant's own; roles instantiate the tenant's", async () => {
    const { templates, roles, audits } = setup();
    const created = await templates.create({
      tenantId: TENANT_A,
      id: 'project-editor',
      name: 'Editor of {project}',
      variables: ['project'],
      permissions: ['projects/{project}:write', 'projects/{project}:read'],
    });
    expect(created).toMatchObject({ system: false, variables: ['project'] });
    expect(audits().at(-1)).toMatchObject({
      action: 'role-template.created',
      data: { before: null, after: { id: 'project-editor' } },
    });
    const all = await templates.list({ tenantId: TENANT_A, limit: 50 });
    expect(all.items.filter((t) => t.system).map((t) => t.id)).toContain('department-reader');
    expect(all.items.find((t) => t.id === 'project-editor')!.system).toBe(false);
    const role = await roles.create({
      tenantId: TENANT_A,
      id: 'apollo-editor',
      template: 'project-editor',
      variables: { project: 'apollo' },
    });
    expect(role).toMatchObject({
      name: 'Editor of apollo',
      effectivePermissions: ['projects/apollo:write', 'projects/apollo:read'],
    });
  });

  it('refuses a template using an undeclared variable, naming the field', async () => {
    const { templates } = setup();
    await expect(
      templates.create({
        tenantId: TENANT_A,
        id: 'bad',
        name: 'Bad',
        permissions: ['projects/{project}:read'],
      }),
    ).rejects.toMatchObject({
      code: ErrorCode.ValidationFailed,
      errors: expect.arrayContaining([
        { field: 'permissions.0', message: 'uses {project}, which is not among the variables' },
      ]),
    });
  });

  it('refuses a system id, deleting a system template, and deleting a template in use', async () => {
    const { templates, roles } = setup();
    await expect(
      templates.create({ tenantId: TENANT_A, id: 'viewer', name: 'V', permissions: ['x:read'] }),
    ).rejects.toMatchObject({ code: ErrorCode.Conflict, reason: 'ROLE_TEMPLATE_ID_TAKEN' });
    await expect(templates.delete(TENANT_A, 'viewer')).rejects.toMatchObject({
      reason: 'ROLE_TEMPLATE_SYSTEM_READ_ONLY',
    });
    await templates.create({ tenantId: TENANT_A, id: 't', name: 'T', permissions: ['x:read'] });
    await roles.create({ tenantId: TENANT_A, id: 'r', template: 't' });
    await expect(templates.delete(TENANT_A, 't')).rejects.toMatchObject({
      code: ErrorCode.Conflict,
      reason: 'ROLE_TEMPLATE_IN_USE',
      message: expect.stringContaining('roles r'),
    });
    await roles.delete(TENANT_A, 'r');
    await templates.delete(TENANT_A, 't');
    await expect(templates.get(TENANT_A, 't')).rejects.toMatchObject({
      reason: 'ROLE_TEMPLATE_NOT_FOUND',
    });
  });
});
