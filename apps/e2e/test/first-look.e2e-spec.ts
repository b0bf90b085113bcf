/**
 * The "tried as a new user would": the bootstrap operator logs in, creates a tenant
 * and invites its first admin (the invitation arrives at a real SMTP server started here),
 * who accepts, enrols TOTP, logs in with it, creates an API key and lists the tenant's audit
 * events with it, and finds every one of those steps there with the right actor.
 */
import { randomBytes } from 'node:crypto';
import { generate } from 'otplib';
import {
  createActiveTenant,
  Platform,
  startSmtpServer,
  tokenInMail,
  waitFor,
  type TestSmtpServer,
} from '@tenantry/testing';

function claims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'));
}

/** Resolves at the start of the next 30-second TOTP step (a code is accepted once per step). */
function nextTotpStep(): Promise<void> {
  const ms = 30_000 - (Date.now() % 30_000) + 200;
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('first look: operator → tenant → invited admin → TOTP → API key → audit trail', () => {
  const adminPassword = randomBytes(18).toString('base64url');
  let smtp: TestSmtpServer;
  let platform: Platform;
  let gw: string;

  async function call(
    method: string,
    path: string,
    options: { body?: unknown; token?: string; apiKey?: string } = {},
  ) {
    const response = await fetch(`${gw}${path}`, {
      method,
      headers: {
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.apiKey ? { 'x-api-key': options.apiKey } : {}),
      },
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  beforeAll(async () => {
    smtp = await startSmtpServer();
    platform = await Platform.create({
      env: {
        TENANTRY_ADMIN_EMAIL: 'admin@localhost',
        TENANTRY_ADMIN_PASSWORD: adminPassword,
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        TENANTRY_APP_URL: 'https://app.example.test',
      },
    });
    await platform.start();
    gw = platform.gatewayUrl;
  });

  afterAll(async () => {
    await platform?.destroy();
    await smtp?.close();
  });

  it('walks the whole journey, and the audit trail names the right actor for each step', async () => {
    // Nothing without credentials.
    expect((await call('GET', '/v1/tenants')).status).toBe(401);

    // 1. The bootstrap operator logs in.
    const operatorLogin = await call('POST', '/v1/auth/login', {
      body: { email: 'admin@localhost', password: adminPassword },
    });
    expect(operatorLogin.status).toBe(200);
    expect(operatorLogin.body).toMatchObject({ tokenType: 'Bearer' });
    const operatorToken: string = operatorLogin.body.accessToken;
    const operatorId = claims(operatorToken).sub as string;

    // 2. … creates a tenant (202: provisioned in the background), and waits until it is active …
    const tenant = await createActiveTenant(gw, operatorToken, { name: 'Acme Corp', slug: 'acme' });
    expect(tenant).toMatchObject({ slug: 'acme', status: 'active', plan: 'free' });
    const tenantId = tenant.id;

    // 3. … and invites its first admin.
    const invited = await call('POST', `/v1/tenants/${tenantId}/users`, {
      token: operatorToken,
      body: { email: 'First.Admin@Acme.test', displayName: 'First Admin', roles: ['tenant-admin'] },
    });
    expect(invited.status).toBe(201);
    expect(invited.body).toMatchObject({ email: 'first.admin@acme.test', status: 'invited' });
    const adminId: string = invited.body.id;

    // 4. The invitation arrives by mail; the admin accepts it and is signed in.
    const mail = await waitFor('the invitation mail', async () =>
      smtp.mails.find((m) => m.to === 'first.admin@acme.test'),
    );
    expect(mail.text).toContain('https://app.example.test/accept-invitation?token=');
    const password = `Correct-Horse-${randomBytes(6).toString('hex')}`;
    const accepted = await call('POST', '/v1/auth/invitations/accept', {
      body: { token: tokenInMail(mail.text), password },
    });
    expect(accepted.status).toBe(200);
    const adminToken: string = accepted.body.accessToken;
    expect(claims(adminToken)).toMatchObject({ sub: adminId, tid: tenantId });

    // 5. … enrols TOTP …
    const enrolment = await call('POST', '/v1/me/mfa/totp', { token: adminToken });
    expect(enrolment.status).toBe(200);
    expect(enrolment.body.otpauthUri).toMatch(/^otpauth:\/\/totp\//);
    expect(enrolment.body.qrDataUrl).toMatch(/^data:image\/png;base64,/);
    const secret: string = enrolment.body.secret;
    const confirmed = await call('POST', '/v1/me/mfa/totp/confirm', {
      token: adminToken,
      body: { code: await generate({ secret }) },
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.recoveryCodes.length).toBeGreaterThanOrEqual(8);

    // 6. … and logs in with it: password, then a TOTP code of a fresh time step.
    const challenge = await call('POST', '/v1/auth/login', {
      body: { email: 'first.admin@acme.test', password, tenant: 'acme' },
    });
    expect(challenge.status).toBe(200);
    expect(challenge.body).toMatchObject({ mfaRequired: true });
    expect(challenge.body.accessToken).toBeUndefined();
    await nextTotpStep();
    const verified = await call('POST', '/v1/auth/mfa/verify', {
      body: { challengeToken: challenge.body.challengeToken, code: await generate({ secret }) },
    });
    expect(verified.status).toBe(200);
    const mfaToken: string = verified.body.accessToken;
    expect(claims(mfaToken).amr).toEqual(expect.arrayContaining(['pwd', 'otp']));

    // 7. The admin creates an API key that may read the audit log …
    const key = await call('POST', `/v1/tenants/${tenantId}/api-keys`, {
      token: mfaToken,
      body: { name: 'audit reader', scopes: ['audit:read'] },
    });
    expect(key.status).toBe(201);
    expect(key.body.key).toMatch(/^tnty_[A-Za-z0-9]{12}_/);

    // 8. … and lists the tenant's audit events with it: every step is there, with its actor.
    const expected: { action: RegExp; actor: { type: string; id: string } }[] = [
      // (tenant.created is in the platform's log: the tenant's opens with its provisioning)
      { action: /^tenant\.activated$/, actor: { type: 'operator', id: operatorId } },
      { action: /invit/, actor: { type: 'operator', id: operatorId } },
      { action: /accept/, actor: { type: 'user', id: adminId } },
      { action: /(mfa|totp).*(enrol|confirm)/, actor: { type: 'user', id: adminId } },
      { action: /login/, actor: { type: 'user', id: adminId } },
      { action: /(mfa|totp).*verif/, actor: { type: 'user', id: adminId } },
      { action: /^api_key\.created$/, actor: { type: 'user', id: adminId } },
    ];
    const events = await waitFor(
      'every step in the audit log',
      async () => {
        const page = await call('GET', `/v1/tenants/${tenantId}/audit-events?limit=100`, {
          apiKey: key.body.key,
        });
        expect(page.status).toBe(200);
        const items = page.body.items as { action: string; actor: { type: string; id: string } }[];
        return expected.every((e) =>
          items.some(
            (i) =>
              e.action.test(i.action) && i.actor.type === e.actor.type && i.actor.id === e.actor.id,
          ),
        )
          ? items
          : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    expect(events.length).toBeGreaterThanOrEqual(expected.length);

    // The key reads the audit log and nothing else.
    const users = await call('GET', `/v1/tenants/${tenantId}/users`, { apiKey: key.body.key });
    expect(users.status).toBe(403);
  });
});
