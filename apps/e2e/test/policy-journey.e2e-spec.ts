/**
 * The policy issue's "tried as a new user would", against the running platform: a tenant admin
 * creates a custom role that inherits from viewer and adds `invoices:write` except on weekends
 * (a deny rule), binds it to a user, reads in `/v1/authz/explain` why a request is allowed or
 * denied, changes the binding and sees the gateway's decision change within a second. And
 * Tenantry's own routes under the same model: an auditor given read access to the audit log
 * and nothing else, refused again as soon as the binding is gone; denials in the audit log.
 */
import { randomBytes } from 'node:crypto';
import {
  createActiveTenant,
  Platform,
  startSmtpServer,
  tokenInMail,
  waitFor,
  type TestSmtpServer,
} from '@tenantry/testing';

interface Reply {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

const OPERATOR = 'operator@journey.test';
const ZONE = 'Europe/Paris';

/** The day of the week now in `ZONE`: `mon` … `sun`. */
function dayInZone(at = new Date()): string {
  return new Intl.DateTimeFormat('en-GB', { weekday: 'short', timeZone: ZONE })
    .format(at)
    .toLowerCase()
    .slice(0, 3);
}

describe('policy journey: custom role, deny rule, explain, propagation, auditor', () => {
  const operatorPassword = randomBytes(18).toString('base64url');
  let smtp: TestSmtpServer;
  let platform: Platform;
  let gw: string;

  async function call(
    method: string,
    path: string,
    options: { token?: string; body?: unknown } = {},
  ): Promise<Reply> {
    const response = await fetch(`${gw}${path}`, {
      method,
      headers: {
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      },
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  /** Invites a user to the tenant and accepts the invitation: their id and access token. */
  async function member(
    tenantId: string,
    adminToken: string,
    email: string,
    roles: string[] = ['member'],
  ): Promise<{ id: string; token: string }> {
    const invited = await call('POST', `/v1/tenants/${tenantId}/users`, {
      token: adminToken,
      body: { email, displayName: email.split('@')[0], roles },
    });
    expect(invited.status).toBe(201);
    const mail = await waitFor(`the invitation of ${email}`, async () =>
      smtp.mails.find((m) => m.to === email),
    );
    const accepted = await call('POST', '/v1/auth/invitations/accept', {
      body: {
        token: tokenInMail(mail.text),
        password: `Journey-${randomBytes(9).toString('hex')}`,
      },
    });
    expect(accepted.status).toBe(200);
    return { id: invited.body.id, token: accepted.body.accessToken };
  }

  /** Polls until `check` gives `allowed`; how long that took after `since` (ms). */
  async function decisionBecomes(
    allowed: boolean,
    check: () => Promise<Reply>,
    since: number,
  ): Promise<number> {
    await waitFor(
      `the decision to become ${allowed ? 'allow' : 'deny'}`,
      async () => (await check()).body?.allowed === allowed,
      { timeoutMs: 5_000, intervalMs: 20 },
    );
    return Date.now() - since;
  }

  beforeAll(async () => {
    smtp = await startSmtpServer();
    platform = await Platform.create({
      env: {
        TENANTRY_ADMIN_EMAIL: OPERATOR,
        TENANTRY_ADMIN_PASSWORD: operatorPassword,
        SMTP_URL: smtp.url,
      },
    });
    await platform.start();
    gw = platform.gatewayUrl;
  });

  afterAll(async () => {
    await platform?.destroy();
    await smtp?.close();
  });

  it('creates a role, binds it, explains decisions, and sees a change at the gateway within a second', async () => {
    const login = await call('POST', '/v1/auth/login', {
      body: { email: OPERATOR, password: operatorPassword },
    });
    const operator: string = login.body.accessToken;
    // Custom roles need a plan that allows them (free allows none).
    const tenant = await createActiveTenant(gw, operator, {
      name: 'Globex',
      slug: 'globex',
      plan: 'enterprise',
    });
    const tenantId = tenant.id;
    const admin = await member(tenantId, operator, 'ada@globex.test', ['tenant-admin']);
    const ivy = await member(tenantId, admin.token, 'ivy@globex.test');
    const base = `/v1/tenants/${tenantId}`;

    // A member may read their own profile and nothing of the tenant's invoices yet.
    const check = (token = ivy.token) =>
      call('POST', '/v1/authz/check', {
        token,
        body: { action: 'write', resource: 'invoices/7' },
      });
    expect((await check()).body).toMatchObject({ allowed: false, reason: { kind: 'no-grant' } });

    // 1. A custom role: viewer's rights, and writing invoices.
    const role = await call('POST', `${base}/roles`, {
      token: admin.token,
      body: {
        id: 'invoice-editor',
        name: 'Invoice editor',
        inherits: ['viewer'],
        permissions: ['invoices:write'],
      },
    });
    expect(role.status).toBe(201);
    // … except on weekends, in Paris: a deny rule for whoever holds the role.
    const weekend = await call('POST', `${base}/policies`, {
      token: admin.token,
      body: {
        name: 'No invoice changes at weekends',
        permissions: ['invoices:write'],
        subjects: [{ type: 'role', id: 'invoice-editor' }],
        conditions: [
          { type: 'time-window', timeZone: ZONE, days: ['sat', 'sun'], from: '00:00', to: '24:00' },
        ],
      },
    });
    expect(weekend.status).toBe(201);

    // 2. Bound to Ivy.
    const bound = Date.now();
    const binding = await call('POST', `${base}/role-bindings`, {
      token: admin.token,
      body: { roleId: 'invoice-editor', subject: { type: 'user', id: ivy.id } },
    });
    expect(binding.status).toBe(201);
    const isWeekend = ['sat', 'sun'].includes(dayInZone());
    expect(await decisionBecomes(!isWeekend, check, bound)).toBeLessThan(1_000);
    const allowedNow = await check();
    expect(allowedNow.body).toMatchObject(
      isWeekend
        ? { allowed: false, reason: { kind: 'deny-rule', ruleId: weekend.body.id } }
        : {
            allowed: true,
            reason: {
              kind: 'granted',
              roleId: 'invoice-editor',
              bindingId: binding.body.id,
              permission: 'invoices:write',
            },
          },
    );
    // Inherited from viewer: reading anything.
    const read = await call('POST', '/v1/authz/check', {
      token: ivy.token,
      body: { action: 'read', resource: 'reports/q3' },
    });
    expect(read.body).toMatchObject({ allowed: true, reason: { kind: 'granted' } });

    // 3. The admin asks why, about Ivy: the explanation names the binding, the role, the rule.
    const ivyPrincipal = { kind: 'user', id: ivy.id, groups: ['tenantry:role:member'] };
    const explained = await call('POST', '/v1/authz/explain', {
      token: admin.token,
      body: { principal: ivyPrincipal, action: 'write', resource: 'invoices/7' },
    });
    expect(explained.status).toBe(200);
    const steps: string = explained.body.steps.join('\n');
    expect(steps).toContain(binding.body.id);
    expect(steps).toContain('Invoice editor');
    expect(steps).toContain('No invoice changes at weekends');
    expect(explained.body.decision.allowed).toBe(!isWeekend);

    // Make today the rule's day: denied now, whatever the day, and explained as the rule.
    const today = await call('PATCH', `${base}/policies/${weekend.body.id}`, {
      token: admin.token,
      body: {
        conditions: [
          { type: 'time-window', timeZone: ZONE, days: [dayInZone()], from: '00:00', to: '24:00' },
        ],
      },
    });
    expect(today.status).toBe(200);
    await decisionBecomes(false, check, Date.now());
    const denied = await call('POST', '/v1/authz/explain', {
      token: ivy.token,
      body: { action: 'write', resource: 'invoices/7' },
    });
    expect(denied.body.decision).toMatchObject({
      allowed: false,
      reason: { kind: 'deny-rule', ruleId: weekend.body.id },
    });
    expect(denied.body.decision.reason.message).toContain('No invoice changes at weekends');
    // Back to weekends.
    await call('PATCH', `${base}/policies/${weekend.body.id}`, {
      token: admin.token,
      body: { conditions: weekend.body.conditions },
    });

    // 4. The binding scoped to one customer's invoices: the gateway follows within a second.
    await call('DELETE', `${base}/role-bindings/${binding.body.id}`, { token: admin.token });
    const changed = Date.now();
    const scoped = await call('POST', `${base}/role-bindings`, {
      token: admin.token,
      body: {
        roleId: 'invoice-editor',
        subject: { type: 'user', id: ivy.id },
        scope: 'customers/initech',
      },
    });
    expect(scoped.status).toBe(201);
    expect(await decisionBecomes(false, check, changed)).toBeLessThan(1_000);
    const inScope = await call('POST', '/v1/authz/check', {
      token: ivy.token,
      body: { action: 'read', resource: 'customers/initech/invoices/7' },
    });
    expect(inScope.body).toMatchObject({ allowed: true, reason: { bindingId: scoped.body.id } });

    // Someone without authz:check may not ask about others.
    const nosy = await call('POST', '/v1/authz/check', {
      token: ivy.token,
      body: { principal: { kind: 'user', id: admin.id }, action: 'write', resource: 'users' },
    });
    expect(nosy.status).toBe(403);
  });

  it("grants an auditor the audit log and nothing else, and refuses them again once it's revoked", async () => {
    const login = await call('POST', '/v1/auth/login', {
      body: { email: OPERATOR, password: operatorPassword },
    });
    const operator: string = login.body.accessToken;
    const tenant = await createActiveTenant(gw, operator, {
      name: 'Initech',
      slug: 'initech',
      plan: 'enterprise',
    });
    const tenantId = tenant.id;
    const base = `/v1/tenants/${tenantId}`;
    const admin = await member(tenantId, operator, 'bill@initech.test', ['tenant-admin']);
    const otto = await member(tenantId, admin.token, 'otto@initech.test');

    // A member: no audit log, no users.
    expect((await call('GET', `${base}/audit-events`, { token: otto.token })).status).toBe(403);

    await call('POST', `${base}/roles`, {
      token: admin.token,
      body: { id: 'audit-reader', name: 'Audit reader', permissions: ['audit:read'] },
    });
    const granted = Date.now();
    const binding = await call('POST', `${base}/role-bindings`, {
      token: admin.token,
      body: { roleId: 'audit-reader', subject: { type: 'user', id: otto.id } },
    });
    expect(binding.status).toBe(201);
    const auditLog = () => call('GET', `${base}/audit-events`, { token: otto.token });
    await waitFor(
      'the auditor to read the audit log',
      async () => (await auditLog()).status === 200,
      {
        timeoutMs: 5_000,
        intervalMs: 20,
      },
    );
    expect(Date.now() - granted).toBeLessThan(1_000);
    // Nothing else.
    const users = await call('GET', `${base}/users`, { token: otto.token });
    expect(users.status).toBe(403);
    expect(users.body).toMatchObject({ reason: 'AUTH_NOT_PERMITTED' });
    expect(users.body.detail).toContain('users:read');
    expect((await call('GET', `${base}/role-bindings`, { token: otto.token })).status).toBe(403);

    // Revoked: refused again within a second.
    const revoked = Date.now();
    expect(
      (await call('DELETE', `${base}/role-bindings/${binding.body.id}`, { token: admin.token }))
        .status,
    ).toBe(200);
    await waitFor('the auditor to be refused', async () => (await auditLog()).status === 403, {
      timeoutMs: 5_000,
      intervalMs: 20,
    });
    expect(Date.now() - revoked).toBeLessThan(1_000);

    // Every refusal is in the tenant's audit log, with the actor and the route.
    const denials = await waitFor('the denials in the audit log', async () => {
      const page = await call('GET', `${base}/audit-events?limit=100`, { token: admin.token });
      const found = (page.body.items ?? []).filter(
        (e: { action: string; actor: { id: string } }) =>
          e.action === 'authz.denied' && e.actor.id === otto.id,
      );
      return found.length >= 3 ? found : undefined;
    });
    expect(denials[0]).toMatchObject({ category: 'authz', outcome: expect.any(String) });
    expect(JSON.stringify(denials)).toContain(`/v1/tenants/:tenantId/users`);
  });
});
