import { Namespace } from '@tenantry/contracts';
import {
  cleanupNamespace,
  freePort,
  startOidcProvider,
  testNamespace,
  type TestOidcProvider,
} from '@tenantry/testing';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { sha256Hex } from '../src/core/secret-token.js';
import { OidcDiscovery } from '../src/oidc/oidc-discovery.js';
import { OidcLogin } from '../src/oidc/oidc-login.js';
import { OidcStateStore } from '../src/oidc/oidc-state.store.js';
import { SsoRejected, type OidcConnectionConfig } from '../src/sso/sso.types.js';

const REDIRECT_URI = 'https://tenantry.test/v1/auth/sso/oidc/callback';

const ACCOUNTS = [
  {
    sub: 'alice',
    email: 'alice@acme.test',
    email_verified: true,
    name: 'Alice Liddell',
    given_name: 'Alice',
    family_name: 'Liddell',
    groups: ['admins', 'engineering'],
  },
  { sub: 'bob', email: 'bob@acme.test', email_verified: false, groups: ['sales'] },
  { sub: 'nomail', name: 'No Mail', groups: [] },
];

/** The query string of the URL the OP finally sent the browser to. */
const queryOf = (url: string) => Object.fromEntries(new URL(url).searchParams);

/** The SsoRejected a promise fails with (fails the test when it resolves, or fails otherwise). */
async function rejection(promise: Promise<unknown>): Promise<SsoRejected> {
  const error = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(error instanceof SsoRejected)) {
    throw new Error(`expected an SsoRejected, got ${String(error)}`, { cause: error });
  }
  return error;
}

/** The OIDC relying party against real OpenID Providers (oidc-provider) and the real Redis. */
describe('OIDC sign-in', () => {
  const ns = testNamespace('oidc');
  let redis: Redis;
  let op: TestOidcProvider;
  let userinfoOp: TestOidcProvider;
  let postOp: TestOidcProvider;
  let downOrigin: string;
  let login: OidcLogin;

  beforeAll(async () => {
    redis = new Redis({
      host: '127.0.0.1',
      port: 6379,
      keyPrefix: new Namespace(ns).redisPrefix(),
    });
    [op, userinfoOp, postOp] = await Promise.all([
      startOidcProvider({ redirectUri: REDIRECT_URI, accounts: ACCOUNTS }),
      startOidcProvider({ redirectUri: REDIRECT_URI, accounts: ACCOUNTS, claimsInIdToken: false }),
      startOidcProvider({
        redirectUri: REDIRECT_URI,
        accounts: ACCOUNTS,
        tokenEndpointAuthMethod: 'client_secret_post',
      }),
    ]);
    downOrigin = `http://127.0.0.1:${await freePort()}`;
    login = relyingParty([op.issuer, userinfoOp.issuer, postOp.issuer, downOrigin]);
  });

  afterAll(async () => {
    await Promise.all([op?.close(), userinfoOp?.close(), postOp?.close()]);
    redis?.disconnect();
    await cleanupNamespace(ns);
  });

  function relyingParty(allowHttpIssuers: string[]): OidcLogin {
    return new OidcLogin(new OidcDiscovery({ allowHttpIssuers }), new OidcStateStore(redis));
  }

  function connection(
    provider: Pick<TestOidcProvider, 'issuer' | 'clientId' | 'clientSecret'>,
    overrides: Partial<OidcConnectionConfig> = {},
  ): OidcConnectionConfig {
    return {
      id: randomUUID(),
      tenantId: randomUUID(),
      issuer: provider.issuer,
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
      scopes: ['openid', 'email', 'profile'],
      redirectUri: REDIRECT_URI,
      ...overrides,
    };
  }

  /** Starts a sign-in and signs `sub` in at the OP: the query string it redirects back with. */
  async function signIn(
    provider: TestOidcProvider,
    conn: OidcConnectionConfig,
    sub: string,
    returnTo?: string,
  ): Promise<Record<string, string>> {
    const { redirectUrl } = await login.start(conn, returnTo);
    provider.nextLogin(sub);
    return queryOf(await provider.followLogin(redirectUrl));
  }

  const count = (provider: TestOidcProvider, request: string) =>
    provider.requests.filter((seen) => seen === request).length;

  it('signs in with the code flow and PKCE: the id_token claims (email, groups) and the returnTo', async () => {
    const conn = connection(op);
    const { redirectUrl } = await login.start(conn, 'https://app.acme.test/after?x=1');

    const authorization = new URL(redirectUrl);
    expect(`${authorization.origin}${authorization.pathname}`).toBe(`${op.issuer}/auth`);
    const params = Object.fromEntries(authorization.searchParams);
    expect(params).toMatchObject({
      response_type: 'code',
      client_id: op.clientId,
      redirect_uri: REDIRECT_URI,
      scope: 'openid email profile',
      code_challenge_method: 'S256',
    });
    expect(params['code_challenge']).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params['state']).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params['nonce']).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stateKey = `sso:oidc-state:${sha256Hex(params['state']!)}`;
    const ttl = await redis.ttl(stateKey);
    expect(ttl).toBeGreaterThan(590);
    expect(ttl).toBeLessThanOrEqual(600);

    op.nextLogin('alice');
    const callback = await op.followLogin(redirectUrl);
    const query = queryOf(callback);
    expect(Object.keys(query).sort()).toEqual(['code', 'iss', 'state']);
    const userinfoBefore = count(op, 'GET /me');

    const completed = await login.complete(conn, query);

    expect(completed).toEqual({
      identity: {
        issuer: op.issuer,
        subject: 'alice',
        claims: expect.objectContaining({
          iss: op.issuer,
          aud: op.clientId,
          sub: 'alice',
          email: 'alice@acme.test',
          email_verified: true,
          name: 'Alice Liddell',
          given_name: 'Alice',
          family_name: 'Liddell',
          groups: ['admins', 'engineering'],
          nonce: params['nonce'],
        }),
      },
      returnTo: 'https://app.acme.test/after?x=1',
      idpInitiated: false,
    });
    // The id_token had the email: userinfo was not asked. The state is gone.
    expect(count(op, 'GET /me')).toBe(userinfoBefore);
    expect(await redis.exists(stateKey)).toBe(0);
  });

  it('reads userinfo with the expected subject when the id_token has no email', async () => {
    const conn = connection(userinfoOp, { scopes: ['openid', 'email', 'groups'] });
    const query = await signIn(userinfoOp, conn, 'bob');
    const userinfoBefore = count(userinfoOp, 'GET /me');

    const completed = await login.complete(conn, query);

    expect(count(userinfoOp, 'GET /me')).toBe(userinfoBefore + 1);
    expect(completed.identity).toEqual({
      issuer: userinfoOp.issuer,
      subject: 'bob',
      claims: expect.objectContaining({
        sub: 'bob',
        aud: userinfoOp.clientId,
        email: 'bob@acme.test',
        email_verified: false,
        groups: ['sales'],
      }),
    });
    expect(completed.returnTo).toBeUndefined();
  });

  it('adds openid to the scopes when the connection lists none', async () => {
    const conn = connection(op, { scopes: ['email'] });
    const { redirectUrl } = await login.start(conn, undefined);
    expect(new URL(redirectUrl).searchParams.get('scope')).toBe('openid email');
  });

  it('authenticates with client_secret_post when discovery lists only that', async () => {
    const conn = connection(postOp);
    const query = await signIn(postOp, conn, 'alice');
    const completed = await login.complete(conn, query);
    expect(completed.identity.claims['email']).toBe('alice@acme.test');
  });

  it('discovers a provider once and reuses it', async () => {
    const conn = connection(op);
    const before = count(op, 'GET /.well-known/openid-configuration');
    await login.start(conn, undefined);
    await login.start(conn, undefined);
    await login.start(conn, undefined);
    expect(count(op, 'GET /.well-known/openid-configuration')).toBe(before + 1);
  });

  it('refuses an account without email (email_missing), after asking userinfo', async () => {
    const conn = connection(op);
    const query = await signIn(op, conn, 'nomail');
    const userinfoBefore = count(op, 'GET /me');

    const refused = await rejection(login.complete(conn, query));

    expect(refused.reason).toBe('email_missing');
    expect(refused.message).toMatch(/no email for this account \(subject nomail\)/);
    expect(count(op, 'GET /me')).toBe(userinfoBefore + 1);
  });

  it('refuses a forged or missing state (state_unknown), and the genuine one still completes', async () => {
    const conn = connection(op);
    const query = await signIn(op, conn, 'alice');

    const forged = await rejection(login.complete(conn, { ...query, state: 'forged-state' }));
    expect(forged.reason).toBe('state_unknown');
    expect(forged.message).toMatch(/unknown, expired or was used already/);
    const { state: _state, ...stateless } = query;
    const missing = await rejection(login.complete(conn, stateless));
    expect(missing.reason).toBe('state_unknown');
    expect(missing.message).toMatch(/carries no state/);

    const completed = await login.complete(conn, query);
    expect(completed.identity.subject).toBe('alice');
  });

  it('refuses a replayed response (state_unknown): the state is used once', async () => {
    const conn = connection(op);
    const query = await signIn(op, conn, 'alice');
    await login.complete(conn, query);

    const replayed = await rejection(login.complete(conn, query));

    expect(replayed.reason).toBe('state_unknown');
  });

  it('refuses a state started for another connection (state_unknown)', async () => {
    const conn = connection(op);
    const other = connection(op);
    const query = await signIn(op, conn, 'alice');

    const refused = await rejection(login.complete(other, query));

    expect(refused.reason).toBe('state_unknown');
  });

  it('refuses an error response of the provider (provider_error) with its code and description', async () => {
    const conn = connection(op);
    const { redirectUrl } = await login.start(conn, undefined);
    op.denyNextLogin('access_denied', 'the user cancelled the sign-in');
    const query = queryOf(await op.followLogin(redirectUrl));
    expect(query['error']).toBe('access_denied');

    const refused = await rejection(login.complete(conn, query));

    expect(refused.reason).toBe('provider_error');
    expect(refused.message).toBe(
      'the identity provider refused the sign-in: access_denied (the user cancelled the sign-in)',
    );
  });

  it('refuses a response naming another issuer (issuer_mismatch)', async () => {
    const conn = connection(op);
    const query = await signIn(op, conn, 'alice');

    const refused = await rejection(
      login.complete(conn, { ...query, iss: 'https://evil.example' }),
    );

    expect(refused.reason).toBe('issuer_mismatch');
    expect(refused.message).toMatch(/another issuer \(https:\/\/evil\.example\)/);
  });

  it('refuses when the provider does not take the client secret (code_exchange_failed)', async () => {
    const conn = connection(op, { clientSecret: 'not-the-secret' });
    const query = await signIn(op, conn, 'alice');

    const refused = await rejection(login.complete(conn, query));

    expect(refused.reason).toBe('code_exchange_failed');
    expect(refused.message).toMatch(/token endpoint refused the request: invalid_client/);
  });

  it('refuses a code that was used already (code_exchange_failed)', async () => {
    const conn = connection(op);
    const first = await signIn(op, conn, 'alice');
    await login.complete(conn, first);
    const second = await signIn(op, conn, 'alice');

    // The second flow's state and verifier, with the first flow's (spent) code.
    const refused = await rejection(login.complete(conn, { ...second, code: first['code']! }));

    expect(refused.reason).toBe('code_exchange_failed');
    expect(refused.message).toMatch(/invalid_grant/);
  });

  it('refuses an id_token with another nonce than the one sent (id_token_invalid)', async () => {
    const conn = connection(op);
    const { redirectUrl } = await login.start(conn, undefined);
    // The browser's authorization request was tampered with: the OP signs another nonce.
    const tampered = new URL(redirectUrl);
    tampered.searchParams.set('nonce', 'a-nonce-this-sign-in-never-sent');
    op.nextLogin('alice');
    const query = queryOf(await op.followLogin(tampered.href));

    const refused = await rejection(login.complete(conn, query));

    expect(refused.reason).toBe('id_token_invalid');
    expect(refused.message).toMatch(/nonce/);
  });

  it("refuses an id_token whose signature does not verify with the provider's keys (id_token_invalid)", async () => {
    const forger = await startOidcProvider({ redirectUri: REDIRECT_URI, accounts: ACCOUNTS });
    try {
      forger.publishForeignKey();
      const rp = relyingParty([forger.issuer]);
      const conn = connection(forger);
      const { redirectUrl } = await rp.start(conn, undefined);
      forger.nextLogin('alice');
      const query = queryOf(await forger.followLogin(redirectUrl));

      const refused = await rejection(rp.complete(conn, query));

      expect(refused.reason).toBe('id_token_invalid');
      expect(refused.message).toBe(
        "the provider's id_token is invalid: JWT signature verification failed",
      );
      expect(forger.requests).toContain('GET /jwks');
    } finally {
      await forger.close();
    }
  });

  it('refuses an http issuer whose origin is not allowed (issuer_insecure), naming the setting', async () => {
    const strict = relyingParty([]);

    const refused = await rejection(strict.start(connection(op), undefined));

    expect(refused.reason).toBe('issuer_insecure');
    expect(refused.message).toBe(
      `the issuer ${op.issuer} uses plain http; OIDC providers must use https (for development and tests only, SSO_ALLOW_HTTP_ISSUERS may list the origin ${op.issuer})`,
    );
  });

  it('refuses an issuer that is no OpenID Provider (discovery_failed)', async () => {
    const conn = connection(op, { issuer: `${op.issuer}/nowhere` });

    const refused = await rejection(login.start(conn, undefined));

    expect(refused.reason).toBe('discovery_failed');
    expect(refused.message).toMatch(/could not be read \(HTTP 404\)/);
  });

  it('refuses when the provider is down (provider_unavailable), at discovery or at the code exchange', async () => {
    const down = connection({ issuer: downOrigin, clientId: 'c', clientSecret: 's' });
    const atDiscovery = await rejection(login.start(down, undefined));
    expect(atDiscovery.reason).toBe('provider_unavailable');
    expect(atDiscovery.message).toMatch(
      new RegExp(
        `^the identity provider ${downOrigin} cannot be reached right now \\(.*ECONNREFUSED`,
      ),
    );

    const leaving = await startOidcProvider({ redirectUri: REDIRECT_URI, accounts: ACCOUNTS });
    const rp = relyingParty([leaving.issuer]);
    const conn = connection(leaving);
    const { redirectUrl } = await rp.start(conn, undefined);
    leaving.nextLogin('alice');
    const query = queryOf(await leaving.followLogin(redirectUrl));
    await leaving.close();

    const atExchange = await rejection(rp.complete(conn, query));
    expect(atExchange.reason).toBe('provider_unavailable');
  });
});
