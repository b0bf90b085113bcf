/**
 * Single sign-on end to end inside identity (the RPCs the gateway calls), against a real
 * SAML IdP (samlify), a real OpenID Provider (oidc-provider), a real DNS server (dns2) for
 * the domain proofs, and the machine's PostgreSQL, Redis and NATS: SP- and IdP-initiated
 * SAML, OIDC code + PKCE, JIT users with mapped roles, the one-time code, and every refusal
 * of the orchestration (domain of another tenant, no JIT, disabled user or connection,
 * return URL off the allow-list), each audited and without a session.
 */
import {
  AuthSettingsRpc,
  DomainRpc,
  ErrorCode,
  ScimDirectoryRpc,
  ScimRpc,
  SsoConnectionRpc,
  SsoRpc,
  UserRpc,
  type AuditEvent,
  type SsoConnection,
  type Tenant,
} from '@tenantry/contracts';
import {
  freePort,
  startDnsServer,
  startOidcProvider,
  TestSamlIdp,
  type TestDnsServer,
  type TestOidcProvider,
} from '@tenantry/testing';
import { client, IdentityHarness } from './identity.harness.js';

const OPERATOR = 'operator:01a00000-0000-7000-8000-000000000001';
const APP = 'https://app.acme.test';

function claims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

describe('SSO sign-in (SAML and OIDC) through identity', () => {
  let dns: TestDnsServer;
  let idp: TestSamlIdp;
  let op: TestOidcProvider | undefined;
  let h: IdentityHarness;
  let acme: Tenant;
  let globex: Tenant;
  let saml: SsoConnection;
  let opPort: number;

  async function verifyDomain(tenant: Tenant, domain: string): Promise<void> {
    const claimed = await h.call(DomainRpc.create, { tenantId: tenant.id, domain }, OPERATOR);
    dns.setTxt(claimed.verification.name, [claimed.verification.value]);
    await h.call(DomainRpc.verify, { tenantId: tenant.id, domainId: claimed.id }, OPERATOR);
  }

  async function samlConnection(tenant: Tenant, extra: Record<string, unknown> = {}) {
    const connection = await h.call(
      SsoConnectionRpc.create,
      {
        tenantId: tenant.id,
        name: 'Okta',
        protocol: 'saml',
        jit: true,
        defaultRole: 'member',
        groupRoles: [{ group: 'Admins', roles: ['tenant-admin'] }],
        attributeMapping: { groups: 'groups', displayName: 'displayName' },
        saml: { idp: { metadataXml: idp.metadataXml() } },
        ...extra,
      },
      OPERATOR,
    );
    idp.trustSp({
      entityId: connection.saml!.sp.entityId,
      acsUrl: connection.saml!.sp.acsUrl,
      certificate: connection.saml!.sp.certificate,
    });
    return connection;
  }

  /** An SP-initiated SAML sign-in of `email` through `connection`, up to the ACS's answer. */
  async function samlSignIn(
    connection: SsoConnection,
    email: string,
    groups: string[] = [],
    returnTo?: string,
  ) {
    const { redirectUrl } = await h.call(SsoRpc.start, {
      connectionId: connection.id,
      ...(returnTo ? { returnTo } : {}),
      client: client(),
    });
    const posted = await idp.respondTo(redirectUrl, {
      nameId: email,
      email,
      attributes: { groups, displayName: `Person ${email}` },
    });
    return h.call(SsoRpc.samlAcs, {
      connectionId: connection.id,
      samlResponse: posted.samlResponse,
      ...(posted.relayState ? { relayState: posted.relayState } : {}),
      client: client(),
    });
  }

  async function samlFailure(connection: SsoConnection, email: string) {
    const { redirectUrl } = await h.call(SsoRpc.start, {
      connectionId: connection.id,
      client: client(),
    });
    const posted = await idp.respondTo(redirectUrl, { nameId: email, email });
    return h.failure(SsoRpc.samlAcs, {
      connectionId: connection.id,
      samlResponse: posted.samlResponse,
      ...(posted.relayState ? { relayState: posted.relayState } : {}),
      client: client(),
    });
  }

  const userByEmail = async (tenant: Tenant, email: string) =>
    (await h.call(UserRpc.list, { tenantId: tenant.id, email, limit: 5 }, OPERATOR)).items.find(
      (u) => u.email === email,
    );

  const refusals = (reason: string) =>
    h.auditEvents(
      (e: AuditEvent) => e.action === 'sso.login.failed' && e.data?.['reason'] === reason,
    );

  beforeAll(async () => {
    dns = await startDnsServer();
    idp = await TestSamlIdp.start();
    opPort = await freePort();
    h = await IdentityHarness.start({
      env: {
        DNS_SERVERS: dns.address,
        SSO_ALLOW_HTTP_ISSUERS: `http://127.0.0.1:${opPort}`,
        // SSO requests get ten times this per IP and minute (every other test uses fresh IPs).
        LOGIN_ATTEMPTS_PER_IP_PER_MINUTE: '2',
      },
    });
    acme = h.addTenant('acme');
    globex = h.addTenant('globex');
    await verifyDomain(acme, 'acme.test');
    await verifyDomain(globex, 'globex.test');
    await h.call(AuthSettingsRpc.update, { tenantId: acme.id, redirectOrigins: [APP] }, OPERATOR);
    saml = await samlConnection(acme);
  });

  afterAll(async () => {
    await h?.close();
    await op?.close();
    await idp?.close();
    await dns?.close();
  });

  it('signs a new person in through SAML: JIT user with mapped roles, one-time code, back to returnTo', async () => {
    const done = await samlSignIn(saml, 'ada@acme.test', ['admins', 'Staff'], `${APP}/after?x=1`);
    const target = new URL(done.redirectTo);
    expect(target.origin + target.pathname).toBe(`${APP}/after`);
    expect(target.searchParams.get('x')).toBe('1');
    expect(target.searchParams.get('code')).toBe(done.code);

    const tokens = await h.call(SsoRpc.token, { code: done.code, client: client() });
    const access = claims(tokens.accessToken);
    expect(access).toMatchObject({ tid: acme.id, amr: ['saml'] });
    expect((access['roles'] as string[]).sort()).toEqual(['member', 'tenant-admin']);

    const again = await h.failure(SsoRpc.token, { code: done.code, client: client() });
    expect(again).toMatchObject({ code: ErrorCode.Unauthenticated, reason: 'SSO_CODE_INVALID' });

    const user = await userByEmail(acme, 'ada@acme.test');
    expect(user).toMatchObject({
      status: 'active',
      displayName: 'Person ada@acme.test',
      roles: expect.arrayContaining(['member', 'tenant-admin']),
    });
    await h.auditEvents(
      (e: AuditEvent) => e.action === 'user.provisioned' && e.target?.id === user!.id,
    );
  });

  it('follows the group mapping at every sign-in: out of the mapped group, out of its role', async () => {
    await samlSignIn(saml, 'bea@acme.test', ['Admins']);
    expect((await userByEmail(acme, 'bea@acme.test'))!.roles.sort()).toEqual([
      'member',
      'tenant-admin',
    ]);
    await samlSignIn(saml, 'bea@acme.test', []);
    expect((await userByEmail(acme, 'bea@acme.test'))!.roles).toEqual(['member']);
  });

  it('refuses a person whose email is in another tenant’s domain (a rogue IdP), with no user and an audit', async () => {
    const error = await samlFailure(saml, 'ceo@globex.test');
    expect(error).toMatchObject({ code: ErrorCode.Forbidden, reason: 'SSO_DOMAIN_NOT_VERIFIED' });
    expect(error.message).toContain('globex.test');
    expect(await userByEmail(acme, 'ceo@globex.test')).toBeUndefined();
    const [event] = await refusals('domain_not_verified');
    expect(event).toMatchObject({
      tenantId: acme.id,
      target: { type: 'sso_connection', id: saml.id },
    });
  });

  it('refuses a returnTo off the allow-list before going to the IdP, and lands on it only when allowed', async () => {
    const error = await h.failure(SsoRpc.start, {
      connectionId: saml.id,
      returnTo: 'https://app.acme.test.evil.test/steal',
      client: client(),
    });
    expect(error).toMatchObject({
      reason: 'SSO_RETURN_TO_NOT_ALLOWED',
      errors: [{ field: 'returnTo' }],
    });
    const done = await samlSignIn(saml, 'dan@acme.test');
    expect(done.redirectTo.startsWith('https://app.tenantry.test')).toBe(true);
  });

  it('answers a protocol refusal in words, audited with its reason, with no session', async () => {
    const { redirectUrl } = await h.call(SsoRpc.start, { connectionId: saml.id, client: client() });
    const posted = await idp.respondTo(redirectUrl, {
      nameId: 'eve@acme.test',
      email: 'eve@acme.test',
    });
    const request = {
      connectionId: saml.id,
      samlResponse: posted.samlResponse,
      ...(posted.relayState ? { relayState: posted.relayState } : {}),
    };
    await h.call(SsoRpc.samlAcs, { ...request, client: client() });
    const replay = await h.failure(SsoRpc.samlAcs, { ...request, client: client() });
    expect(replay).toMatchObject({ code: ErrorCode.Unauthenticated, reason: 'SSO_REJECTED' });
    expect(replay.message).toMatch(/^the SAML sign-in was refused: /);
    await refusals('in_response_to_unknown');
  });

  it('refuses an unknown person when JIT is off, a disabled user, and a disabled connection', async () => {
    const strict = await samlConnection(acme, { name: 'No JIT', jit: false });
    expect(await samlFailure(strict, 'fay@acme.test')).toMatchObject({
      reason: 'SSO_USER_UNKNOWN',
    });
    expect(await userByEmail(acme, 'fay@acme.test')).toBeUndefined();

    await samlSignIn(saml, 'gus@acme.test');
    const gus = (await userByEmail(acme, 'gus@acme.test'))!;
    await h.call(UserRpc.disable, { tenantId: acme.id, userId: gus.id }, OPERATOR);
    expect(await samlFailure(saml, 'gus@acme.test')).toMatchObject({
      reason: 'SSO_USER_DISABLED',
    });

    await h.call(
      SsoConnectionRpc.update,
      { tenantId: acme.id, connectionId: strict.id, enabled: false },
      OPERATOR,
    );
    expect(
      await h.failure(SsoRpc.start, { connectionId: strict.id, client: client() }),
    ).toMatchObject({ reason: 'SSO_CONNECTION_DISABLED' });
    await refusals('connection_disabled');
  });

  it('accepts IdP-initiated sign-in only where enabled, landing on an allowed RelayState URL', async () => {
    const sp = saml.saml!.sp;
    const unsolicited = await idp.idpInitiated(sp.acsUrl, sp.entityId, {
      nameId: 'hal@acme.test',
      email: 'hal@acme.test',
    });
    expect(
      await h.failure(SsoRpc.samlAcs, {
        connectionId: saml.id,
        samlResponse: unsolicited.samlResponse,
        client: client(),
      }),
    ).toMatchObject({ reason: 'SSO_REJECTED' });

    const open = await samlConnection(acme, {
      name: 'IdP-initiated',
      saml: { idp: { metadataXml: idp.metadataXml() }, allowIdpInitiated: true },
    });
    const posted = await idp.idpInitiated(open.saml!.sp.acsUrl, open.saml!.sp.entityId, {
      nameId: 'hal@acme.test',
      email: 'hal@acme.test',
    });
    const done = await h.call(SsoRpc.samlAcs, {
      connectionId: open.id,
      samlResponse: posted.samlResponse,
      relayState: `${APP}/from-idp`,
      client: client(),
    });
    expect(done.redirectTo.startsWith(`${APP}/from-idp?code=`)).toBe(true);
  });

  it('leaves the roles of a SCIM directory’s user to the directory', async () => {
    const directory = await h.call(
      ScimDirectoryRpc.create,
      { tenantId: acme.id, name: 'Directory', defaultRole: 'member' },
      OPERATOR,
    );
    await h.call(ScimRpc.createUser, {
      token: directory.token,
      body: {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: 'kim@acme.test',
        active: true,
      },
    });
    const done = await samlSignIn(saml, 'kim@acme.test', ['Admins']);
    const tokens = await h.call(SsoRpc.token, { code: done.code, client: client() });
    expect(claims(tokens.accessToken)).toMatchObject({ roles: ['member'] });
    expect((await userByEmail(acme, 'kim@acme.test'))!.roles).toEqual(['member']);
  });

  it('discovers where an email signs in', async () => {
    const found = await h.call(SsoRpc.discover, { email: 'Someone@ACME.test', client: client() });
    expect(found).toMatchObject({
      method: 'sso',
      tenant: { id: acme.id, slug: 'acme' },
      ssoRequired: false,
    });
    expect(found.connections.map((c) => c.id)).toContain(saml.id);
    expect(found.connections[0]!.loginUrl).toMatch(/\/v1\/auth\/sso\/[0-9a-f-]+\/login$/);
    expect(
      await h.call(SsoRpc.discover, { email: 'x@globex.test', client: client() }),
    ).toMatchObject({
      method: 'password',
      tenant: { id: globex.id },
      connections: [],
    });
    expect(await h.call(SsoRpc.discover, { email: 'x@gmail.com', client: client() })).toEqual({
      method: 'password',
      tenant: null,
      ssoRequired: false,
      connections: [],
    });
  });

  it('throttles SSO requests per client IP at ten times the login budget', async () => {
    const from = client();
    for (let i = 0; i < 20; i++)
      await h.call(SsoRpc.discover, { email: `p${i}@acme.test`, client: from });
    expect(
      await h.failure(SsoRpc.discover, { email: 'one-more@acme.test', client: from }),
    ).toMatchObject({ code: ErrorCode.RateLimited, reason: 'AUTH_RATE_LIMITED' });
    // Another address is not held up.
    await h.call(SsoRpc.discover, { email: 'other@acme.test', client: client() });
  });

  it('signs a person in through OIDC (code + PKCE) with JIT and mapped roles', async () => {
    const placeholder = await h.call(
      SsoConnectionRpc.create,
      {
        tenantId: acme.id,
        name: 'Corporate OIDC',
        protocol: 'oidc',
        jit: true,
        groupRoles: [{ group: 'engineering', roles: ['developer'] }],
        oidc: { issuer: 'http://127.0.0.1:9', clientId: 'tenantry-test', clientSecret: 'later' },
      },
      OPERATOR,
    );
    op = await startOidcProvider({
      port: opPort,
      redirectUri: placeholder.oidc!.redirectUri,
      accounts: [
        {
          sub: 'u-1',
          email: 'ida@acme.test',
          email_verified: true,
          name: 'Ida',
          groups: ['engineering'],
        },
      ],
    });
    const oidc = await h.call(
      SsoConnectionRpc.update,
      {
        tenantId: acme.id,
        connectionId: placeholder.id,
        oidc: { issuer: op.issuer, clientSecret: op.clientSecret },
      },
      OPERATOR,
    );
    const { redirectUrl } = await h.call(SsoRpc.start, {
      connectionId: oidc.id,
      returnTo: `${APP}/oidc`,
      client: client(),
    });
    op.nextLogin('u-1');
    const back = new URL(await op.followLogin(redirectUrl));
    const done = await h.call(SsoRpc.oidcCallback, {
      connectionId: oidc.id,
      query: Object.fromEntries(back.searchParams),
      client: client(),
    });
    expect(done.redirectTo.startsWith(`${APP}/oidc?code=`)).toBe(true);
    const tokens = await h.call(SsoRpc.token, { code: done.code, client: client() });
    expect(claims(tokens.accessToken)).toMatchObject({ amr: ['oidc'], roles: ['developer'] });
    expect(await userByEmail(acme, 'ida@acme.test')).toMatchObject({
      displayName: 'Ida',
      roles: ['developer'],
    });

    // The same callback again (a replayed state) is refused.
    expect(
      await h.failure(SsoRpc.oidcCallback, {
        connectionId: oidc.id,
        query: Object.fromEntries(back.searchParams),
        client: client(),
      }),
    ).toMatchObject({ reason: 'SSO_REJECTED' });
    await refusals('state_unknown');
  });
});
