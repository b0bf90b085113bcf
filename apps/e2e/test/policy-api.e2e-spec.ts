/**
 * The policy service behind the gateway, against the running platform: a tenant created
 * through the API gets its default policy (its provisioning's policy bootstrap), and its admins (here an
 * operator, and API keys with the scopes) manage roles, templates, bindings and deny rules
 * over HTTP; refusals are problem documents naming the fields.
 */
import { randomBytes } from 'node:crypto';
import { createActiveTenant, Platform, waitFor } from '@tenantry/testing';

interface Reply {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

async function call(
  base: string,
  method: string,
  path: string,
  options: {
    token?: string;
    apiKey?: string;
    body?: unknown;
    headers?: Record<string, string>;
  } = {},
): Promise<Reply> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...options.headers,
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.apiKey ? { 'x-api-key': options.apiKey } : {}),
    },
    body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

const ADMIN_EMAIL = 'operator@policy-e2e.test';

describe('the policy API at the gateway', () => {
  const adminPassword = randomBytes(18).toString('base64url');
  let platform: Platform;
  let gw: string;
  let token: string;
  let tenant: string;
  let other: string;

  beforeAll(async () => {
    platform = await Platform.create({
      env: { TENANTRY_ADMIN_EMAIL: ADMIN_EMAIL, TENANTRY_ADMIN_PASSWORD: adminPassword },
    });
    await platform.start();
    gw = platform.gatewayUrl;
    const login = await call(gw, 'POST', '/v1/auth/login', {
      body: { email: ADMIN_EMAIL, password: adminPassword },
    });
    expect(login.status).toBe(200);
    token = login.body.accessToken;
    // Custom roles need a plan that allows them (free allows none).
    const created = await Promise.all(
      ['policy-a', 'policy-b'].map((slug) =>
        createActiveTenant(gw, token, { name: slug, slug, plan: 'enterprise' }),
      ),
    );
    [tenant, other] = created.map((t) => t.id) as [string, string];
  });

  afterAll(async () => {
    await platform?.destroy();
  });

  it('gives a new tenant its default policy, and shows the whole document', async () => {
    const policy = await waitFor('the default policy', async () => {
      const reply = await call(gw, 'GET', `/v1/tenants/${tenant}/policy`, { token });
      return reply.status === 200 && reply.body.publishedVersion >= 1 && reply.body;
    });
    expect(policy).toMatchObject({ tenantId: tenant, version: 1, publishedVersion: 1 });
    expect(policy.document.bindings.map((b: { roleId: string }) => b.roleId)).toContain(
      'tenant-admin',
    );
  });

  it('creates, lists, changes and deletes roles; refusals name the fields', async () => {
    const created = await call(gw, 'POST', `/v1/tenants/${tenant}/roles`, {
      token,
      body: { id: 'invoice-clerk', name: 'Invoice clerk', permissions: ['invoices:write'] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'invoice-clerk', system: false });

    const bad = await call(gw, 'POST', `/v1/tenants/${tenant}/roles`, {
      token,
      body: { id: 'bad', name: 'Bad', inherits: ['nobody'], permissions: ['invoices:read'] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ field: 'inherits.0', message: 'unknown role "nobody"' }]);

    const cycle = await call(gw, 'PATCH', `/v1/tenants/${tenant}/roles/invoice-clerk`, {
      token,
      body: { inherits: ['invoice-clerk'] },
    });
    expect(cycle.status).toBe(400);
    expect(cycle.body.errors[0]).toMatchObject({ field: 'inherits' });
    expect(cycle.body.errors[0].message).toMatch(/inheritance cycle/);

    const system = await call(gw, 'DELETE', `/v1/tenants/${tenant}/roles/viewer`, { token });
    expect([system.status, system.body.reason]).toEqual([409, 'ROLE_SYSTEM_READ_ONLY']);

    const binding = await call(gw, 'POST', `/v1/tenants/${tenant}/role-bindings`, {
      token,
      body: { roleId: 'invoice-clerk', subject: { type: 'user', id: 'u42' }, scope: 'invoices' },
    });
    expect(binding.status).toBe(201);
    const inUse = await call(gw, 'DELETE', `/v1/tenants/${tenant}/roles/invoice-clerk`, { token });
    expect([inUse.status, inUse.body.reason]).toEqual([409, 'ROLE_IN_USE']);
    expect(inUse.body.detail).toContain(binding.body.id);

    const listed = await call(
      gw,
      'GET',
      `/v1/tenants/${tenant}/role-bindings?subjectType=user&subjectId=u42`,
      { token },
    );
    expect(listed.body.items).toEqual([binding.body]);
    expect(
      (
        await call(gw, 'DELETE', `/v1/tenants/${tenant}/role-bindings/${binding.body.id}`, {
          token,
        })
      ).status,
    ).toBe(200);
    expect(
      (await call(gw, 'DELETE', `/v1/tenants/${tenant}/roles/invoice-clerk`, { token })).status,
    ).toBe(200);
    const roles = await call(gw, 'GET', `/v1/tenants/${tenant}/roles?limit=500`, { token });
    expect(roles.body.items.every((r: { system: boolean }) => r.system)).toBe(true);
  });

  it('manages templates and deny rules', async () => {
    const template = await call(gw, 'POST', `/v1/tenants/${tenant}/role-templates`, {
      token,
      body: {
        id: 'project-editor',
        name: 'Editor of {project}',
        variables: ['project'],
        permissions: ['projects/{project}:write'],
      },
    });
    expect(template.status).toBe(201);
    const templates = await call(gw, 'GET', `/v1/tenants/${tenant}/role-templates`, { token });
    expect(templates.body.items.map((t: { id: string }) => t.id)).toEqual(
      expect.arrayContaining(['project-editor', 'department-reader']),
    );
    const rule = await call(gw, 'POST', `/v1/tenants/${tenant}/policies`, {
      token,
      body: { name: 'no deletes', permissions: ['*:delete'] },
    });
    expect(rule.status).toBe(201);
    const changed = await call(gw, 'PATCH', `/v1/tenants/${tenant}/policies/${rule.body.id}`, {
      token,
      body: { scope: 'projects' },
    });
    expect(changed.body).toMatchObject({ scope: 'projects' });
    // The id is the server's: a retry with the same Idempotency-Key gets the same rule.
    const retry = () =>
      call(gw, 'POST', `/v1/tenants/${tenant}/policies`, {
        token,
        body: { name: 'no exports', permissions: ['*:export'] },
        headers: { 'idempotency-key': 'rule-1' },
      });
    const first = await retry();
    const again = await retry();
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.body.id).toBe(first.body.id);
    const rules = await call(gw, 'GET', `/v1/tenants/${tenant}/policies`, { token });
    expect(rules.body.items).toHaveLength(2);
    expect(
      (await call(gw, 'GET', `/v1/tenants/${tenant}/policies/${rule.body.id}`, { token })).body,
    ).toEqual(changed.body);
  });

  it('lets an API key read roles with roles:read, not change them, and not see another tenant', async () => {
    const key = await call(gw, 'POST', `/v1/tenants/${tenant}/api-keys`, {
      token,
      body: { name: 'roles reader', scopes: ['roles:read'] },
    });
    expect(key.status).toBe(201);
    const apiKey = key.body.key as string;
    expect((await call(gw, 'GET', `/v1/tenants/${tenant}/roles`, { apiKey })).status).toBe(200);
    expect(
      (
        await call(gw, 'POST', `/v1/tenants/${tenant}/roles`, {
          apiKey,
          body: { id: 'sneaky', name: 'Sneaky' },
        })
      ).status,
    ).toBe(403);
    expect((await call(gw, 'GET', `/v1/tenants/${other}/roles`, { apiKey })).status).toBe(404);
  });
});
