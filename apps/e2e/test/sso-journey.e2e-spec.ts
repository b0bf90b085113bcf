/**
 * The SSO issue's "tried as a new user would", against the running platform and through
 * the gateway only: a tenant proves its email domain over DNS, registers a SAML connection
 * from its IdP's metadata file, downloads the SP metadata (which the IdP is given), and a
 * person signs in through the IdP in a browser's steps (redirect, auto-posted form, code
 * exchange) and lands in the tenant with the mapped role; the same with an OpenID provider;
 * refusals answer a browser with a page and an API client with a problem, and create no
 * session; a directory provisions a person through SCIM and deprovisions them, and their
 * access goes.
 */
import { randomBytes } from 'node:crypto';
import {
  createActiveTenant,
  freePort,
  parseXml,
  elementsNamed,
  Platform,
  startDnsServer,
  startOidcProvider,
  TestSamlIdp,
  waitFor,
  type TestDnsServer,
  type TestOidcProvider,
} from '@tenantry/testing';

interface Reply {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
}

const OPERATOR = 'operator@sso-journey.test';
const APP = 'https://app.initech.test';

describe('SSO journey: domain, SAML and OIDC connections, sign-in, refusals, SCIM', () => {
  const operatorPassword = randomBytes(18).toString('base64url');
  let dns: TestDnsServer;
  let idp: TestSamlIdp;
  let op: TestOidcProvider | undefined;
  let opPort: number;
  let platform: Platform;
  let gw: string;
  let operator: string;
  let tenantId: string;
  let samlLoginUrl: string;
  let samlAcs: string;

  async function call(
    method: string,
    path: string,
    options: {
      token?: string;
      body?: unknown;
      form?: Record<string, string>;
      accept?: string;
      contentType?: string;
    } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = {};
    let body: string | undefined;
    if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(options.form).toString();
    } else if (options.body !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      body = JSON.stringify(options.body);
    }
    if (options.token) headers['authorization'] = `Bearer ${options.token}`;
    if (options.accept) headers['accept'] = options.accept;
    const response = await fetch(path.startsWith('http') ? path : `${gw}${path}`, {
      method,
      headers,
      body,
      redirect: 'manual',
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  }

  /** The code in a redirect back to the app, exchanged for tokens at the gateway. */
  async function exchange(
    location: string,
  ): Promise<{ accessToken: string; refreshToken: string }> {
    const code = new URL(location).searchParams.get('code');
    expect(code).toBeTruthy();
    const tokens = await call('POST', '/v1/auth/sso/token', { body: { code } });
    expect(tokens.status).toBe(200);
    return tokens.body;
  }

  beforeAll(async () => {
    dns = await startDnsServer();
    idp = await TestSamlIdp.start();
    opPort = await freePort();
    const gatewayPort = await freePort();
    platform = await Platform.create({
      ports: { gateway: gatewayPort },
      env: {
        TENANTRY_ADMIN_EMAIL: OPERATOR,
        TENANTRY_ADMIN_PASSWORD: operatorPassword,
        TENANTRY_ISSUER: `http://127.0.0.1:${gatewayPort}`,
        DNS_SERVERS: dns.address,
        SSO_ALLOW_HTTP_ISSUERS: `http://127.0.0.1:${opPort}`,
      },
    });
    await platform.start();
    gw = platform.gatewayUrl;
    const login = await call('POST', '/v1/auth/login', {
      body: { email: OPERATOR, password: operatorPassword },
    });
    operator = login.body.accessToken;
    // SSO connections and SCIM need a plan that has them (free has none).
    const tenant = await createActiveTenant(gw, operator, {
      name: 'Initech',
      slug: 'initech',
      plan: 'enterprise',
    });
    tenantId = tenant.id;
  });

  afterAll(async () => {
    await platform?.destroy();
    await op?.close();
    await idp?.close();
    await dns?.close();
  });

  it('proves the email domain with a DNS TXT record and allows the app as a return origin', async () => {
    const base = `/v1/tenants/${tenantId}`;
    const claimed = await call('POST', `${base}/domains`, {
      token: operator,
      body: { domain: 'initech.test' },
    });
    expect(claimed.status).toBe(201);
    const early = await call('POST', `${base}/domains/${claimed.body.id}/verify`, {
      token: operator,
    });
    expect(early.status).toBe(409);
    dns.setTxt(claimed.body.verification.name, [claimed.body.verification.value]);
    const verified = await call('POST', `${base}/domains/${claimed.body.id}/verify`, {
      token: operator,
    });
    expect(verified.body).toMatchObject({ status: 'verified' });
    const freeMail = await call('POST', `${base}/domains`, {
      token: operator,
      body: { domain: 'gmail.com' },
    });
    expect(freeMail.status).toBe(400);

    const settings = await call('PATCH', `${base}/auth-settings`, {
      token: operator,
      body: { redirectOrigins: [APP] },
    });
    expect(settings.status).toBe(200);
    expect(settings.body.redirectOrigins).toEqual([APP]);
  });

  it('registers a SAML connection from the IdP metadata file and signs a person in with the mapped role', async () => {
    const created = await call('POST', `/v1/tenants/${tenantId}/sso-connections`, {
      token: operator,
      body: {
        name: 'Initech IdP',
        protocol: 'saml',
        jit: true,
        defaultRole: 'member',
        groupRoles: [{ group: 'IT Admins', roles: ['tenant-admin'] }],
        attributeMapping: { groups: 'groups' },
        saml: { idp: { metadataXml: idp.metadataXml() } },
      },
    });
    expect(created.status).toBe(201);
    const connection = created.body;
    samlLoginUrl = connection.loginUrl;

    // The SP metadata, downloaded and handed to the IdP, says where to post and what to trust.
    const metadata = await call('GET', `/v1/auth/sso/saml/${connection.id}/metadata?download=1`);
    expect(metadata.status).toBe(200);
    expect(metadata.headers.get('content-type')).toContain('application/samlmetadata+xml');
    const root = parseXml(metadata.text).documentElement!;
    const acs = elementsNamed(root, 'AssertionConsumerService')[0]!.getAttribute('Location')!;
    expect(acs).toBe(`${gw}/v1/auth/sso/saml/${connection.id}/acs`);
    samlAcs = acs;
    const certificate = elementsNamed(root, 'X509Certificate')[0]!.textContent!.trim();
    idp.trustSp({
      entityId: root.getAttribute('entityID')!,
      acsUrl: acs,
      certificate: `-----BEGIN CERTIFICATE-----\n${certificate}\n-----END CERTIFICATE-----\n`,
    });

    // The browser: the login URL sends it to the IdP, whose form posts to the ACS.
    const start = await call(
      'GET',
      `${connection.loginUrl}?returnTo=${encodeURIComponent(`${APP}/welcome`)}`,
    );
    expect(start.status).toBe(302);
    const posted = await idp.respondTo(start.headers.get('location')!, {
      nameId: 'peter@initech.test',
      email: 'peter@initech.test',
      attributes: { groups: ['IT Admins'], displayName: 'Peter Gibbons' },
    });
    const back = await call('POST', acs, {
      form: { SAMLResponse: posted.samlResponse, RelayState: posted.relayState! },
      accept: 'text/html',
    });
    expect(back.status).toBe(303);
    expect(back.headers.get('location')!.startsWith(`${APP}/welcome?code=`)).toBe(true);
    const tokens = await exchange(back.headers.get('location')!);

    const me = await call('GET', '/v1/me', { token: tokens.accessToken });
    expect(me.body).toMatchObject({ kind: 'user', tenantId, email: 'peter@initech.test' });
    expect(me.body.roles.sort()).toEqual(['member', 'tenant-admin']);
    // The mapped role works: a tenant admin lists the tenant's users.
    const users = await call('GET', `/v1/tenants/${tenantId}/users`, { token: tokens.accessToken });
    expect(users.status).toBe(200);

    // The same response again: refused, with a page for the browser and a problem for an API client.
    const replayPage = await call('POST', acs, {
      form: { SAMLResponse: posted.samlResponse, RelayState: posted.relayState! },
      accept: 'text/html,application/xhtml+xml',
    });
    expect(replayPage.status).toBe(401);
    expect(replayPage.headers.get('content-type')).toContain('text/html');
    expect(replayPage.text).toContain('Sign-in refused');
    expect(replayPage.text).toContain('the SAML sign-in was refused');
    const replayApi = await call('POST', acs, {
      form: { SAMLResponse: posted.samlResponse, RelayState: posted.relayState! },
    });
    expect(replayApi.status).toBe(401);
    expect(replayApi.body).toMatchObject({ reason: 'SSO_REJECTED' });

    // A person of a domain the tenant has not verified: refused, no session, audited.
    const rogueStart = await call('GET', connection.loginUrl);
    const rogue = await idp.respondTo(rogueStart.headers.get('location')!, {
      nameId: 'mallory@elsewhere.test',
      email: 'mallory@elsewhere.test',
    });
    const refused = await call('POST', acs, {
      form: { SAMLResponse: rogue.samlResponse, RelayState: rogue.relayState! },
    });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ reason: 'SSO_DOMAIN_NOT_VERIFIED' });
    await waitFor('the refusal in the audit log', async () => {
      const page = await call('GET', `/v1/tenants/${tenantId}/audit-events?limit=200`, {
        token: operator,
      });
      return page.body?.items?.some(
        (e: { action: string; data?: { reason?: string } }) =>
          e.action === 'sso.login.failed' && e.data?.reason === 'domain_not_verified',
      );
    });

    // A form anywhere else is still refused (the ACS is the one route that takes one).
    const formElsewhere = await call('POST', '/v1/auth/login', { form: { email: 'x' } });
    expect(formElsewhere.status).toBe(415);

    // Discovery points the domain's people to the connection.
    const discovered = await call('POST', '/v1/auth/sso/discover', {
      body: { email: 'samir@initech.test' },
    });
    expect(discovered.body).toMatchObject({
      method: 'sso',
      tenant: { slug: 'initech' },
      connections: [{ id: connection.id, protocol: 'saml', loginUrl: connection.loginUrl }],
    });
  });

  it('signs a person in through an OpenID provider (code + PKCE)', async () => {
    const created = await call('POST', `/v1/tenants/${tenantId}/sso-connections`, {
      token: operator,
      body: {
        name: 'Initech OIDC',
        protocol: 'oidc',
        jit: true,
        defaultRole: 'member',
        oidc: { issuer: `http://127.0.0.1:${opPort}`, clientId: 'tenantry', clientSecret: 'tbd' },
      },
    });
    expect(created.status).toBe(201);
    op = await startOidcProvider({
      port: opPort,
      clientId: 'tenantry',
      redirectUri: created.body.oidc.redirectUri,
      accounts: [
        { sub: 'm-1', email: 'michael@initech.test', email_verified: true, name: 'Michael' },
      ],
    });
    const updated = await call(
      'PATCH',
      `/v1/tenants/${tenantId}/sso-connections/${created.body.id}`,
      {
        token: operator,
        body: { oidc: { clientSecret: op.clientSecret } },
      },
    );
    expect(updated.status).toBe(200);

    const start = await call('GET', `${created.body.loginUrl}?returnTo=${encodeURIComponent(APP)}`);
    expect(start.status).toBe(302);
    op.nextLogin('m-1');
    const callback = await op.followLogin(start.headers.get('location')!);
    expect(callback.startsWith(`${gw}/v1/auth/sso/oidc/${created.body.id}/callback?`)).toBe(true);
    const back = await call('GET', callback);
    expect(back.status).toBe(303);
    const tokens = await exchange(back.headers.get('location')!);
    const me = await call('GET', '/v1/me', { token: tokens.accessToken });
    expect(me.body).toMatchObject({ tenantId, email: 'michael@initech.test', roles: ['member'] });
  });

  it('provisions a person through SCIM, lets them sign in, and takes their access away on deactivation', async () => {
    const directory = await call('POST', `/v1/tenants/${tenantId}/scim-directories`, {
      token: operator,
      body: {
        name: 'Okta directory',
        groupRoles: [{ group: 'IT Admins', roles: ['tenant-admin'] }],
      },
    });
    expect(directory.status).toBe(201);
    const scim = directory.body.scimBaseUrl as string;
    const scimToken = directory.body.token as string;
    const scimCall = (method: string, path: string, body?: unknown, token = scimToken) =>
      call(method, `${scim}${path}`, {
        token,
        ...(body !== undefined ? { body, contentType: 'application/scim+json' } : {}),
      });

    // Okta's create (https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20)
    const created = await scimCall('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'samir@initech.test',
      name: { givenName: 'Samir', familyName: 'Nagheenanajar' },
      emails: [{ primary: true, value: 'samir@initech.test', type: 'work' }],
      displayName: 'Samir Nagheenanajar',
      active: true,
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('content-type')).toContain('application/scim+json');
    const scimUser = created.body;

    // Provisioned: they sign in through the IdP without JIT, as an existing user.
    const start = await call('GET', samlLoginUrl);
    const posted = await idp.respondTo(start.headers.get('location')!, {
      nameId: 'samir@initech.test',
      email: 'samir@initech.test',
    });
    const back = await call('POST', samlAcs, {
      form: { SAMLResponse: posted.samlResponse, RelayState: posted.relayState! },
    });
    expect(back.status).toBe(303);
    const tokens = await exchange(back.headers.get('location')!);
    expect((await call('GET', '/v1/me', { token: tokens.accessToken })).status).toBe(200);

    // Okta deactivates them: their session ends and the gateway refuses their token.
    const deactivated = await scimCall('PATCH', `/Users/${scimUser.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    expect(deactivated.status).toBe(200);
    expect(deactivated.body.active).toBe(false);
    await waitFor('the deactivated user’s token to be refused', async () => {
      return (await call('GET', '/v1/me', { token: tokens.accessToken })).status === 401;
    });
    const refresh = await call('POST', '/v1/auth/refresh', {
      body: { refreshToken: tokens.refreshToken },
    });
    expect(refresh.status).toBe(401);
    const again = await call('GET', samlLoginUrl);
    const refused = await idp.respondTo(again.headers.get('location')!, {
      nameId: 'samir@initech.test',
      email: 'samir@initech.test',
    });
    const denied = await call('POST', samlAcs, {
      form: { SAMLResponse: refused.samlResponse, RelayState: refused.relayState! },
    });
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ reason: 'SSO_USER_DISABLED' });

    // SCIM's own error format, for a missing token and for a bad filter.
    const noToken = await call('GET', `${scim}/Users`);
    expect(noToken.status).toBe(401);
    expect(noToken.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '401',
    });
    const badFilter = await scimCall('GET', '/Users?filter=userName%20eq');
    expect(badFilter.status).toBe(400);
    expect(badFilter.body).toMatchObject({ scimType: 'invalidFilter', status: '400' });
  });
});
