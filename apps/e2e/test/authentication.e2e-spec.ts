/**
 * Authentication and authorization at the gateway, against the running platform: the JWT
 * attack catalogue, every route closed without credentials, tenants that cannot see each
 * other (the same 404 as a tenant that does not exist), revocations reaching a second
 * gateway instance within about a second, API keys, and the refresh cookie's CSRF header.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Namespace } from '@tenantry/contracts';
import {
  createActiveTenant,
  freePort,
  Platform,
  REPO_ROOT,
  ServiceProcess,
  SoftPasskey,
  startSmtpServer,
  tokenInMail,
  waitFor,
  type TestSmtpServer,
} from '@tenantry/testing';
import {
  decodeJwt,
  decodeProtectedHeader,
  exportSPKI,
  generateKeyPair,
  importJWK,
  importPKCS8,
  SignJWT,
  type CryptoKey,
  type JWTPayload,
} from 'jose';
import pg from 'pg';

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

interface CallOptions {
  token?: string;
  apiKey?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

async function call(
  base: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Reply> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.apiKey ? { 'x-api-key': options.apiKey } : {}),
      ...options.headers,
    },
    body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, text, body };
}

/** The fields of a problem document: a refusal carries these and nothing else. */
const PROBLEM_FIELDS = new Set([
  'type',
  'title',
  'status',
  'detail',
  'instance',
  'code',
  'reason',
  'requestId',
  'errors',
  'errorCount',
]);

/** A 401 problem with WWW-Authenticate: Bearer, and no data. */
function expectUnauthenticated(reply: Reply, what: string): void {
  expect({ what, status: reply.status, body: reply.text.slice(0, 300) }).toMatchObject({
    what,
    status: 401,
  });
  expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer/);
  if (what.includes(' /scim/v2/')) {
    // SCIM clients get SCIM's error document (RFC 7644 §3.12), with no data either.
    expect(reply.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(Object.keys(reply.body).sort()).toEqual(['detail', 'schemas', 'status']);
    expect(reply.body.status).toBe('401');
    return;
  }
  expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(reply.body.code).toBe('UNAUTHENTICATED');
  for (const key of Object.keys(reply.body))
    expect({ what, key, data: PROBLEM_FIELDS.has(key) }).toEqual({ what, key, data: true });
}

/** A path of the OpenAPI document with its parameters filled in. */
function fill(path: string, values: Record<string, string> = {}): string {
  return path.replace(/\{([^}]+)\}/g, (_m, name: string) => values[name] ?? randomUUID());
}

/** A problem document with what legitimately differs taken out: the request id, and the tenant id in the path. */
function comparable(reply: Reply, tenantId: string) {
  const { requestId: _requestId, ...rest } = reply.body as Record<string, unknown>;
  return JSON.parse(JSON.stringify(rest).replaceAll(tenantId, '{tenantId}'));
}

/** Response headers that are not allowed to differ between two 404s. */
function headerNames(reply: Reply): Record<string, string> {
  const kept: Record<string, string> = {};
  reply.headers.forEach((value, name) => {
    if (!['date', 'x-request-id', 'keep-alive', 'connection'].includes(name)) kept[name] = value;
  });
  return kept;
}

const ADMIN_EMAIL = 'operator@auth-e2e.test';
/** Passkeys' relying party and the frontend origin their ceremonies run on, as set for identity. */
const PASSKEY_RP_ID = 'app.auth-e2e.test';
const PASSKEY_ORIGIN = 'https://app.auth-e2e.test';

describe('authentication at the gateway', () => {
  const adminPassword = randomBytes(18).toString('base64url');
  let smtp: TestSmtpServer;
  let platform: Platform;
  let gw: string;
  /** A second gateway instance of the same platform: revocations must reach it as events. */
  let gw2: ServiceProcess;
  let db: pg.Client;
  let operatorToken: string;
  let tenantA: string;
  let tenantB: string;
  let adminOfA: { id: string; email: string; password: string; token: string };
  let userOfB: string;
  let keyOfB: string;
  /** The identity service's current signing key, read from its database: forged tokens below differ from real ones only in what each case changes. */
  let signing: { kid: string; key: CryptoKey };
  let realClaims: JWTPayload;

  /** Signs with the real key: a token identity could have issued, but for `over`. */
  function forge(over: JWTPayload = {}, header: Record<string, unknown> = {}): Promise<string> {
    const payload: JWTPayload = { ...realClaims, jti: randomUUID(), ...over };
    for (const [name, value] of Object.entries(over)) if (value === undefined) delete payload[name];
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: signing.kid, ...header })
      .sign(signing.key);
  }

  async function login(
    email: string,
    password: string,
    tenant?: string,
    headers?: Record<string, string>,
  ) {
    return call(gw, 'POST', '/v1/auth/login', {
      body: { email, password, ...(tenant ? { tenant } : {}) },
      headers,
    });
  }

  async function invite(tenantId: string, email: string, roles: string[]): Promise<string> {
    const invited = await call(gw, 'POST', `/v1/tenants/${tenantId}/users`, {
      token: operatorToken,
      body: { email, displayName: email.split('@')[0], roles },
    });
    expect(invited.status).toBe(201);
    return invited.body.id as string;
  }

  async function acceptInvitation(email: string): Promise<{ token: string; password: string }> {
    const mail = await waitFor(`the invitation to ${email}`, async () =>
      smtp.mails.find((m) => m.to === email),
    );
    const password = `Correct-Horse-${randomBytes(6).toString('hex')}`;
    const accepted = await call(gw, 'POST', '/v1/auth/invitations/accept', {
      body: { token: tokenInMail(mail.text), password },
    });
    expect(accepted.status).toBe(200);
    return { token: accepted.body.accessToken as string, password };
  }

  beforeAll(async () => {
    smtp = await startSmtpServer();
    platform = await Platform.create({
      env: {
        TENANTRY_ADMIN_EMAIL: ADMIN_EMAIL,
        TENANTRY_ADMIN_PASSWORD: adminPassword,
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        // Passkeys: the frontend where their ceremonies run.
        WEBAUTHN_RP_ID: PASSKEY_RP_ID,
        WEBAUTHN_ORIGINS: PASSKEY_ORIGIN,
      },
    });
    await platform.start();
    gw = platform.gatewayUrl;
    gw2 = new ServiceProcess({
      service: 'gateway',
      root: REPO_ROOT,
      port: await freePort(),
      env: {
        TENANTRY_NAMESPACE: platform.namespace,
        NATS_URL: platform.infra.natsUrl,
        REDIS_URL: platform.infra.redisUrl,
        LOG_LEVEL: 'warn',
      },
    });
    gw2.start();
    await gw2.waitReady(60_000);

    const operator = await login(ADMIN_EMAIL, adminPassword);
    expect(operator.status).toBe(200);
    operatorToken = operator.body.accessToken;
    realClaims = decodeJwt(operatorToken);

    const url = new URL(platform.infra.bootstrapUrl);
    url.pathname = `/${new Namespace(platform.namespace).database('identity')}`;
    db = new pg.Client({ connectionString: url.toString() });
    await db.connect();
    const kid = decodeProtectedHeader(operatorToken).kid!;
    const row = (await db.query('SELECT private_pkcs8 FROM signing_keys WHERE kid = $1', [kid]))
      .rows[0];
    signing = { kid, key: await importPKCS8(row.private_pkcs8 as string, 'EdDSA') };

    // Enterprise: no per-tenant API call limit (free allows 60 a minute; the route sweeps below make hundreds).
    const created = await Promise.all(
      ['auth-a', 'auth-b'].map((slug) =>
        createActiveTenant(gw, operatorToken, { name: slug, slug, plan: 'enterprise' }),
      ),
    );
    [tenantA, tenantB] = created.map((t) => t.id) as [string, string];

    const adminId = await invite(tenantA, 'admin@auth-a.test', ['tenant-admin']);
    const accepted = await acceptInvitation('admin@auth-a.test');
    adminOfA = { id: adminId, email: 'admin@auth-a.test', ...accepted };
    userOfB = await invite(tenantB, 'member@auth-b.test', ['member']);
    const key = await call(gw, 'POST', `/v1/tenants/${tenantB}/api-keys`, {
      token: operatorToken,
      body: { name: 'b reader', scopes: ['users:read'] },
    });
    expect(key.status).toBe(201);
    keyOfB = key.body.id;
  });

  afterAll(async () => {
    await db?.end();
    await gw2?.stop();
    await platform?.destroy();
    await smtp?.close();
  });

  describe('the JWT attack catalogue: each refused with 401 and no data', () => {
    const protectedPaths = () => ['/v1/tenants', `/v1/tenants/${tenantA}/users`, '/v1/me'];

    it('accepts the control: a token with the real key and the real claims (so each refusal below is for its one flaw)', async () => {
      const control = await forge();
      for (const path of protectedPaths()) {
        expect((await call(gw, 'GET', path, { token: control })).status).toBe(200);
      }
    });

    const cases: [string, () => Promise<string>][] = [
      [
        'alg none',
        async () => {
          const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
          return `${b64({ alg: 'none', typ: 'at+jwt', kid: signing.kid })}.${b64({ ...realClaims, jti: randomUUID() })}.`;
        },
      ],
      [
        'HS256 signed with the public key (PEM) as the secret',
        async () => {
          const jwks = await call(gw, 'GET', '/.well-known/jwks.json');
          const jwk = jwks.body.keys.find((k: { kid: string }) => k.kid === signing.kid);
          const pem = await exportSPKI(
            (await importJWK(jwk, 'EdDSA', { extractable: true })) as CryptoKey,
          );
          return new SignJWT({ ...realClaims, jti: randomUUID() })
            .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: signing.kid })
            .sign(new TextEncoder().encode(pem));
        },
      ],
      [
        'HS256 signed with the raw public key as the secret',
        async () => {
          const jwks = await call(gw, 'GET', '/.well-known/jwks.json');
          const jwk = jwks.body.keys.find((k: { kid: string }) => k.kid === signing.kid);
          return new SignJWT({ ...realClaims, jti: randomUUID() })
            .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: signing.kid })
            .sign(new Uint8Array(Buffer.from(jwk.x, 'base64url')));
        },
      ],
      [
        'a token signed by an unknown key, under the real kid',
        async () => {
          const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
          return new SignJWT({ ...realClaims, jti: randomUUID() })
            .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: signing.kid })
            .sign(privateKey);
        },
      ],
      [
        'an unknown kid',
        async () => {
          const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
          return new SignJWT({ ...realClaims, jti: randomUUID() })
            .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: `unknown-${randomUUID()}` })
            .sign(privateKey);
        },
      ],
      ['no kid', () => forge({}, { kid: undefined })],
      [
        'expired',
        () => {
          const now = Math.floor(Date.now() / 1000);
          return forge({ iat: now - 900, exp: now - 60 });
        },
      ],
      [
        'not yet valid (nbf in 5 minutes)',
        () => forge({ nbf: Math.floor(Date.now() / 1000) + 300 }),
      ],
      ['the wrong issuer', () => forge({ iss: 'https://evil.example' })],
      ['the wrong audience', () => forge({ aud: 'somebody-else' })],
      ['no audience', () => forge({ aud: undefined })],
      ['the wrong type (typ JWT, an ID token)', () => forge({}, { typ: 'JWT' })],
      [
        'a truncated signature',
        async () => {
          const token = await forge();
          return token.slice(0, -6);
        },
      ],
      [
        'an altered signature',
        async () => {
          const [h, p, s] = (await forge()).split('.') as [string, string, string];
          return `${h}.${p}.${s.slice(0, 20)}${s[20] === 'A' ? 'B' : 'A'}${s.slice(21)}`;
        },
      ],
      [
        'an altered payload (a member made tenant-admin)',
        async () => {
          const [h, , s] = operatorToken.split('.') as [string, string, string];
          const payload = Buffer.from(
            JSON.stringify({ ...realClaims, roles: ['platform-operator', 'owner'] }),
          ).toString('base64url');
          return `${h}.${payload}.${s}`;
        },
      ],
      ['a token of no tenant without the operator role', () => forge({ roles: ['member'] })],
    ];

    it.each(cases)('%s', async (what, make) => {
      const token = await make();
      for (const path of protectedPaths()) {
        expectUnauthenticated(await call(gw, 'GET', path, { token }), `${what}: GET ${path}`);
      }
    });

    it('a JWT in the X-API-Key header', async () => {
      for (const path of protectedPaths()) {
        expectUnauthenticated(
          await call(gw, 'GET', path, { apiKey: operatorToken }),
          `GET ${path}`,
        );
      }
    });

    it('anything but a bearer token or an API key', async () => {
      for (const authorization of [
        `Basic ${Buffer.from(`${ADMIN_EMAIL}:${adminPassword}`).toString('base64')}`,
        'Bearer',
        `Token ${operatorToken}`,
        `Bearer tnty_${'A'.repeat(12)}_${'s'.repeat(43)}`,
      ]) {
        expectUnauthenticated(
          await call(gw, 'GET', '/v1/tenants', { headers: { authorization } }),
          authorization.slice(0, 20),
        );
      }
    });
  });

  describe('routes', () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let doc: any;
    const PUBLIC = [
      'GET /.well-known/jwks.json',
      'GET /v1/health',
      'POST /v1/auth/invitations/accept',
      'POST /v1/auth/login',
      'POST /v1/auth/mfa/enrol',
      'POST /v1/auth/mfa/passkey-enrol',
      'POST /v1/auth/mfa/passkey-enrol/options',
      'POST /v1/auth/mfa/passkey-options',
      'POST /v1/auth/mfa/verify',
      'POST /v1/auth/passkey/login',
      'POST /v1/auth/passkey/options',
      'POST /v1/auth/password-reset',
      'POST /v1/auth/password-reset/complete',
      'POST /v1/auth/refresh',
      // Single sign-on: the browser and the IdP arrive without Tenantry credentials.
      'GET /v1/auth/sso/oidc/{connectionId}/callback',
      'GET /v1/auth/sso/saml/{connectionId}/metadata',
      'GET /v1/auth/sso/{connectionId}/login',
      'POST /v1/auth/sso/discover',
      'POST /v1/auth/sso/saml/{connectionId}/acs',
      'POST /v1/auth/sso/token',
      'POST /v1/sso-setup/session',
      // The audit checkpoints' public keys, for anyone verifying offline.
      'GET /v1/audit/keys',
      // SCIM's static discovery documents (every other SCIM route takes the directory's token).
      'GET /scim/v2/ResourceTypes',
      'GET /scim/v2/ResourceTypes/{id}',
      'GET /scim/v2/Schemas',
      'GET /scim/v2/Schemas/{id}',
      'GET /scim/v2/ServiceProviderConfig',
    ].sort();
    const operations = () =>
      Object.entries(doc.paths as Record<string, Record<string, { security?: unknown[] }>>).flatMap(
        ([path, item]) =>
          Object.entries(item).map(([method, operation]) => ({
            method: method.toUpperCase(),
            path,
            operation,
          })),
      );

    beforeAll(async () => {
      const reply = await call(gw, 'GET', '/openapi.json');
      expect(reply.status).toBe(200);
      doc = reply.body;
    });

    it('serves the docs, the OpenAPI document and the JWKS without credentials', async () => {
      expect((await fetch(`${gw}/docs`)).status).toBe(200);
      const jwks = await call(gw, 'GET', '/.well-known/jwks.json');
      expect(jwks.status).toBe(200);
      expect(jwks.headers.get('cache-control')).toBe('public, max-age=300');
      expect(jwks.body.keys).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ kid: signing.kid, kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' }),
        ]),
      );
      const health = await call(gw, 'GET', '/v1/health');
      // What is down, when something is.
      expect({ status: health.status, body: health.status === 200 ? 'up' : health.body }).toEqual({
        status: 200,
        body: 'up',
      });
    });

    it('declares the security schemes, and each operation its requirement (public ones none)', () => {
      expect(doc.components.securitySchemes).toMatchObject({
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      });
      const open = operations()
        .filter((o) => Array.isArray(o.operation.security) && o.operation.security.length === 0)
        .map((o) => `${o.method} ${o.path}`)
        .sort();
      expect(open).toEqual(PUBLIC);
      for (const { method, path, operation } of operations()) {
        if (PUBLIC.includes(`${method} ${path}`)) continue;
        // Routes whose service checks a token of its own: a SCIM directory's, a setup session's.
        const own = path.startsWith('/scim/v2/')
          ? 'scimToken'
          : path.startsWith('/v1/sso-setup/')
            ? 'setupSession'
            : undefined;
        if (own) {
          expect({ op: `${method} ${path}`, security: operation.security }).toEqual({
            op: `${method} ${path}`,
            security: [{ [own]: [] }],
          });
          continue;
        }
        expect({ op: `${method} ${path}`, security: operation.security }).toEqual({
          op: `${method} ${path}`,
          security: expect.arrayContaining([expect.any(Object)]),
        });
        expect(Object.keys((operation as { responses: object }).responses)).toEqual(
          expect.arrayContaining(['401', '403']),
        );
      }
      // The permission each route takes, whether an access token or an API key carries the caller.
      expect(doc.paths['/v1/tenants/{tenantId}/users'].get.security).toEqual([
        { bearer: ['users:read'] },
        { apiKey: ['users:read'] },
      ]);
    });

    it('answers every route but the public ones with 401 without credentials (path parameters random)', async () => {
      const checked: string[] = [];
      for (const { method, path } of operations()) {
        if (PUBLIC.includes(`${method} ${path}`)) continue;
        const url = fill(path);
        expectUnauthenticated(await call(gw, method, url), `${method} ${url}`);
        expectUnauthenticated(
          await call(gw, method, url, { token: 'not-a-token' }),
          `${method} ${url} with a bad token`,
        );
        checked.push(`${method} ${path}`);
      }
      expect(checked.length).toBeGreaterThan(30);
      // And nothing outside the document either: the runtime's probes aside, an unknown path is a 404.
      expect((await call(gw, 'GET', '/v1/nothing-here')).status).toBe(404);
    });

    it('gives a user of tenant A, on every tenant-scoped route, the same 404 for tenant B as for a tenant that does not exist', async () => {
      const scoped = operations().filter(
        ({ path }) => path.includes('{tenantId}') || path === '/v1/tenants/{id}',
      );
      expect(scoped.length).toBeGreaterThan(15);
      const nowhere = randomUUID();
      const ids: Record<string, string> = { userId: userOfB, keyId: keyOfB };
      for (const { method, path } of scoped) {
        const param = path.includes('{tenantId}') ? 'tenantId' : 'id';
        // The other path parameters (role, binding, rule, organization ids): the same in all three calls.
        for (const [, name] of path.matchAll(/\{([^}]+)\}/g))
          if (name !== param) ids[name] ??= randomUUID();
        const body = ['POST', 'PATCH'].includes(method) ? {} : undefined;
        const ofB = await call(gw, method, fill(path, { ...ids, [param]: tenantB }), {
          token: adminOfA.token,
          body,
        });
        const ofNobody = await call(gw, method, fill(path, { ...ids, [param]: nowhere }), {
          token: adminOfA.token,
          body,
        });
        // What an operator gets for a tenant that does not exist: the one "no such tenant" answer.
        const operatorOfNobody = await call(gw, method, fill(path, { ...ids, [param]: nowhere }), {
          token: operatorToken,
          body,
        });
        const what = `${method} ${path}`;
        expect({ what, status: ofB.status, reason: ofB.body.reason }).toEqual({
          what,
          status: 404,
          reason: 'TENANT_NOT_FOUND',
        });
        expect(comparable(ofB, tenantB)).toEqual(comparable(ofNobody, nowhere));
        expect(comparable(ofB, tenantB)).toEqual(comparable(operatorOfNobody, nowhere));
        expect(headerNames(ofB)).toEqual(headerNames(ofNobody));
        expect(ofB.text.length).toBe(ofNobody.text.length);
      }
    });

    it('lets a user of a tenant see its own tenant only', async () => {
      const mine = await call(gw, 'GET', '/v1/tenants', { token: adminOfA.token });
      expect(mine.status).toBe(200);
      expect(mine.body).toEqual({
        items: [expect.objectContaining({ id: tenantA })],
        nextCursor: null,
      });
      expect(
        (await call(gw, 'GET', `/v1/tenants/${tenantA}`, { token: adminOfA.token })).status,
      ).toBe(200);
      const all = await call(gw, 'GET', '/v1/tenants?limit=500', { token: operatorToken });
      expect(all.body.items.map((t: { id: string }) => t.id)).toEqual(
        expect.arrayContaining([tenantA, tenantB]),
      );
    });

    it('refuses the platform id as a tenant, and operator-only routes to tenant users (403)', async () => {
      const platformId = '00000000-0000-0000-0000-000000000000';
      const asOperator = await call(gw, 'GET', `/v1/tenants/${platformId}/users`, {
        token: operatorToken,
      });
      expect(asOperator.status).toBe(404);
      expect(asOperator.body.reason).toBe('TENANT_NOT_FOUND');
      const create = await call(gw, 'POST', '/v1/tenants', {
        token: adminOfA.token,
        body: { name: 'Nope', slug: 'nope' },
      });
      expect(create.status).toBe(403);
      expect(
        (await call(gw, 'GET', '/v1/platform/api-keys', { token: adminOfA.token })).status,
      ).toBe(403);
      // The platform's audit log (tenants created and deleted) is the operators' alone.
      expect(
        (await call(gw, 'GET', '/v1/platform/audit-events', { token: adminOfA.token })).status,
      ).toBe(403);
    });

    it('carries the real principal as the audit actor', async () => {
      const operatorId = realClaims.sub as string;
      // The tenant's activation, at the end of the provisioning the operator asked for.
      const page = await waitFor('the tenant.activated event', async () => {
        const reply = await call(gw, 'GET', `/v1/tenants/${tenantA}/audit-events`, {
          token: adminOfA.token,
        });
        expect(reply.status).toBe(200);
        return reply.body.items.find((e: { action: string }) => e.action === 'tenant.activated');
      });
      expect(page.actor).toEqual({ type: 'operator', id: operatorId });
    });
  });

  describe('revocation', () => {
    it("refuses a signed-out session's access token on another gateway instance within about a second", async () => {
      const signedIn = await login(adminOfA.email, adminOfA.password, 'auth-a');
      expect(signedIn.status).toBe(200);
      const token = signedIn.body.accessToken as string;
      // Both instances have verified (and cached) it.
      expect((await call(gw, 'GET', '/v1/me', { token })).status).toBe(200);
      expect((await call(gw2.url, 'GET', '/v1/me', { token })).status).toBe(200);

      const loggedOut = await call(gw, 'POST', '/v1/auth/logout', { token });
      expect(loggedOut.status).toBe(200);
      const at = Date.now();
      // The instance that signed it out refuses it at once.
      expectUnauthenticated(await call(gw, 'GET', '/v1/me', { token }), 'the same instance');
      const refused = await waitFor(
        'the other instance to refuse the token',
        async () => {
          const reply = await call(gw2.url, 'GET', '/v1/me', { token });
          return reply.status === 401 ? reply : undefined;
        },
        { timeoutMs: 5_000, intervalMs: 25 },
      );
      const ms = Date.now() - at;
      process.stdout.write(
        `revoked session refused by the other gateway instance after ${ms} ms\n`,
      );
      expect(refused.body.reason).toBe('AUTH_SESSION_REVOKED');
      expect(ms).toBeLessThan(2_000);
      // Still well within the token's lifetime.
      expect((decodeJwt(token).exp as number) * 1000).toBeGreaterThan(Date.now() + 60_000);
    });

    it("refuses a user's tokens everywhere once an admin ends all their sessions", async () => {
      const signedIn = await login(adminOfA.email, adminOfA.password, 'auth-a');
      const token = signedIn.body.accessToken as string;
      expect((await call(gw2.url, 'GET', '/v1/me', { token })).status).toBe(200);
      const revoked = await call(
        gw,
        'POST',
        `/v1/tenants/${tenantA}/users/${adminOfA.id}/sessions/revoke-all`,
        { token: operatorToken },
      );
      expect(revoked.status).toBe(200);
      for (const base of [gw, gw2.url]) {
        await waitFor(
          'the token to be refused',
          async () => (await call(base, 'GET', '/v1/me', { token })).status === 401,
          {
            timeoutMs: 5_000,
            intervalMs: 25,
          },
        );
      }
      // Signing in again works.
      const again = await login(adminOfA.email, adminOfA.password, 'auth-a');
      expect(again.status).toBe(200);
      adminOfA.token = again.body.accessToken;
    });
  });

  describe('API keys', () => {
    async function newKey(body: Record<string, unknown>): Promise<{ id: string; key: string }> {
      const created = await call(gw, 'POST', `/v1/tenants/${tenantA}/api-keys`, {
        token: adminOfA.token,
        body,
      });
      expect(created.status).toBe(201);
      return { id: created.body.id, key: created.body.key };
    }

    it('are taken as X-API-Key and as a bearer token, within their scopes and tenant only', async () => {
      const { key } = await newKey({ name: 'reader', scopes: ['users:read'] });
      expect((await call(gw, 'GET', `/v1/tenants/${tenantA}/users`, { apiKey: key })).status).toBe(
        200,
      );
      expect((await call(gw, 'GET', `/v1/tenants/${tenantA}/users`, { token: key })).status).toBe(
        200,
      );
      expect(
        (await call(gw, 'GET', `/v1/tenants/${tenantA}/api-keys`, { apiKey: key })).status,
      ).toBe(403);
      const other = await call(gw, 'GET', `/v1/tenants/${tenantB}/users`, { apiKey: key });
      expect(other.status).toBe(404);
      expect(other.body.reason).toBe('TENANT_NOT_FOUND');
      expect((await call(gw, 'GET', '/v1/me', { apiKey: key })).status).toBe(403);
    });

    it('may not make a key that can do more than itself', async () => {
      const { key } = await newKey({ name: 'key maker', scopes: ['api-keys:write'] });
      const wider = await call(gw, 'POST', `/v1/tenants/${tenantA}/api-keys`, {
        apiKey: key,
        body: { name: 'wider', scopes: ['*:*'] },
      });
      expect(wider.status).toBe(403);
      const same = await call(gw, 'POST', `/v1/tenants/${tenantA}/api-keys`, {
        apiKey: key,
        body: { name: 'same', scopes: ['api-keys:write'] },
      });
      expect(same.status).toBe(201);
    });

    it('a revoked key is refused at once, on every instance', async () => {
      const { id, key } = await newKey({ name: 'to revoke', scopes: ['users:read'] });
      const path = `/v1/tenants/${tenantA}/users`;
      expect((await call(gw, 'GET', path, { apiKey: key })).status).toBe(200);
      expect((await call(gw2.url, 'GET', path, { apiKey: key })).status).toBe(200);
      const revoked = await call(gw, 'DELETE', `/v1/tenants/${tenantA}/api-keys/${id}`, {
        token: adminOfA.token,
      });
      expect(revoked.status).toBe(200);
      expectUnauthenticated(await call(gw, 'GET', path, { apiKey: key }), 'revoked, same instance');
      const refused = await waitFor(
        'the other instance to refuse the revoked key',
        async () => {
          const reply = await call(gw2.url, 'GET', path, { apiKey: key });
          return reply.status === 401 ? reply : undefined;
        },
        { timeoutMs: 5_000, intervalMs: 25 },
      );
      expectUnauthenticated(refused, 'revoked, other instance');
    });

    it('an expired key is refused', async () => {
      const { key } = await newKey({
        name: 'short-lived',
        scopes: ['users:read'],
        expiresAt: new Date(Date.now() + 2_000).toISOString(),
      });
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expectUnauthenticated(
        await call(gw, 'GET', `/v1/tenants/${tenantA}/users`, { apiKey: key }),
        'expired',
      );
    });
  });

  describe('passkeys', () => {
    it('adds a passkey over HTTP, answers a login challenge with it, signs in with it alone, and removes it', async () => {
      await invite(tenantA, 'passkey@auth-a.test', ['member']);
      const { token, password } = await acceptInvitation('passkey@auth-a.test');
      const userId = decodeJwt(token).sub!;
      const passkey = new SoftPasskey(PASSKEY_ORIGIN);

      const options = await call(gw, 'POST', '/v1/me/mfa/passkeys/options', { token });
      expect(options.status).toBe(200);
      expect(options.body).toMatchObject({ rp: { id: PASSKEY_RP_ID }, attestation: 'none' });
      const added = await call(gw, 'POST', '/v1/me/mfa/passkeys', {
        token,
        body: { name: 'E2E key', credential: passkey.register(options.body) },
      });
      expect(added.status).toBe(201);
      expect(added.body).toMatchObject({ name: 'E2E key', lastUsedAt: null });
      expect(added.body.recoveryCodes).toHaveLength(10);
      const listed = await call(gw, 'GET', '/v1/me/mfa/passkeys', { token });
      expect(listed.body.passkeys.map((p: { id: string }) => p.id)).toEqual([added.body.id]);

      const challenge = await login('passkey@auth-a.test', password);
      expect(challenge.status).toBe(200);
      expect(challenge.body).toMatchObject({
        mfaRequired: true,
        methods: ['recovery_code', 'webauthn'],
      });
      const { challengeToken } = challenge.body;
      // One second factor at a time, named in the problem.
      const both = await call(gw, 'POST', '/v1/auth/mfa/verify', {
        body: {
          challengeToken,
          code: '123456',
          passkey: passkey.authenticate({ challenge: 'x', rpId: PASSKEY_RP_ID }),
        },
      });
      expect(both.status).toBe(400);
      expect(both.body.errors).toEqual([
        { field: 'passkey', message: 'give either code or passkey, not both' },
      ]);
      const neither = await call(gw, 'POST', '/v1/auth/mfa/verify', { body: { challengeToken } });
      expect(neither.status).toBe(400);
      expect(neither.body.errors).toEqual([
        { field: 'code', message: 'is required (or give passkey)' },
      ]);
      const request = await call(gw, 'POST', '/v1/auth/mfa/passkey-options', {
        body: { challengeToken },
      });
      expect(request.status).toBe(200);
      expect(request.body.allowCredentials).toEqual([
        expect.objectContaining({ id: passkey.id, type: 'public-key' }),
      ]);
      const signedIn = await call(gw, 'POST', '/v1/auth/mfa/verify', {
        body: { challengeToken, passkey: passkey.authenticate(request.body) },
      });
      expect(signedIn.status).toBe(200);
      expect(decodeJwt(signedIn.body.accessToken)).toMatchObject({
        sub: userId,
        amr: ['pwd', 'pop'],
      });
      const me = await call(gw, 'GET', '/v1/me', { token: signedIn.body.accessToken });
      expect(me.status).toBe(200);

      // The passkey alone signs in too (it verified its user): no password, no challenge.
      const loginOptions = await call(gw, 'POST', '/v1/auth/passkey/options');
      expect(loginOptions.status).toBe(200);
      expect(loginOptions.body).toMatchObject({
        rpId: PASSKEY_RP_ID,
        userVerification: 'required',
      });
      const passwordless = await call(gw, 'POST', '/v1/auth/passkey/login', {
        body: { passkey: passkey.authenticate(loginOptions.body) },
      });
      expect(passwordless.status).toBe(200);
      expect(decodeJwt(passwordless.body.accessToken)).toMatchObject({
        sub: userId,
        tid: tenantA,
        amr: ['pop', 'mfa'],
      });
      const garbled = await call(gw, 'POST', '/v1/auth/passkey/login', {
        body: { passkey: { id: passkey.id } },
      });
      expect(garbled.status).toBe(400);
      expect(garbled.body.errors.map((e: { field: string }) => e.field)).toContain('passkey.rawId');

      const removed = await call(gw, 'DELETE', `/v1/me/mfa/passkeys/${added.body.id}`, { token });
      expect(removed.status).toBe(200);
      expect((await login('passkey@auth-a.test', password)).body).toMatchObject({
        tokenType: 'Bearer',
      });
      const again = await call(gw, 'DELETE', `/v1/me/mfa/passkeys/${added.body.id}`, { token });
      expect(again.status).toBe(404);

      // Each step in the tenant's audit log, with the user as the actor.
      await waitFor(
        'the passkey steps in the audit log',
        async () => {
          const page = await call(gw, 'GET', `/v1/tenants/${tenantA}/audit-events?limit=100`, {
            token: operatorToken,
          });
          const mine = (
            page.body.items as {
              action: string;
              actor: { id: string };
              data?: Record<string, unknown>;
            }[]
          ).filter((e) => e.actor.id === userId);
          const actions = mine.map((e) => `${e.action}:${String(e.data?.method ?? '')}`);
          return ['mfa.enrolled:passkey', 'mfa.verified:', 'mfa.removed:passkey'].every((a) =>
            actions.includes(a),
          )
            ? mine
            : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 250 },
      );
    });
  });

  describe('passkeys where the tenant requires MFA', () => {
    it('lets a new user enrol a passkey in the challenge that accepting the invitation answers, and gives tokens and recovery codes', async () => {
      const tenant = await createActiveTenant(gw, operatorToken, {
        name: 'auth-passkeys',
        slug: 'auth-passkeys',
        plan: 'enterprise',
      });
      const settings = await call(gw, 'PATCH', `/v1/tenants/${tenant.id}/auth-settings`, {
        token: operatorToken,
        body: { mfaRequired: true },
      });
      expect(settings.status).toBe(200);
      await invite(tenant.id, 'new@auth-passkeys.test', ['member']);
      const mail = await waitFor('the invitation', async () =>
        smtp.mails.find((m) => m.to === 'new@auth-passkeys.test'),
      );
      const accepted = await call(gw, 'POST', '/v1/auth/invitations/accept', {
        body: { token: tokenInMail(mail.text), password: `Correct-Horse-${randomUUID()}` },
      });
      expect(accepted.status).toBe(200);
      expect(accepted.body).toMatchObject({
        mfaRequired: true,
        enrolmentRequired: true,
        methods: ['totp', 'webauthn'],
      });
      const { challengeToken } = accepted.body;
      const options = await call(gw, 'POST', '/v1/auth/mfa/passkey-enrol/options', {
        body: { challengeToken },
      });
      expect(options.status).toBe(200);
      const passkey = new SoftPasskey(PASSKEY_ORIGIN);
      const enrolled = await call(gw, 'POST', '/v1/auth/mfa/passkey-enrol', {
        body: { challengeToken, name: 'Phone', credential: passkey.register(options.body) },
      });
      expect(enrolled.status).toBe(200);
      expect(decodeJwt(enrolled.body.accessToken).amr).toEqual(['pwd', 'pop']);
      expect(enrolled.body.recoveryCodes).toHaveLength(10);
      const me = await call(gw, 'GET', '/v1/me/mfa/passkeys', { token: enrolled.body.accessToken });
      expect(me.body.passkeys).toEqual([expect.objectContaining({ name: 'Phone' })]);
    });
  });

  describe('refresh tokens in a cookie', () => {
    it('are set HttpOnly, Secure, SameSite=Strict and left out of the body; a cookie refresh needs X-Tenantry-CSRF', async () => {
      const signedIn = await login(adminOfA.email, adminOfA.password, 'auth-a', {
        'x-tenantry-refresh-cookie': '1',
      });
      expect(signedIn.status).toBe(200);
      expect(signedIn.body.accessToken).toBeTruthy();
      expect(signedIn.body.refreshToken).toBeUndefined();
      const setCookie = signedIn.headers.get('set-cookie')!;
      expect(setCookie).toMatch(
        /^tenantry_refresh=[^;]+; Max-Age=\d+; Path=\/v1\/auth; HttpOnly; Secure; SameSite=Strict$/,
      );
      const cookie = setCookie.split(';')[0]!;

      const withoutCsrf = await call(gw, 'POST', '/v1/auth/refresh', { headers: { cookie } });
      expect(withoutCsrf.status).toBe(403);
      expect(withoutCsrf.body.reason).toBe('AUTH_CSRF_HEADER_MISSING');

      const refreshed = await call(gw, 'POST', '/v1/auth/refresh', {
        headers: { cookie, 'x-tenantry-csrf': '1' },
      });
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.accessToken).toBeTruthy();
      expect(refreshed.body.refreshToken).toBeUndefined();
      const rotated = refreshed.headers.get('set-cookie')!;
      expect(rotated).toMatch(
        /^tenantry_refresh=[^;]+; Max-Age=\d+; Path=\/v1\/auth; HttpOnly; Secure; SameSite=Strict$/,
      );
      expect(rotated.split(';')[0]).not.toBe(cookie);
      expect((await call(gw, 'GET', '/v1/me', { token: refreshed.body.accessToken })).status).toBe(
        200,
      );

      const noToken = await call(gw, 'POST', '/v1/auth/refresh', {
        headers: { 'x-tenantry-csrf': '1' },
      });
      expectUnauthenticated(noToken, 'no refresh token at all');

      const loggedOut = await call(gw, 'POST', '/v1/auth/logout', {
        token: refreshed.body.accessToken,
      });
      expect(loggedOut.headers.get('set-cookie')).toMatch(/^tenantry_refresh=; Max-Age=0;/);
    });

    it('a refresh token in the body needs no CSRF header', async () => {
      const signedIn = await login(adminOfA.email, adminOfA.password, 'auth-a');
      const refreshed = await call(gw, 'POST', '/v1/auth/refresh', {
        body: { refreshToken: signedIn.body.refreshToken },
      });
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.refreshToken).toBeTruthy();
      expect(refreshed.headers.get('set-cookie')).toBeNull();
    });
  });
});
