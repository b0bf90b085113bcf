import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { X509CertificateGenerator } from '@peculiar/x509';
import {
  ApiKeyRpc,
  AuthRpc,
  AuthSettingsRpc,
  DEFAULT_TENANT_SETTINGS,
  DomainRpc,
  ErrorCode,
  IdentityEvents,
  MfaRpc,
  PLATFORM_TENANT_ID,
  ScimDirectoryRpc,
  ScimRpc,
  SsoConnectionRpc,
  SsoRpc,
  SsoSetupLinkRpc,
  TenantLifecycleRpc,
  UserRpc,
  type BootstrapTenantRequest,
  type Quotas,
  type Tenant,
  type TenantProfile,
  type TokenSet,
} from '@tenantry/contracts';
import { TestSamlIdp, waitFor } from '@tenantry/testing';
import { decodeJwt } from 'jose';
import { generate } from 'otplib';
import { v7 as uuidv7 } from 'uuid';
import { client, IdentityHarness, tokenOf } from './identity.harness.js';

const OPERATOR = 'operator:01a00000-0000-7000-8000-0000000000aa';
const PASSWORD = 'a long enough password 42';
const Lifecycle = TenantLifecycleRpc.identity;

/** Every limit unlimited but those given. */
function limits(over: Partial<Quotas> = {}): Quotas {
  return {
    users: null,
    apiCallsPerMinute: null,
    apiCallsPerDay: null,
    storageMb: null,
    customRoles: null,
    ssoConnections: null,
    meteredUnitsPerMonth: null,
    auditRetentionDays: null,
    ...over,
  };
}

/** What the tenants service tells identity of `tenant` (a starter plan with SSO, unlimited unless `over` says). */
function profileOf(tenant: Tenant, over: Partial<TenantProfile> = {}): TenantProfile {
  return {
    tenantId: tenant.id,
    slug: tenant.slug,
    name: tenant.name,
    plan: 'starter',
    settings: { ...DEFAULT_TENANT_SETTINGS },
    limits: limits(),
    features: ['sso', 'scim', 'mfa'],
    roles: ['tenant-admin', 'member', 'viewer', 'developer'],
    ...over,
  };
}

function bootstrapOf(
  tenant: Tenant,
  admin: BootstrapTenantRequest['admin'],
  over: Partial<TenantProfile> = {},
): BootstrapTenantRequest {
  return { ...profileOf(tenant, over), runId: uuidv7(), admin };
}

/** A self-signed certificate as an IdP has, PEM (for a SAML connection given field by field). */
async function idpCertificate(cn: string): Promise<string> {
  const algorithm = {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 2048,
  };
  const crypto = webcrypto as unknown as Crypto;
  const keys = await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const cert = await X509CertificateGenerator.createSelfSigned(
    { name: `CN=${cn}`, keys, signingAlgorithm: algorithm },
    crypto,
  );
  return cert.toString('pem');
}

/** Identity's part of a tenant's life (TenantLifecycleRpc.identity) and its plan's quotas, on real PostgreSQL, Redis, NATS and SMTP. */
describe('tenant lifecycle (identity) and quotas', () => {
  let h: IdentityHarness;
  let idpCert: string;

  beforeAll(async () => {
    [h, idpCert] = await Promise.all([IdentityHarness.start(), idpCertificate('idp.lifecycle')]);
  });

  afterAll(async () => {
    await h?.close();
  });

  const count = async (table: string, tenantId: string): Promise<number> => {
    const [row] = (await h.db.query(
      `SELECT count(*)::int AS n FROM "${table}" WHERE tenant_id = $1`,
      [tenantId],
    )) as { n: number }[];
    return row!.n;
  };

  /** Every table of identity's database with a tenant_id column, as the database lists them. */
  const tenantTables = async (): Promise<string[]> =>
    (
      (await h.db.query(
        `SELECT c.table_name FROM information_schema.columns c
         JOIN information_schema.tables t
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name
         WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id'
           AND t.table_type = 'BASE TABLE'
         ORDER BY 1`,
      )) as { table_name: string }[]
    ).map((row) => row.table_name);

  const login = (tenant: Tenant, email: string, password = PASSWORD) =>
    h.call(AuthRpc.login, { email, password, tenant: tenant.slug, client: client() });

  const tokensOf = async (tenant: Tenant, email: string): Promise<TokenSet> => {
    const result = await login(tenant, email);
    if (!('accessToken' in result)) throw new Error('expected tokens, got an MFA challenge');
    return result;
  };

  const createUser = (tenantId: string, email: string) =>
    h.call(UserRpc.create, { tenantId, email, displayName: email.split('@')[0]! }, OPERATOR);

  const oidcConnection = (tenantId: string, name: string, clientSecret = 'client-secret') =>
    h.call(
      SsoConnectionRpc.create,
      {
        tenantId,
        name,
        protocol: 'oidc',
        oidc: { issuer: 'https://accounts.example.test', clientId: `cid-${name}`, clientSecret },
      },
      OPERATOR,
    );

  /** A domain of the tenant, verified (as its DNS record would verify it). */
  async function verifiedDomain(tenant: Tenant, name: string): Promise<void> {
    const domain = await h.call(DomainRpc.create, { tenantId: tenant.id, domain: name });
    await h.db.query(`UPDATE domains SET verified_at = now() WHERE id = $1`, [domain.id]);
    await h.db.query(
      `INSERT INTO verified_domains (domain, tenant_id, domain_id) VALUES ($1, $2, $3)`,
      [name, tenant.id, domain.id],
    );
  }

  /**
   * A tenant with something in every identity table: a profile and auth settings, an admin
   * with a password, MFA and sessions, an API key, SAML and OIDC connections, a verified
   * domain, a SCIM directory with a user and a group, an SSO setup link. Returns the
   * secrets handed out (tokens, keys), which no export may contain.
   */
  async function populated(slug: string): Promise<{ tenant: Tenant; handedOut: string[] }> {
    const tenant = h.addTenant(slug);
    const email = `admin@${slug}.test`;
    await h.call(Lifecycle.bootstrap, bootstrapOf(tenant, { email, displayName: 'Admin' }));
    const accepted = await h.call(AuthRpc.acceptInvitation, {
      token: tokenOf(await h.nextMail(email, 0)),
      password: PASSWORD,
      client: client(),
    });
    if (!('accessToken' in accepted)) throw new Error('expected tokens');
    const userId = decodeJwt(accepted.accessToken).sub!;
    const enrolment = await h.call(MfaRpc.enrolTotp, { tenantId: tenant.id, userId });
    const { recoveryCodes } = await h.call(MfaRpc.confirmTotp, {
      tenantId: tenant.id,
      userId,
      code: await generate({ secret: enrolment.secret }),
    });
    const apiKey = await h.call(
      ApiKeyRpc.create,
      { tenantId: tenant.id, name: 'CI', scopes: ['users:read'] },
      OPERATOR,
    );
    await h.call(
      SsoConnectionRpc.create,
      {
        tenantId: tenant.id,
        name: 'SAML IdP',
        protocol: 'saml',
        saml: {
          idp: {
            entityId: `https://idp.${slug}.test`,
            ssoUrl: `https://idp.${slug}.test/sso`,
            certificates: [idpCert],
          },
        },
      },
      OPERATOR,
    );
    await oidcConnection(tenant.id, 'OIDC IdP', `oidc-secret-${slug}`);
    await verifiedDomain(tenant, `${slug}.test`);
    const directory = await h.call(
      ScimDirectoryRpc.create,
      { tenantId: tenant.id, name: 'Directory', defaultRole: 'member' },
      OPERATOR,
    );
    const scimUser = await h.call(ScimRpc.createUser, {
      token: directory.token,
      body: {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: `scim@${slug}.test`,
        displayName: 'Scim User',
        active: true,
      },
    });
    await h.call(ScimRpc.createGroup, {
      token: directory.token,
      body: {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
        displayName: 'Engineering',
        members: [{ value: scimUser.id as string }],
      },
    });
    const link = await h.call(SsoSetupLinkRpc.create, { tenantId: tenant.id }, OPERATOR);
    return {
      tenant,
      handedOut: [
        accepted.accessToken,
        accepted.refreshToken,
        enrolment.secret,
        ...recoveryCodes,
        apiKey.key,
        directory.token,
        link.token,
        `oidc-secret-${slug}`,
      ],
    };
  }

  it('bootstraps a tenant once however often it runs: profile, auth settings, one admin invited by one mail', async () => {
    const tenant = h.addTenant('boot', 'Boot Corp', { status: 'provisioning' });
    const request = bootstrapOf(
      tenant,
      { email: 'Founder@Boot.test', displayName: 'Fran Founder' },
      { settings: { ...DEFAULT_TENANT_SETTINGS, mfaRequired: false, sessionTimeoutMinutes: 60 } },
    );
    const first = await h.call(Lifecycle.bootstrap, request);
    // A retried job beside a late first attempt, then a run after a crash.
    const again = [
      ...(await Promise.all([
        h.call(Lifecycle.bootstrap, request),
        h.call(Lifecycle.bootstrap, request),
      ])),
      await h.call(Lifecycle.bootstrap, request),
    ];
    const adminUserId = first.output['adminUserId'] as string;
    expect(first.output).toMatchObject({ invited: true, created: true, adminStatus: 'invited' });
    for (const run of again)
      expect(run.output).toMatchObject({ adminUserId, invited: true, created: false });

    const users = await h.call(UserRpc.list, { tenantId: tenant.id, limit: 50 });
    expect(users.items).toEqual([
      expect.objectContaining({
        id: adminUserId,
        email: 'founder@boot.test',
        displayName: 'Fran Founder',
        status: 'invited',
        roles: ['tenant-admin'],
      }),
    ]);
    const [{ n: queued }] = (await h.db.query(
      `SELECT count(*)::int AS n FROM outgoing_mail WHERE recipient = $1`,
      ['founder@boot.test'],
    )) as { n: number }[];
    expect(queued).toBe(1);
    const mail = await h.nextMail('founder@boot.test', 0);
    expect(mail.text).toContain('Boot Corp');

    expect(await h.call(AuthSettingsRpc.get, { tenantId: tenant.id })).toMatchObject({
      ssoRequired: false,
      mfaRequired: false,
      sessionIdleTimeoutSeconds: 3600,
    });
    const [stored] = (await h.db.query(
      `SELECT plan, limits, features, admin_user_id, bootstrap_run_id FROM tenant_profiles WHERE tenant_id = $1`,
      [tenant.id],
    )) as Record<string, unknown>[];
    expect(stored).toEqual({
      plan: 'starter',
      limits: limits(),
      features: ['sso', 'scim', 'mfa'],
      admin_user_id: adminUserId,
      bootstrap_run_id: request.runId,
    });
    const [fact] = await h.auditEvents(
      (e) => e.action === 'tenant.identity-bootstrapped' && e.target?.id === tenant.id,
    );
    expect(fact).toMatchObject({
      tenantId: PLATFORM_TENANT_ID,
      category: 'users',
      data: { runId: request.runId, adminUserId, adminEmail: 'founder@boot.test' },
    });
    expect(await h.call(Lifecycle.verify, request)).toEqual({
      output: { profile: true, plan: 'starter', adminUserId, adminStatus: 'invited' },
    });

    // The first admin accepts while the tenant is still provisioning, and signs in.
    const accepted = await h.call(AuthRpc.acceptInvitation, {
      token: tokenOf(mail),
      password: PASSWORD,
      client: client(),
    });
    expect(accepted).toHaveProperty('accessToken');
    await h.setTenantStatus(tenant.id, 'active');
    const tokens = await tokensOf(tenant, 'founder@boot.test');
    expect(decodeJwt(tokens.accessToken)).toMatchObject({
      sub: adminUserId,
      tid: tenant.id,
      roles: ['tenant-admin'],
    });

    const noAdmin = h.addTenant('boot-bare');
    expect(await h.call(Lifecycle.bootstrap, bootstrapOf(noAdmin, null))).toMatchObject({
      output: { adminUserId: null, invited: false },
    });
    expect(await count('users', noAdmin.id)).toBe(0);
  });

  it('verify names what is missing', async () => {
    const tenant = h.addTenant('unbooted');
    const failure = await h.failure(
      Lifecycle.verify,
      bootstrapOf(tenant, { email: 'nobody@unbooted.test' }),
    );
    expect(failure).toMatchObject({
      code: ErrorCode.Conflict,
      reason: 'TENANT_BOOTSTRAP_INCOMPLETE',
    });
    expect(failure.message).toContain('no tenant profile');
    expect(failure.message).toContain('nobody@unbooted.test');
  });

  it('compensates exactly what bootstrap made, as often as asked', async () => {
    const tenant = h.addTenant('undo', 'Undo Inc', { status: 'provisioning' });
    const request = bootstrapOf(tenant, { email: 'first@undo.test' });
    const booted = await h.call(Lifecycle.bootstrap, request);
    await h.nextMail('first@undo.test', 0);
    const adminUserId = booted.output['adminUserId'] as string;

    expect(await h.call(Lifecycle.compensate, request)).toEqual({
      output: { adminUserId, removedAdmin: true, authSettings: 1, profile: 1 },
    });
    for (const table of await tenantTables())
      expect([table, await count(table, tenant.id)]).toEqual([table, 0]);
    expect(await h.call(Lifecycle.compensate, request)).toEqual({
      output: { adminUserId: null, removedAdmin: false, authSettings: 0, profile: 0 },
    });
    expect(await h.failure(Lifecycle.verify, request)).toMatchObject({
      reason: 'TENANT_BOOTSTRAP_INCOMPLETE',
    });

    // An admin bootstrap found (made by someone else before) is not bootstrap's to remove.
    const other = h.addTenant('undo-found');
    const existing = await createUser(other.id, 'boss@undo-found.test');
    const found = await h.call(
      Lifecycle.bootstrap,
      bootstrapOf(other, { email: 'BOSS@undo-found.test' }),
    );
    expect(found.output).toMatchObject({
      adminUserId: existing.id,
      invited: false,
      created: false,
    });
    expect(
      (await h.call(UserRpc.get, { tenantId: other.id, userId: existing.id })).roles.sort(),
    ).toEqual(['member', 'tenant-admin']);
    expect(
      await h.call(Lifecycle.compensate, bootstrapOf(other, { email: 'boss@undo-found.test' })),
    ).toMatchObject({ output: { removedAdmin: false, profile: 1 } });
    expect(await count('users', other.id)).toBe(1);
  });

  it('reports usage: users of any status and SSO connections', async () => {
    const tenant = h.addTenant('usage');
    await h.call(Lifecycle.configure, profileOf(tenant));
    const made = [];
    for (const name of ['a', 'b', 'c'])
      made.push(await createUser(tenant.id, `${name}@usage.test`));
    await h.call(UserRpc.disable, { tenantId: tenant.id, userId: made[0]!.id });
    await oidcConnection(tenant.id, 'One');
    await oidcConnection(tenant.id, 'Two');
    expect(await h.call(Lifecycle.usage, { tenantId: tenant.id })).toEqual({
      usage: { users: 3, ssoConnections: 2 },
    });
    await h.call(UserRpc.delete, { tenantId: tenant.id, userId: made[1]!.id });
    expect(await h.call(Lifecycle.usage, { tenantId: tenant.id })).toEqual({
      usage: { users: 2, ssoConnections: 2 },
    });
  });

  it('refuses the 11th user of a 10-user plan, naming the limit, whichever way it is created', async () => {
    const tenant = h.addTenant('ten');
    await h.call(
      Lifecycle.bootstrap,
      bootstrapOf(
        tenant,
        { email: 'admin@ten.test' },
        { plan: 'free', limits: limits({ users: 10 }) },
      ),
    );
    for (let i = 1; i <= 9; i++) await createUser(tenant.id, `user${i}@ten.test`);
    const refused = await h.failure(
      UserRpc.create,
      { tenantId: tenant.id, email: 'eleventh@ten.test', displayName: 'Eleven' },
      OPERATOR,
    );
    expect(refused).toMatchObject({ code: ErrorCode.Conflict, reason: 'QUOTA_EXCEEDED' });
    expect(refused.message).toContain(
      "the tenant's plan (free) allows 10 users (limit users) and the tenant has 10",
    );

    const directory = await h.call(
      ScimDirectoryRpc.create,
      { tenantId: tenant.id, name: 'Directory' },
      OPERATOR,
    );
    expect(
      await h.failure(ScimRpc.createUser, {
        token: directory.token,
        body: {
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
          userName: 'scim@ten.test',
          active: true,
        },
      }),
    ).toMatchObject({ reason: 'QUOTA_EXCEEDED' });
    expect(await count('users', tenant.id)).toBe(10);

    // A larger limit (a plan change, an override) lets the next one in.
    await h.call(
      Lifecycle.configure,
      profileOf(tenant, { plan: 'free', limits: limits({ users: 11 }) }),
    );
    await expect(createUser(tenant.id, 'eleventh@ten.test')).resolves.toMatchObject({
      status: 'invited',
    });
  });

  it('lets exactly 5 of 20 parallel creations through at a 5-user limit', async () => {
    const tenant = h.addTenant('race');
    await h.call(Lifecycle.configure, profileOf(tenant, { limits: limits({ users: 5 }) }));
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => createUser(tenant.id, `racer${i}@race.test`)),
    );
    const made = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected');
    expect(made).toHaveLength(5);
    for (const r of refused) expect(r.reason).toMatchObject({ reason: 'QUOTA_EXCEEDED' });
    expect(await count('users', tenant.id)).toBe(5);
    expect(await count('user_tokens', tenant.id)).toBe(5);
  });

  it('allows SSO connections only with the sso feature, up to the plan’s limit', async () => {
    const tenant = h.addTenant('sso-quota');
    await h.call(Lifecycle.configure, profileOf(tenant, { plan: 'free', features: [] }));
    const featureless = await h.failure(
      SsoConnectionRpc.create,
      {
        tenantId: tenant.id,
        name: 'Nope',
        protocol: 'oidc',
        oidc: { issuer: 'https://idp.example.test', clientId: 'x', clientSecret: 'y' },
      },
      OPERATOR,
    );
    expect(featureless).toMatchObject({
      code: ErrorCode.Forbidden,
      reason: 'FEATURE_NOT_IN_PLAN',
    });
    expect(featureless.message).toContain('(feature sso)');

    await h.call(
      Lifecycle.configure,
      profileOf(tenant, { features: ['sso'], limits: limits({ ssoConnections: 1 }) }),
    );
    await oidcConnection(tenant.id, 'Only');
    const second = await h.failure(
      SsoConnectionRpc.create,
      {
        tenantId: tenant.id,
        name: 'Second',
        protocol: 'saml',
        saml: {
          idp: {
            entityId: 'https://idp.sso-quota.test',
            ssoUrl: 'https://idp.sso-quota.test/sso',
            certificates: [idpCert],
          },
        },
      },
      OPERATOR,
    );
    expect(second).toMatchObject({ code: ErrorCode.Conflict, reason: 'QUOTA_EXCEEDED' });
    expect(second.message).toContain(
      "the tenant's plan (starter) allows 1 SSO connection (limit ssoConnections) and the tenant has 1",
    );
    expect(await count('sso_connections', tenant.id)).toBe(1);

    // A tenant without a profile (older than provisioning) is unlimited.
    const legacy = h.addTenant('sso-legacy');
    for (const name of ['A', 'B', 'C']) await oidcConnection(legacy.id, name);
    expect(await count('sso_connections', legacy.id)).toBe(3);
  });

  it('refuses an SSO just-in-time user past the users limit, and SSO sign-in to a suspended tenant', async () => {
    const idp = await TestSamlIdp.start();
    try {
      const tenant = h.addTenant('jit');
      await h.call(
        Lifecycle.bootstrap,
        bootstrapOf(tenant, { email: 'admin@jit.test' }, { limits: limits({ users: 2 }) }),
      );
      await verifiedDomain(tenant, 'jit.test');
      const connection = await h.call(
        SsoConnectionRpc.create,
        {
          tenantId: tenant.id,
          name: 'Okta',
          protocol: 'saml',
          jit: true,
          saml: { idp: { metadataXml: idp.metadataXml() } },
        },
        OPERATOR,
      );
      idp.trustSp({
        entityId: connection.saml!.sp.entityId,
        acsUrl: connection.saml!.sp.acsUrl,
        certificate: connection.saml!.sp.certificate,
      });
      const signIn = async (email: string) => {
        const { redirectUrl } = await h.call(SsoRpc.start, {
          connectionId: connection.id,
          client: client(),
        });
        const posted = await idp.respondTo(redirectUrl, { nameId: email, email });
        return h.call(SsoRpc.samlAcs, {
          connectionId: connection.id,
          samlResponse: posted.samlResponse,
          ...(posted.relayState ? { relayState: posted.relayState } : {}),
          client: client(),
        });
      };
      await expect(signIn('first@jit.test')).resolves.toHaveProperty('code');
      const refused = await signIn('second@jit.test').then(
        () => null,
        (error: Error) => error,
      );
      expect(refused).toMatchObject({ code: ErrorCode.Conflict, reason: 'QUOTA_EXCEEDED' });
      expect(refused!.message).toContain('allows 2 users (limit users)');
      expect(await count('users', tenant.id)).toBe(2);
      // Someone already there still signs in.
      await expect(signIn('first@jit.test')).resolves.toHaveProperty('code');

      await h.setTenantStatus(tenant.id, 'suspended', 'security review');
      const barred = await waitFor('SSO refused while suspended', async () =>
        h.call(SsoRpc.start, { connectionId: connection.id, client: client() }).then(
          () => undefined,
          (error: { reason?: string; code?: string }) =>
            error.reason === 'TENANT_SUSPENDED' ? error : undefined,
        ),
      );
      expect(barred).toMatchObject({ code: ErrorCode.Forbidden });
    } finally {
      await idp.close();
    }
  });

  it('suspends: every session revoked and announced; sign-in and refresh refused while the tenant is barred', async () => {
    const tenant = h.addTenant('halt', 'Halt GmbH');
    await h.activeUser(tenant.id, 'ana@halt.test', PASSWORD);
    await h.activeUser(tenant.id, 'bo@halt.test', PASSWORD);
    const sessions = [
      await tokensOf(tenant, 'ana@halt.test'),
      await tokensOf(tenant, 'bo@halt.test'),
    ];
    const live = Number(
      (
        (await h.db.query(
          `SELECT count(*)::int AS n FROM sessions WHERE tenant_id = $1 AND revoked_at IS NULL`,
          [tenant.id],
        )) as { n: number }[]
      )[0]!.n,
    );
    expect(live).toBe(4);

    expect(
      await h.call(Lifecycle.suspend, { tenantId: tenant.id, reason: 'unpaid invoices' }),
    ).toEqual({ output: { revokedSessions: 4 } });
    const sids = sessions.map((s) => decodeJwt(s.accessToken)['sid'] as string);
    await waitFor(
      'the revocations on EVENTS',
      async () => {
        const revoked = (await h.streamMessages<{ sessionId: string }>('EVENTS')).filter((m) =>
          m.subject.endsWith(IdentityEvents.sessionRevoked.subject),
        );
        return sids.every((sid) => revoked.some((m) => m.data.sessionId === sid));
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    const [{ reasons }] = (await h.db.query(
      `SELECT array_agg(DISTINCT revoked_reason) AS reasons FROM sessions WHERE tenant_id = $1`,
      [tenant.id],
    )) as { reasons: string[] }[];
    expect(reasons).toEqual(['tenant_suspended']);
    await h.auditEvents(
      (e) =>
        e.tenantId === tenant.id &&
        e.action === 'sessions.revoked' &&
        e.data?.['reason'] === 'tenant_suspended' &&
        e.data?.['count'] === 4,
    );
    await h.setTenantStatus(tenant.id, 'suspended', 'unpaid invoices');

    const refused = await h.failure(AuthRpc.login, {
      email: 'ana@halt.test',
      password: PASSWORD,
      tenant: tenant.slug,
      client: client(),
    });
    expect(refused).toMatchObject({ code: ErrorCode.Forbidden, reason: 'TENANT_SUSPENDED' });
    expect(refused.message).toContain('halt');
    expect(refused.message).toContain('unpaid invoices');
    // A wrong password still gets the one usual answer.
    expect(
      await h.failure(AuthRpc.login, {
        email: 'ana@halt.test',
        password: 'not the password at all',
        tenant: tenant.slug,
        client: client(),
      }),
    ).toMatchObject({ reason: 'INVALID_CREDENTIALS' });
    expect(
      await h.failure(AuthRpc.refresh, {
        refreshToken: sessions[0]!.refreshToken,
        client: client(),
      }),
    ).toMatchObject({ code: ErrorCode.Forbidden, reason: 'TENANT_SUSPENDED' });
    expect(
      await h.call(Lifecycle.suspend, { tenantId: tenant.id, reason: 'unpaid invoices' }),
    ).toEqual({ output: { revokedSessions: 0 } });

    // Reactivated: the event reaches identity's cache, and sign-in works again.
    await h.setTenantStatus(tenant.id, 'active');
    await waitFor('sign-in after reactivation', async () =>
      login(tenant, 'ana@halt.test').then(
        (result) => 'accessToken' in result,
        () => false,
      ),
    );
    // Now cached as active: a deletion scheduled is followed at once (not after the cache's minute).
    await h.setTenantStatus(tenant.id, 'deprovisioning');
    const unavailable = await waitFor(
      'sign-in refused after deprovisioning',
      async () =>
        login(tenant, 'bo@halt.test').then(
          () => undefined,
          (error: { reason?: string; code?: string; message?: string }) =>
            error.reason === 'TENANT_UNAVAILABLE' ? error : undefined,
        ),
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    expect(unavailable).toMatchObject({ code: ErrorCode.Forbidden });
    expect(unavailable.message).toContain('deprovisioning');
  });

  it('ends a session idle for longer than the tenant’s session timeout', async () => {
    const tenant = h.addTenant('idle');
    await h.call(
      Lifecycle.configure,
      profileOf(tenant, { settings: { ...DEFAULT_TENANT_SETTINGS, sessionTimeoutMinutes: 5 } }),
    );
    await h.activeUser(tenant.id, 'sleepy@idle.test', PASSWORD);
    const idle = await tokensOf(tenant, 'sleepy@idle.test');
    const busy = await tokensOf(tenant, 'sleepy@idle.test');
    const idleSid = decodeJwt(idle.accessToken)['sid'] as string;
    await h.db.query(
      `UPDATE sessions SET last_used_at = now() - interval '6 minutes' WHERE id = $1`,
      [idleSid],
    );
    expect(
      await h.failure(AuthRpc.refresh, { refreshToken: idle.refreshToken, client: client() }),
    ).toMatchObject({
      reason: 'REFRESH_TOKEN_INVALID',
    });
    const [row] = (await h.db.query(`SELECT revoked_reason FROM sessions WHERE id = $1`, [
      idleSid,
    ])) as { revoked_reason: string }[];
    expect(row!.revoked_reason).toBe('idle_timeout');
    await expect(
      h.call(AuthRpc.refresh, { refreshToken: busy.refreshToken, client: client() }),
    ).resolves.toHaveProperty('accessToken');
  });

  it('exports the tenant’s identity data by table without secrets, hashes, private keys or tokens', async () => {
    const { tenant, handedOut } = await populated('exported');
    const { data } = await h.call(Lifecycle.export, { tenantId: tenant.id });
    for (const table of [
      'tenant_profiles',
      'auth_settings',
      'users',
      'roles',
      'sessions',
      'api_keys',
      'domains',
      'sso_connections',
      'scim_directories',
      'scim_groups',
      'scim_group_members',
      'sso_setup_links',
      'mfa_totp',
    ])
      expect([table, (data[table] ?? []).length > 0]).toEqual([table, true]);
    expect(data['users']).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          email: 'admin@exported.test',
          hasPassword: true,
          mfaEnabled: true,
        }),
      ]),
    );
    expect(data['roles']).toEqual(
      expect.arrayContaining([expect.objectContaining({ role: 'tenant-admin' })]),
    );

    const stored = (
      (await h.db.query(
        `SELECT password_hash AS s FROM users WHERE tenant_id = $1 AND password_hash IS NOT NULL
         UNION ALL SELECT password_hash FROM password_history WHERE tenant_id = $1
         UNION ALL SELECT secret_hash FROM user_tokens WHERE tenant_id = $1
         UNION ALL SELECT secret_hash FROM refresh_tokens WHERE tenant_id = $1
         UNION ALL SELECT secret_hash FROM api_keys WHERE tenant_id = $1
         UNION ALL SELECT secret FROM mfa_totp WHERE tenant_id = $1
         UNION ALL SELECT code_hash FROM recovery_codes WHERE tenant_id = $1
         UNION ALL SELECT saml_sp_private_key FROM sso_connections WHERE tenant_id = $1 AND saml_sp_private_key IS NOT NULL
         UNION ALL SELECT oidc_client_secret FROM sso_connections WHERE tenant_id = $1 AND oidc_client_secret IS NOT NULL
         UNION ALL SELECT token_hash FROM scim_directories WHERE tenant_id = $1
         UNION ALL SELECT token_id::text FROM scim_directories WHERE tenant_id = $1
         UNION ALL SELECT verification_token FROM domains WHERE tenant_id = $1
         UNION ALL SELECT secret_hash FROM sso_setup_links WHERE tenant_id = $1`,
        [tenant.id],
      )) as { s: string }[]
    ).map((row) => row.s);
    expect(stored.length).toBeGreaterThanOrEqual(12);
    const exported = JSON.stringify(data);
    for (const secret of [...stored, ...handedOut]) expect(exported).not.toContain(secret);
    expect(exported).not.toMatch(
      /PRIVATE KEY|password_?hash|secret_?hash|token_?hash|clientSecret/i,
    );
  });

  it('removes every row of the tenant from every identity table, and nothing of another tenant', async () => {
    const { tenant } = await populated('doomed');
    const { tenant: bystander } = await populated('bystander');
    const tables = await tenantTables();
    const before = Object.fromEntries(
      await Promise.all(tables.map(async (t) => [t, await count(t, bystander.id)] as const)),
    );
    for (const table of [
      'users',
      'sessions',
      'sso_connections',
      'scim_group_members',
      'credential_lookup',
    ])
      expect([table, await count(table, tenant.id)]).not.toEqual([table, 0]);

    const { removed } = await h.call(Lifecycle.remove, { tenantId: tenant.id });
    expect(Object.keys(removed).sort()).toEqual(tables);
    expect(removed).toMatchObject({ tenant_profiles: 1, auth_settings: 1, verified_domains: 1 });
    expect(removed['users']).toBe(2);
    for (const table of tables) expect([table, await count(table, tenant.id)]).toEqual([table, 0]);
    for (const table of tables)
      expect([table, await count(table, bystander.id)]).toEqual([table, before[table]]);

    // Its key is announced as revoked; its users are gone; a second removal removes nothing.
    await waitFor('the API key revocation on EVENTS', async () =>
      (await h.streamMessages<{ tenantId: string }>('EVENTS')).some(
        (m) =>
          m.subject.endsWith(IdentityEvents.apiKeyRevoked.subject) && m.data.tenantId === tenant.id,
      ),
    );
    expect(
      await h.failure(AuthRpc.login, {
        email: 'admin@doomed.test',
        password: PASSWORD,
        tenant: tenant.slug,
        client: client(),
      }),
    ).toMatchObject({ reason: 'INVALID_CREDENTIALS' });
    const again = await h.call(Lifecycle.remove, { tenantId: tenant.id });
    expect(Object.values(again.removed).every((n) => n === 0)).toBe(true);
  });

  it('refuses lifecycle verbs for the platform tenant', async () => {
    const refusal = { code: ErrorCode.ValidationFailed, reason: 'TENANT_LIFECYCLE_PLATFORM' };
    expect(await h.failure(Lifecycle.remove, { tenantId: PLATFORM_TENANT_ID })).toMatchObject(
      refusal,
    );
    expect(
      await h.failure(Lifecycle.suspend, { tenantId: PLATFORM_TENANT_ID, reason: 'no' }),
    ).toMatchObject(refusal);
  });
});
