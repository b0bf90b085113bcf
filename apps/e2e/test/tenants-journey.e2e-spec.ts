/**
 * The tenants issue's "tried as a new user would", through the gateway only, against the
 * running platform (every service, real PostgreSQL, Redis, NATS, and an SMTP server started
 * here that catches the first admin's invitation):
 *
 * an operator writes a tenant template, renders it, creates a tenant from it (variables, a
 * dotted override) and watches its provisioning run's steps succeed one by one; the first
 * admin accepts the invitation from the mail, logs in and holds the plan's roles (and the
 * tenant's policy has only those); the tenant hits its user quota and a plan downgrade is
 * refused, each naming the limit; organizations form a tree whose settings cascade, a move
 * that would make a cycle is refused; suspended, its API key is refused with TENANT_SUSPENDED
 * (the admin's token too, or as revoked: the suspension ends every session) and sign-in is
 * refused, all accepted again once reactivated; deprovisioned with no grace, the tenant ends
 * `deleted`, no row with its id is left in identity, policy or audit (read in PostgreSQL
 * directly), and the platform's audit chain holds the deletion certificate saying what was
 * removed where, which an operator reads in the platform's audit log through the gateway.
 * Then three tenants in one bulk operation.
 */
import { randomBytes } from 'node:crypto';
import { Namespace, PLATFORM_TENANT_ID, type BackendServiceName } from '@tenantry/contracts';
import {
  LOCAL_INFRA,
  Platform,
  startSmtpServer,
  tokenInMail,
  waitFor,
  waitForActiveTenant,
  type TestSmtpServer,
} from '@tenantry/testing';
import pg from 'pg';

interface Reply {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

const OPERATOR = 'operator@tenants-journey.test';
const APP = 'https://app.tenants-journey.test';
/** The provisioning pipeline's steps, in order (the list). */
const PROVISION_STEPS = [
  'validate',
  'allocate-storage',
  'identity-bootstrap',
  'policy-bootstrap',
  'audit-genesis',
  'verify',
  'activate',
];

function claims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'));
}

/** A superuser connection to one service's database of the platform's namespace (past RLS). */
async function database(platform: Platform, service: BackendServiceName): Promise<pg.Client> {
  const url = new URL(LOCAL_INFRA.bootstrapUrl);
  url.pathname = `/${new Namespace(platform.namespace).database(service)}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  return client;
}

/** Rows with this tenant id in every table of the database that has a tenant_id column. */
async function tenantRows(db: pg.Client, tenantId: string): Promise<Record<string, number>> {
  const { rows: tables } = await db.query<{ schema: string; table: string }>(`
    SELECT n.nspname AS schema, c.relname AS table
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
     WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND NOT c.relispartition
     ORDER BY 1, 2`);
  const counts: Record<string, number> = {};
  for (const { schema, table } of tables) {
    const name = `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(table)}`;
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${name} WHERE tenant_id::text = $1`,
      [tenantId],
    );
    counts[schema === 'public' ? table : `${schema}.${table}`] = rows[0]!.n;
  }
  return counts;
}

describe('tenants journey: template → provisioning → first admin → quotas → organizations → suspend → delete', () => {
  const operatorPassword = randomBytes(18).toString('base64url');
  const adminPassword = `Correct-Horse-${randomBytes(6).toString('hex')}`;
  const templateKey = 'team-workspace';
  const slug = 'hooli';
  const adminEmail = 'gavin@hooli.test';
  const trialEndsAt = new Date(Date.now() + 30 * 24 * 3600_000).toISOString();
  let smtp: TestSmtpServer;
  let platform: Platform;
  let gw: string;
  let operator: string;
  /** Filled as the journey goes. */
  let tenantId: string;
  let runId: string;
  let plan: { key: string; roles: string[]; quotas: Record<string, number | null> };
  let adminToken: string;
  let adminId: string;
  let apiKey: string;
  /** The deletion certificate's data, as the platform chain holds it. */
  let certificate: Record<string, unknown>;
  const databases = {} as Record<'identity' | 'policy' | 'audit', pg.Client>;

  async function call(
    method: string,
    path: string,
    options: { token?: string; apiKey?: string; body?: unknown } = {},
  ): Promise<Reply> {
    const token = options.apiKey ? undefined : (options.token ?? operator);
    const response = await fetch(`${gw}${path}`, {
      method,
      headers: {
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(options.apiKey ? { 'x-api-key': options.apiKey } : {}),
      },
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: kept as text
    }
    return { status: response.status, headers: response.headers, body };
  }

  /** `what` answered `status`; the reply in the failure message otherwise. */
  function expectStatus(reply: Reply, status: number | number[], what: string): void {
    const statuses = Array.isArray(status) ? status : [status];
    expect({ what, status: reply.status, body: reply.body }).toEqual({
      what,
      status: statuses.includes(reply.status) ? reply.status : statuses[0],
      body: reply.body,
    });
  }

  /** The tenant's latest run as an operator sees it, once it has reached `status`. */
  async function runReaching(status: string, timeoutMs = 60_000) {
    let last: unknown;
    try {
      return await waitFor(
        `the tenant's run to be ${status}`,
        async () => {
          const reply = await call('GET', `/v1/tenants/${tenantId}/provisioning`);
          last = reply.body;
          if (reply.status !== 200) return undefined;
          if (['failed', 'cancelled'].includes(reply.body.status) && status !== reply.body.status)
            throw new Error(`the run ended ${reply.body.status}: ${JSON.stringify(reply.body)}`);
          return reply.body.status === status ? reply.body : undefined;
        },
        { timeoutMs, intervalMs: 100 },
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\nlast seen: ${JSON.stringify(last, null, 2)}`);
    }
  }

  beforeAll(async () => {
    smtp = await startSmtpServer();
    platform = await Platform.create({
      env: {
        TENANTRY_ADMIN_EMAIL: OPERATOR,
        TENANTRY_ADMIN_PASSWORD: operatorPassword,
        SMTP_URL: smtp.url,
        TENANTRY_APP_URL: APP,
      },
    });
    await platform.start();
    gw = platform.gatewayUrl;
    const login = await call('POST', '/v1/auth/login', {
      token: '',
      body: { email: OPERATOR, password: operatorPassword },
    });
    expectStatus(login, 200, 'the operator logs in');
    operator = login.body.accessToken;
    for (const service of ['identity', 'policy', 'audit'] as const)
      databases[service] = await database(platform, service);
  }, 180_000);

  afterAll(async () => {
    for (const db of Object.values(databases)) await db.end().catch(() => undefined);
    await platform?.destroy();
    await smtp?.close();
  });

  it('lists the plans with their quotas, features and roles', async () => {
    const plans = await call('GET', '/v1/plans');
    expectStatus(plans, 200, 'GET /v1/plans');
    const keys = plans.body.items.map((p: { key: string }) => p.key);
    expect(keys).toEqual(['free', 'starter', 'professional', 'enterprise', 'custom']);
    const free = plans.body.items.find((p: { key: string }) => p.key === 'free');
    expect(free.quotas).toMatchObject({ users: 5, ssoConnections: 0, customRoles: 0 });
    plan = plans.body.items.find((p: { key: string }) => p.key === 'professional');
    expect(plan.quotas.customRoles).toBeGreaterThan(0);
    const enterprise = plans.body.items.find((p: { key: string }) => p.key === 'enterprise');
    // The professional plan gives fewer roles than enterprise: what the policy check below tells apart.
    expect(enterprise.roles.length).toBeGreaterThan(plan.roles.length);
    expect(enterprise.roles).toEqual(expect.arrayContaining(plan.roles));
  });

  it('writes a template, renders it, and refuses an invalid one naming the path of the error', async () => {
    const template = await call('POST', '/v1/tenant-templates', {
      body: {
        key: templateKey,
        name: 'Team workspace',
        description: 'A professional workspace with its first admin and a trial.',
        variables: [
          { name: 'company', type: 'string', description: 'The display name' },
          { name: 'slug', type: 'string' },
          { name: 'adminEmail', type: 'string' },
          { name: 'region', type: 'string', required: false, default: 'local' },
          { name: 'trialEnds', type: 'timestamp' },
        ],
        body: {
          name: '{{company}}',
          slug: '{{slug}}',
          plan: 'professional',
          region: '{{region}}',
          admin: { email: '{{adminEmail}}', displayName: 'First Admin' },
          settings: { sessionTimeoutMinutes: 480, mfaRequired: false },
          limitOverrides: { storageMb: 2048 },
          trialEndsAt: '{{trialEnds}}',
        },
      },
    });
    expectStatus(template, 201, 'POST /v1/tenant-templates');
    expect(template.body).toMatchObject({ key: templateKey, name: 'Team workspace' });

    const variables = { company: 'Hooli', slug, adminEmail, trialEnds: trialEndsAt };
    // The user quota of this tenant: 2 (an override by dotted path, merged into the body's).
    const overrides = { 'limitOverrides.users': 2, 'settings.sessionTimeoutMinutes': 240 };
    const rendered = await call('POST', `/v1/tenant-templates/${templateKey}/render`, {
      body: { variables, overrides },
    });
    expectStatus(rendered, 200, 'render the template');
    expect(rendered.body.request).toMatchObject({
      name: 'Hooli',
      slug,
      plan: 'professional',
      region: 'local',
      admin: { email: adminEmail },
      settings: { sessionTimeoutMinutes: 240, mfaRequired: false },
      limitOverrides: { storageMb: 2048, users: 2 },
      trialEndsAt,
    });

    // An override that makes the request invalid: refused, naming where.
    const invalid = await call('POST', `/v1/tenant-templates/${templateKey}/render`, {
      body: { variables, overrides: { plan: 'platinum' } },
    });
    expectStatus(invalid, [400, 422], 'render with an invalid plan');
    expect(JSON.stringify(invalid.body)).toContain('plan');
    expect(JSON.stringify(invalid.body)).toMatch(/free, starter, professional/);
    // A missing required variable, named.
    const missing = await call('POST', `/v1/tenant-templates/${templateKey}/render`, {
      body: { variables: { company: 'Hooli', slug } },
    });
    expectStatus(missing, [400, 422], 'render without adminEmail');
    expect(JSON.stringify(missing.body)).toContain('adminEmail');
    // An invalid template body (a slug no variable could make valid) is refused with its path.
    const bad = await call('POST', '/v1/tenant-templates', {
      body: {
        key: 'broken',
        name: 'Broken',
        variables: [],
        body: { name: 'Broken', slug: 'Not A Slug', plan: 'free' },
      },
    });
    expectStatus(bad, [400, 422], 'a template whose body is no tenant');
    expect(JSON.stringify(bad.body)).toContain('slug');
  });

  it('creates a tenant from the template (202) and shows every provisioning step succeed, with attempts and timings', async () => {
    const accepted = await call('POST', `/v1/tenant-templates/${templateKey}/tenants`, {
      body: {
        variables: { company: 'Hooli', slug, adminEmail, trialEnds: trialEndsAt },
        overrides: { 'limitOverrides.users': 2, 'settings.sessionTimeoutMinutes': 240 },
      },
    });
    expectStatus(accepted, 202, 'POST /v1/tenant-templates/{key}/tenants');
    expect(accepted.body.tenant).toMatchObject({ slug, status: 'provisioning' });
    tenantId = accepted.body.tenant.id;
    runId = accepted.body.runId;
    expect(accepted.body.tenant.runId).toBe(runId);

    // Watched as an operator would: the run's steps as they go.
    const seen = new Set<string>();
    const run = await waitFor(
      'the provisioning run to succeed',
      async () => {
        const reply = await call('GET', `/v1/tenants/${tenantId}/provisioning`);
        expectStatus(reply, 200, 'GET /v1/tenants/{id}/provisioning');
        for (const step of reply.body.steps) seen.add(`${step.name}:${step.status}`);
        if (reply.body.status === 'failed')
          throw new Error(`provisioning failed: ${JSON.stringify(reply.body, null, 2)}`);
        return reply.body.status === 'succeeded' ? reply.body : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    expect(run).toMatchObject({ id: runId, tenantId, kind: 'provision', failedStep: null });
    expect(run.steps.map((s: { name: string }) => s.name)).toEqual(PROVISION_STEPS);
    for (const step of run.steps) {
      expect({ step: step.name, status: step.status }).toEqual({
        step: step.name,
        status: 'succeeded',
      });
      expect(step.attempts).toBeGreaterThanOrEqual(1);
      expect(step.durationMs).toBeGreaterThanOrEqual(0);
      expect(Date.parse(step.finishedAt)).toBeGreaterThanOrEqual(Date.parse(step.startedAt));
    }
    // One after the other, in order.
    for (let i = 1; i < run.steps.length; i++)
      expect(Date.parse(run.steps[i].startedAt)).toBeGreaterThanOrEqual(
        Date.parse(run.steps[i - 1].finishedAt),
      );
    const took = Date.parse(run.finishedAt) - Date.parse(run.createdAt);
    process.stdout.write(`tenants journey: provisioned in ${took} ms; seen ${[...seen]}\n`);

    const tenant = await waitForActiveTenant(gw, operator, tenantId);
    expect(tenant).toMatchObject({
      name: 'Hooli',
      slug,
      plan: 'professional',
      region: 'local',
      isolation: 'rls',
      runId,
      trialEndsAt: expect.any(String),
      settings: { sessionTimeoutMinutes: 240, mfaRequired: false },
      limitOverrides: { users: 2, storageMb: 2048 },
      limits: { users: 2, storageMb: 2048, customRoles: plan.quotas.customRoles },
    });
    expect(Date.parse(tenant.trialEndsAt!)).toBe(Date.parse(trialEndsAt));
  });

  it('opens the tenant’s own audit log with its genesis entry, and records its activation under the operator who asked', async () => {
    const entries = await waitFor(
      'the activation in the tenant’s audit log',
      async () => {
        const page = await call('GET', `/v1/tenants/${tenantId}/audit-events?limit=100`);
        expectStatus(page, 200, "the tenant's audit log");
        const items = page.body.items as {
          seq: number;
          action: string;
          actor: { type: string; id: string };
          requestId?: string;
        }[];
        return items.some((e) => e.action === 'tenant.activated') ? items : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    const bySeq = [...entries].sort((a, b) => a.seq - b.seq);
    expect({ first: bySeq[0], chain: bySeq.map((e) => `${e.seq} ${e.action}`) }).toMatchObject({
      first: { seq: 1, action: 'tenant.genesis' },
    });
    expect(entries.find((e) => e.action === 'tenant.activated')).toMatchObject({
      actor: { type: 'operator', id: claims(operator).sub },
    });
  });

  it('lets the first admin accept the invitation from the mail, log in, and hold the plan’s roles', async () => {
    const mail = await waitFor('the first admin’s invitation', async () =>
      smtp.mails.find((m) => m.to === adminEmail),
    );
    expect(mail.text).toContain(`${APP}/accept-invitation?token=`);
    const accepted = await call('POST', '/v1/auth/invitations/accept', {
      token: '',
      body: { token: tokenInMail(mail.text), password: adminPassword },
    });
    expectStatus(accepted, 200, 'accept the invitation');
    adminId = claims(accepted.body.accessToken).sub as string;

    const login = await call('POST', '/v1/auth/login', {
      token: '',
      body: { email: adminEmail, password: adminPassword, tenant: slug },
    });
    expectStatus(login, 200, 'the first admin logs in');
    adminToken = login.body.accessToken;
    expect(claims(adminToken)).toMatchObject({ sub: adminId, tid: tenantId });

    const me = await call('GET', '/v1/me', { token: adminToken });
    expectStatus(me, 200, 'GET /v1/me');
    expect(me.body).toMatchObject({ kind: 'user', tenantId, roles: ['tenant-admin'] });
    // Routes only a tenant admin may use.
    const users = await call('GET', `/v1/tenants/${tenantId}/users`, { token: adminToken });
    expectStatus(users, 200, "the admin lists the tenant's users");
    expect(users.body.items).toEqual([
      expect.objectContaining({ id: adminId, email: adminEmail, status: 'active' }),
    ]);
    const key = await call('POST', `/v1/tenants/${tenantId}/api-keys`, {
      token: adminToken,
      body: { name: 'user reader', scopes: ['users:read'] },
    });
    expectStatus(key, 201, 'the admin creates an API key');
    apiKey = key.body.key;
    expectStatus(
      await call('GET', `/v1/tenants/${tenantId}/users`, { apiKey }),
      200,
      'the API key lists users',
    );

    // The tenant's policy holds the plan's system roles and no others.
    const roles = await call('GET', `/v1/tenants/${tenantId}/roles?limit=500`, {
      token: adminToken,
    });
    expectStatus(roles, 200, "the admin lists the tenant's roles");
    const ids = roles.body.items.map((r: { id: string }) => r.id).sort();
    expect(ids).toEqual([...plan.roles].sort());
    expect(roles.body.items.every((r: { system: boolean }) => r.system)).toBe(true);
  });

  it('refuses the user past the quota and a plan downgrade below current usage, naming the limit', async () => {
    const base = `/v1/tenants/${tenantId}`;
    const second = await call('POST', `${base}/users`, {
      token: adminToken,
      body: { email: 'richard@hooli.test', displayName: 'Richard', roles: ['member'] },
    });
    expectStatus(second, 201, 'the second user (the limit is 2)');
    const third = await call('POST', `${base}/users`, {
      token: adminToken,
      body: { email: 'dinesh@hooli.test', displayName: 'Dinesh', roles: ['member'] },
    });
    expectStatus(third, [409, 422], 'the third user');
    expect(third.body).toMatchObject({ reason: 'QUOTA_EXCEEDED' });
    expect(third.body.detail).toMatch(/\busers\b/);
    expect(third.body.detail).toMatch(/\b2\b/);
    const listed = await call('GET', `${base}/users`, { token: adminToken });
    expect(listed.body.items.map((u: { email: string }) => u.email).sort()).toEqual([
      adminEmail,
      'richard@hooli.test',
    ]);

    // A custom role (the plan allows some), then a downgrade to a plan that allows none.
    const role = await call('POST', `${base}/roles`, {
      token: adminToken,
      body: { id: 'release-manager', name: 'Release manager', permissions: ['releases:write'] },
    });
    expectStatus(role, 201, 'a custom role');
    const downgrade = await call('POST', `${base}/plan`, { body: { plan: 'free' } });
    expectStatus(downgrade, [409, 422], 'a downgrade to free now');
    expect(['QUOTA_EXCEEDED', 'TENANT_PLAN_DOWNGRADE_REFUSED']).toContain(downgrade.body.reason);
    expect(downgrade.body.detail).toMatch(/customRoles/);
    expect((await call('GET', base)).body).toMatchObject({ plan: 'professional' });
    // Scheduled for the end of the period instead: accepted and kept pending.
    const later = await call('POST', `${base}/plan`, {
      body: { plan: 'starter', when: 'period-end' },
    });
    expectStatus(later, 200, 'a downgrade at period end');
    expect(later.body).toMatchObject({
      plan: 'professional',
      pendingPlanChange: { plan: 'starter', at: expect.any(String) },
    });
  });

  it('keeps organizations as a tree: settings cascade, a move into its own subtree is refused', async () => {
    const orgs = `/v1/tenants/${tenantId}/organizations`;
    const create = async (body: Record<string, unknown>) => {
      const reply = await call('POST', orgs, { token: adminToken, body });
      expectStatus(reply, 201, `create organization ${String(body.slug)}`);
      return reply.body;
    };
    const emea = await create({
      name: 'EMEA',
      slug: 'emea',
      settings: { locale: 'en-GB', currency: 'EUR' },
    });
    const dach = await create({
      name: 'DACH',
      slug: 'dach',
      parentId: emea.id,
      settings: { locale: 'de-DE' },
    });
    const berlin = await create({ name: 'Berlin', slug: 'berlin', parentId: dach.id });
    expect(berlin).toMatchObject({
      parentId: dach.id,
      depth: 3,
      resourcePath: 'orgs/emea/dach/berlin',
      settings: {},
      effectiveSettings: { locale: 'de-DE', currency: 'EUR' },
    });
    const subtree = await call('GET', `${orgs}?under=${emea.id}`, { token: adminToken });
    expectStatus(subtree, 200, 'the subtree of EMEA');
    expect(subtree.body.items.map((o: { slug: string }) => o.slug).sort()).toEqual([
      'berlin',
      'dach',
    ]);

    const cycle = await call('POST', `${orgs}/${emea.id}/move`, {
      token: adminToken,
      body: { parentId: berlin.id },
    });
    expectStatus(cycle, [400, 409, 422], 'move EMEA under its own grandchild');
    expect(JSON.stringify(cycle.body)).toMatch(/cycle|own subtree|descendant/i);
    expect((await call('GET', `${orgs}/${emea.id}`, { token: adminToken })).body).toMatchObject({
      parentId: null,
      depth: 1,
    });

    // Moved to the top level: only its own settings apply now.
    const moved = await call('POST', `${orgs}/${berlin.id}/move`, {
      token: adminToken,
      body: { parentId: null },
    });
    expectStatus(moved, 200, 'move Berlin to the top level');
    expect(moved.body).toMatchObject({
      parentId: null,
      depth: 1,
      resourcePath: 'orgs/berlin',
      effectiveSettings: {},
    });
    // A change at the top cascades to what is below.
    const changed = await call('PATCH', `${orgs}/${emea.id}`, {
      token: adminToken,
      body: { settings: { locale: 'en-GB', currency: 'GBP' } },
    });
    expectStatus(changed, 200, 'change the settings of EMEA');
    expect(
      (await call('GET', `${orgs}/${dach.id}`, { token: adminToken })).body.effectiveSettings,
    ).toEqual({ locale: 'de-DE', currency: 'GBP' });
  });

  it('refuses the suspended tenant’s token and API key with TENANT_SUSPENDED, and accepts them again once reactivated', async () => {
    const usersPath = `/v1/tenants/${tenantId}/users`;
    const suspended = await call('POST', `/v1/tenants/${tenantId}/suspend`, {
      body: { reason: 'invoice overdue' },
    });
    expectStatus(suspended, 200, 'suspend');
    expect(suspended.body).toMatchObject({ status: 'suspended', statusReason: 'invoice overdue' });

    // The API key (suspension does not revoke keys): refused by the gateway, naming the tenant
    // and its status, as soon as the tenant's access state reaches it.
    const refused = await waitFor(
      'the API key to be refused',
      async () => {
        const reply = await call('GET', usersPath, { apiKey });
        return reply.status !== 200 ? reply : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 50 },
    );
    expect(refused.body).toMatchObject({ status: 403, reason: 'TENANT_SUSPENDED' });
    expect(refused.body.detail).toContain(tenantId);
    expect(refused.body.detail).toMatch(/suspended/);
    expect(refused.body.detail).toContain('invoice overdue');
    // The admin's token: refused too. Its session was revoked by the suspension as well, and
    // whichever reaches the gateway first answers: the tenant's status (403 TENANT_SUSPENDED)
    // or the revocation (401 AUTH_SESSION_REVOKED); never the data again.
    const tokenRefused = await waitFor(
      "the admin's token to be refused",
      async () => {
        const reply = await call('GET', usersPath, { token: adminToken });
        return reply.status !== 200 ? reply : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 50 },
    );
    expect([
      [403, 'TENANT_SUSPENDED'],
      [401, 'AUTH_SESSION_REVOKED'],
    ]).toContainEqual([tokenRefused.status, tokenRefused.body.reason]);
    // No new session either (once identity has heard of the suspension).
    const login = await waitFor(
      'sign-in to be refused',
      async () => {
        const reply = await call('POST', '/v1/auth/login', {
          token: '',
          body: { email: adminEmail, password: adminPassword, tenant: slug },
        });
        return reply.status !== 200 ? reply : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 100 },
    );
    expectStatus(login, 403, 'login to a suspended tenant');
    expect(login.body.reason).toBe('TENANT_SUSPENDED');
    // The operator still sees it.
    expect((await call('GET', `/v1/tenants/${tenantId}`)).body).toMatchObject({
      status: 'suspended',
    });

    const reactivated = await call('POST', `/v1/tenants/${tenantId}/reactivate`);
    expectStatus(reactivated, 200, 'reactivate');
    expect(reactivated.body).toMatchObject({ status: 'active' });
    await waitFor(
      'the API key to be accepted again',
      async () => (await call('GET', usersPath, { apiKey })).status === 200,
      { timeoutMs: 5_000, intervalMs: 50 },
    );
    // The suspension revoked the sessions: the old token stays refused, the admin signs in again.
    const old = await waitFor(
      'the old token to be refused as revoked',
      async () => {
        const reply = await call('GET', usersPath, { token: adminToken });
        return reply.status === 401 ? reply : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 50 },
    );
    expect(old.body.reason).toBe('AUTH_SESSION_REVOKED');
    // (once identity has heard of the reactivation: it follows tenant events on its own)
    const again = await waitFor(
      'sign-in to be accepted again',
      async () => {
        const reply = await call('POST', '/v1/auth/login', {
          token: '',
          body: { email: adminEmail, password: adminPassword, tenant: slug },
        });
        return reply.body?.reason !== 'TENANT_SUSPENDED' ? reply : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 100 },
    );
    expectStatus(again, 200, 'login after reactivation');
    adminToken = again.body.accessToken;
    expectStatus(
      await call('GET', usersPath, { token: adminToken }),
      200,
      'the admin after reactivation',
    );
  });

  it('deprovisions with no grace: deleted, no row of the tenant left in identity, policy or audit, a deletion certificate in the platform’s chain', async () => {
    // Before: the tenant has rows in every participant (so that "none after" means something).
    const before: Record<string, Record<string, number>> = {};
    for (const [service, db] of Object.entries(databases)) {
      before[service] = await tenantRows(db, tenantId);
      const total = Object.values(before[service]!).reduce((a, b) => a + b, 0);
      expect({ service, hasRows: total > 0 }).toEqual({ service, hasRows: true });
    }

    const deprovision = await call('POST', `/v1/tenants/${tenantId}/deprovision`, {
      body: { graceHours: 0, reason: 'the customer left' },
    });
    expectStatus(deprovision, 202, 'deprovision');
    expect(deprovision.body).toMatchObject({ id: tenantId, status: 'deprovisioning' });

    const deleted = await waitFor(
      'the tenant to be deleted',
      async () => {
        const reply = await call('GET', `/v1/tenants/${tenantId}`);
        return reply.body?.status === 'deleted' ? reply.body : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    ).catch(async (error: Error) => {
      const run = await call('GET', `/v1/tenants/${tenantId}/provisioning`);
      throw new Error(`${error.message}\nits run: ${JSON.stringify(run.body, null, 2)}`);
    });
    expect(deleted).toMatchObject({ id: tenantId, slug, status: 'deleted' });

    // Nothing of it is left, in any table with a tenant_id of identity, policy and audit.
    const after: Record<string, Record<string, number>> = {};
    for (const [service, db] of Object.entries(databases))
      after[service] = await tenantRows(db, tenantId);
    const left = Object.entries(after).flatMap(([service, tables]) =>
      Object.entries(tables)
        .filter(([, n]) => n > 0)
        .map(([table, n]) => `${service}.${table}: ${n}`),
    );
    expect(left).toEqual([]);
    // The tenant's requests are refused (deleted), its admin cannot sign in.
    const refused = await call('GET', `/v1/tenants/${tenantId}/users`, { apiKey });
    expect([401, 403]).toContain(refused.status);

    // The deprovision run: export → remove everywhere → certificate → deleted.
    const run = await runReaching('succeeded');
    expect(run).toMatchObject({ tenantId, kind: 'deprovision' });
    for (const step of run.steps)
      expect({ step: step.name, status: step.status }).toEqual({
        step: step.name,
        status: 'succeeded',
      });

    // The deletion certificate: in the platform's own chain (the tenant's is gone).
    const row = await waitFor(
      'the deletion certificate in the platform chain',
      async () => {
        const { rows } = await databases.audit.query(
          `SELECT action, target_type, target_id, data, seq FROM audit_events
            WHERE tenant_id = $1 AND action = 'tenant.deletion-certificate' AND target_id = $2`,
          [PLATFORM_TENANT_ID, tenantId],
        );
        return rows[0];
      },
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    expect(row).toMatchObject({ target_type: 'tenant', seq: expect.anything() });
    certificate = row.data;
    expect(certificate).toMatchObject({
      tenantId,
      slug,
      runId: run.id,
      exportSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    // What was removed where: identity's users (two), policy's and audit's rows, by table.
    const removed = certificate.removed as Record<string, Record<string, number>>;
    for (const service of ['identity', 'policy', 'audit'])
      expect({ service, tables: Object.keys(removed[service] ?? {}).length > 0 }).toEqual({
        service,
        tables: true,
      });
    expect(removed.identity).toMatchObject({ users: 2 });
    process.stdout.write(`tenants journey: certificate ${JSON.stringify(certificate)}\n`);

    // And still nothing after the certificate was written (nothing came back late).
    for (const [service, db] of Object.entries(databases)) {
      const rows = await tenantRows(db, tenantId);
      expect({ service, left: Object.entries(rows).filter(([, n]) => n > 0) }).toEqual({
        service,
        left: [],
      });
    }
    // The slug is free again.
    const reuse = await call('POST', '/v1/tenants', { body: { name: 'Hooli again', slug } });
    expectStatus(reuse, 202, 'a new tenant with the deleted one’s slug');
    await waitForActiveTenant(gw, operator, reuse.body.tenant.id);
  });

  it('shows the deletion certificate in the platform’s audit log through the gateway', async () => {
    expect(certificate).toBeDefined(); // the test above ran
    const page = await call(
      'GET',
      '/v1/platform/audit-events?action=tenant.deletion-certificate&limit=100',
    );
    expectStatus(page, 200, "an operator reads the platform's audit log");
    const entry = page.body.items.find(
      (e: { target?: { id: string } }) => e.target?.id === tenantId,
    );
    expect(entry).toMatchObject({
      tenantId: PLATFORM_TENANT_ID,
      action: 'tenant.deletion-certificate',
      target: { type: 'tenant', id: tenantId },
      data: certificate,
      seq: expect.any(Number),
      hash: expect.any(String),
    });
  });

  it('creates three tenants in one bulk operation, which progresses to succeeded', async () => {
    const slugs = ['bulk-one', 'bulk-two', 'bulk-three'];
    const started = await call('POST', '/v1/bulk-operations/tenants', {
      body: { tenants: slugs.map((s) => ({ name: `Bulk ${s}`, slug: s })) },
    });
    expectStatus(started, 202, 'POST /v1/bulk-operations/tenants');
    expect(started.body).toMatchObject({ kind: 'tenants.create', total: 3 });
    const operation = await waitFor(
      'the bulk operation to succeed',
      async () => {
        const reply = await call('GET', `/v1/bulk-operations/${started.body.id}`);
        expectStatus(reply, 200, 'GET /v1/bulk-operations/{id}');
        if (['failed', 'partial'].includes(reply.body.status))
          throw new Error(`the operation ended ${JSON.stringify(reply.body, null, 2)}`);
        return reply.body.status === 'succeeded' ? reply.body : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(operation).toMatchObject({ total: 3, succeeded: 3, failed: 0 });
    expect(operation.items.map((i: { index: number }) => i.index).sort()).toEqual([0, 1, 2]);
    for (const item of operation.items) {
      expect(item).toMatchObject({ status: 'succeeded', id: expect.any(String), error: null });
      await waitForActiveTenant(gw, operator, item.id);
    }
    const listed = await call('GET', '/v1/tenants?q=bulk-&limit=10');
    expect(listed.body.items.map((t: { slug: string }) => t.slug).sort()).toEqual(
      [...slugs].sort(),
    );
  });
});
