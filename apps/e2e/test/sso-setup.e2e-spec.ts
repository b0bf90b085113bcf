/**
 * Self-service SSO setup, through the gateway only, against the running platform: a
 * tenant's admin makes a setup link, the IT department opens it (once) and, with the setup
 * session alone, registers a SAML connection from its IdP's metadata and a SCIM directory
 * whose token then provisions over /scim/v2; the session reaches nothing else, an access
 * token does not work in its place, another tenant cannot touch the link, revoking the
 * link ends the session, and the audit log names the link as the actor.
 */
import { randomBytes } from 'node:crypto';
import {
  createActiveTenant,
  Platform,
  startSmtpServer,
  TestSamlIdp,
  tokenInMail,
  waitFor,
  type TestSmtpServer,
} from '@tenantry/testing';

interface Reply {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

const OPERATOR = 'operator@sso-setup.test';
const APP = 'https://app.sso-setup.test';

describe('SSO setup link: the admin portal for the IT department', () => {
  const operatorPassword = randomBytes(18).toString('base64url');
  let smtp: TestSmtpServer;
  let idp: TestSamlIdp;
  let platform: Platform;
  let gw: string;
  let operator: string;
  let acme: string;
  let other: string;
  let acmeAdmin: string;
  let otherAdmin: string;

  async function call(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; contentType?: string } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (options.body !== undefined)
      headers['content-type'] = options.contentType ?? 'application/json';
    if (options.token) headers['authorization'] = `Bearer ${options.token}`;
    const response = await fetch(`${gw}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? JSON.parse(text) : undefined,
    };
  }

  /** Invites a tenant admin and accepts the invitation: their access token. */
  async function tenantAdmin(tenantId: string, email: string): Promise<string> {
    const invited = await call('POST', `/v1/tenants/${tenantId}/users`, {
      token: operator,
      body: { email, displayName: email.split('@')[0], roles: ['tenant-admin'] },
    });
    expect(invited.status).toBe(201);
    const mail = await waitFor(`the invitation to ${email}`, async () =>
      smtp.mails.find((m) => m.to === email),
    );
    const accepted = await call('POST', '/v1/auth/invitations/accept', {
      body: {
        token: tokenInMail(mail.text),
        password: `Correct-Horse-${randomBytes(6).toString('hex')}`,
      },
    });
    expect(accepted.status).toBe(200);
    return accepted.body.accessToken as string;
  }

  beforeAll(async () => {
    smtp = await startSmtpServer();
    idp = await TestSamlIdp.start();
    platform = await Platform.create({
      env: {
        TENANTRY_ADMIN_EMAIL: OPERATOR,
        TENANTRY_ADMIN_PASSWORD: operatorPassword,
        TENANTRY_APP_URL: APP,
        SMTP_URL: smtp.url,
      },
    });
    await platform.start();
    gw = platform.gatewayUrl;
    const login = await call('POST', '/v1/auth/login', {
      body: { email: OPERATOR, password: operatorPassword },
    });
    operator = login.body.accessToken;
    const made = [];
    for (const slug of ['acme-setup', 'other-setup']) {
      // SSO connections and SCIM need a plan that has them (free has none).
      const tenant = await createActiveTenant(gw, operator, {
        name: slug,
        slug,
        plan: 'enterprise',
      });
      made.push(tenant.id);
    }
    [acme, other] = made as [string, string];
    acmeAdmin = await tenantAdmin(acme, 'admin@acme-setup.test');
    otherAdmin = await tenantAdmin(other, 'admin@other-setup.test');
  });

  afterAll(async () => {
    await platform?.destroy();
    await idp?.close();
    await smtp?.close();
  });

  it('lets the IT department set up SAML and SCIM with the link alone, and nothing else', async () => {
    // The admin makes the link; another tenant's admin and the anonymous cannot.
    const base = `/v1/tenants/${acme}/sso-setup-links`;
    expect((await call('POST', base, { body: {} })).status).toBe(401);
    expect((await call('POST', base, { token: otherAdmin, body: {} })).status).toBe(404);
    const tooLong = await call('POST', base, { token: acmeAdmin, body: { expiresInHours: 169 } });
    expect(tooLong.status).toBe(400);
    expect(JSON.stringify(tooLong.body)).toContain('expiresInHours');
    const made = await call('POST', base, { token: acmeAdmin, body: { expiresInHours: 24 } });
    expect(made.status).toBe(201);
    const link = made.body;
    expect(link).toMatchObject({ tenantId: acme, status: 'pending' });
    expect(link.url).toBe(`${APP}/sso-setup#token=${link.token}`);

    // The IT department opens it: once.
    const token = new URL(link.url).hash.slice('#token='.length);
    const opened = await call('POST', '/v1/sso-setup/session', { body: { token } });
    expect(opened.status).toBe(201);
    const session = opened.body;
    expect(session).toMatchObject({
      expiresIn: 3600,
      tenant: { id: acme, slug: 'acme-setup' },
      allowed: expect.arrayContaining(['sso-connections:write', 'scim-directories:write']),
    });
    const again = await call('POST', '/v1/sso-setup/session', { body: { token } });
    expect(again.status).toBe(401);
    expect(again.body).toMatchObject({ reason: 'SSO_SETUP_LINK_USED' });
    const st = session.sessionToken as string;

    // A SAML connection from the IdP's metadata, seen by the tenant's admin.
    const connection = await call('POST', '/v1/sso-setup/connections', {
      token: st,
      body: {
        name: 'Acme IdP',
        protocol: 'saml',
        saml: { idp: { metadataXml: idp.metadataXml() } },
      },
    });
    expect(connection.status).toBe(201);
    expect(connection.body).toMatchObject({
      tenantId: acme,
      saml: { idp: { entityId: idp.entityId } },
    });
    const patched = await call('PATCH', `/v1/sso-setup/connections/${connection.body.id}`, {
      token: st,
      body: { jit: true },
    });
    expect(patched.body).toMatchObject({ jit: true });
    const listed = await call('GET', '/v1/sso-setup/connections', { token: st });
    expect(listed.body.items.map((c: { id: string }) => c.id)).toEqual([connection.body.id]);
    const adminView = await call(
      'GET',
      `/v1/tenants/${acme}/sso-connections/${connection.body.id}`,
      {
        token: acmeAdmin,
      },
    );
    expect(adminView.body).toMatchObject({ name: 'Acme IdP', jit: true });

    // A SCIM directory: its token, shown once, provisions a user over SCIM.
    const directory = await call('POST', '/v1/sso-setup/scim-directories', {
      token: st,
      body: { name: 'Acme users' },
    });
    expect(directory.status).toBe(201);
    const scimUser = await call('POST', '/scim/v2/Users', {
      token: directory.body.token,
      contentType: 'application/scim+json',
      body: {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: 'milton@acme-setup.test',
        name: { givenName: 'Milton', familyName: 'Waddams' },
        emails: [{ primary: true, value: 'milton@acme-setup.test' }],
        active: true,
      },
    });
    expect(scimUser.status).toBe(201);
    const directories = await call('GET', '/v1/sso-setup/scim-directories', { token: st });
    expect(directories.body.items).toHaveLength(1);
    expect(JSON.stringify(directories.body)).not.toContain(directory.body.token);
    const rotated = await call(
      'POST',
      `/v1/sso-setup/scim-directories/${directory.body.id}/rotate-token`,
      { token: st },
    );
    expect(rotated.status).toBe(200);
    expect((await call('GET', '/scim/v2/Users', { token: directory.body.token })).status).toBe(401);
    expect((await call('GET', '/scim/v2/Users', { token: rotated.body.token })).status).toBe(200);

    // Nothing else: the session token is no access token, and an access token is no session.
    for (const path of [
      `/v1/tenants/${acme}/users`,
      `/v1/tenants/${acme}/sso-connections`,
      `/v1/tenants/${acme}/domains`,
      `/v1/tenants/${acme}/auth-settings`,
      '/v1/me',
    ])
      expect({ path, status: (await call('GET', path, { token: st })).status }).toEqual({
        path,
        status: 401,
      });
    for (const bearer of [acmeAdmin, undefined]) {
      const refused = await call('GET', '/v1/sso-setup/connections', { token: bearer });
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ reason: 'SSO_SETUP_SESSION_INVALID' });
    }

    // The admin sees the link opened; another tenant's admin neither sees nor revokes it.
    const links = await call('GET', base, { token: acmeAdmin });
    expect(links.body.items[0]).toMatchObject({ id: link.id, status: 'opened' });
    expect(JSON.stringify(links.body)).not.toContain(link.token);
    expect((await call('GET', base, { token: otherAdmin })).status).toBe(404);
    expect((await call('DELETE', `${base}/${link.id}`, { token: otherAdmin })).status).toBe(404);

    // Revoked: the session ends at once.
    const revoked = await call('DELETE', `${base}/${link.id}`, { token: acmeAdmin });
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe('revoked');
    const ended = await call('GET', '/v1/sso-setup/connections', { token: st });
    expect(ended.status).toBe(401);

    // The audit log names the link as who did it.
    const actor = { type: 'service', id: `sso-setup-link/${link.id}` };
    const byLink = await waitFor('the setup session’s audit events', async () => {
      const page = await call('GET', `/v1/tenants/${acme}/audit-events?limit=500`, {
        token: acmeAdmin,
      });
      const actions = (page.body.items as { action: string; actor: unknown }[])
        .filter((e) => JSON.stringify(e.actor) === JSON.stringify(actor))
        .map((e) => e.action);
      return actions.includes('scim-directory.token-rotated') && actions;
    });
    expect(byLink).toEqual(
      expect.arrayContaining([
        'sso_setup_link.opened',
        'sso_connection.created',
        'sso_connection.updated',
        'scim-directory.created',
        'scim-directory.token-rotated',
      ]),
    );
  });
});
