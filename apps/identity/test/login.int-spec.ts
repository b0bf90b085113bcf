import { jest } from '@jest/globals';
import {
  AppError,
  AuthRpc,
  ErrorCode,
  PLATFORM_TENANT_ID,
  SigningKeyRpc,
  UserRpc,
  type TokenSet,
} from '@tenantry/contracts';
import { query, TenantTransactions } from '@tenantry/persistence';
import { startRedisServer, type ServerProcess } from '@tenantry/testing';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { AuthSettingsService } from '../src/auth-settings/auth-settings.service.js';
import { sha256Hex } from '../src/core/secret-token.js';
import { CredentialLookupRepository } from '../src/credential-lookup/credential-lookup.repository.js';
import { OperatorService } from '../src/operators/operator.service.js';
import { PasswordHasher } from '../src/passwords/password.hasher.js';
import { UserRepository } from '../src/users/user.repository.js';
import { client, IdentityHarness } from './identity.harness.js';

const ADMIN_EMAIL = 'Root@Operators.test';
const ADMIN_PASSWORD = 'the operators own passphrase 1';

/** Verifies an access token as the gateway does: EdDSA, issuer, audience, type, against the JWKS. */
async function verifyAccessToken(h: IdentityHarness, token: string) {
  const jwks = createLocalJWKSet(await h.call(SigningKeyRpc.jwks, {}));
  return jwtVerify(token, jwks, {
    issuer: 'https://tenantry.test',
    audience: 'tenantry',
    typ: 'at+jwt',
    algorithms: ['EdDSA'],
  });
}

function isTokenSet(result: unknown): result is TokenSet {
  return typeof (result as TokenSet).accessToken === 'string';
}

/** Sign-in against real PostgreSQL, Redis, NATS and SMTP. */
describe('login', () => {
  let h: IdentityHarness;

  beforeAll(async () => {
    h = await IdentityHarness.start({
      env: { TENANTRY_ADMIN_EMAIL: ADMIN_EMAIL, TENANTRY_ADMIN_PASSWORD: ADMIN_PASSWORD },
    });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('creates the first platform operator once, logging its email and never its password', async () => {
    const created = h.logs.filter((line) => line.msg === 'platform operator created');
    expect(created).toEqual([expect.objectContaining({ email: 'root@operators.test', level: 30 })]);
    expect(JSON.stringify(h.logs)).not.toContain(ADMIN_PASSWORD);
    await expect(h.get(OperatorService).bootstrap()).resolves.toBe(false);

    const result = await h.call(AuthRpc.login, {
      email: 'root@operators.test',
      password: ADMIN_PASSWORD,
      client: client(),
    });
    if (!isTokenSet(result)) throw new Error('expected tokens');
    const { payload } = await verifyAccessToken(h, result.accessToken);
    expect(payload).toMatchObject({ tid: null, roles: ['platform-operator'], amr: ['pwd'] });
    const [operator] = await h.db.query(`SELECT id, tenant_id FROM users WHERE email = $1`, [
      'root@operators.test',
    ]);
    expect(operator.tenant_id).toBe(PLATFORM_TENANT_ID);
    expect(payload.sub).toBe(operator.id);
    const [succeeded] = await h.auditEvents(
      (e) => e.action === 'login.succeeded' && e.target?.id === operator.id,
    );
    expect(succeeded!).toMatchObject({
      tenantId: PLATFORM_TENANT_ID,
      actor: { type: 'operator', id: operator.id },
    });
  });

  it('signs a user in with an EdDSA access token carrying every claim, verifiable with the JWKS', async () => {
    const tenant = h.addTenant('acme');
    const { userId } = await h.activeUser(tenant.id, 'dev@acme.test', 'dev password of acme', {
      roles: ['tenant-admin'],
    });
    const started = Math.floor(Date.now() / 1000);
    const result = await h.call(AuthRpc.login, {
      email: 'DEV@acme.test',
      password: 'dev password of acme',
      client: client(),
    });
    if (!isTokenSet(result)) throw new Error('expected tokens');
    expect(result).toMatchObject({ tokenType: 'Bearer', expiresIn: 600 });
    expect(result.refreshToken).toMatch(/^[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/);
    const { payload, protectedHeader } = await verifyAccessToken(h, result.accessToken);
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt', kid: expect.any(String) });
    expect(payload).toMatchObject({
      iss: 'https://tenantry.test',
      aud: 'tenantry',
      sub: userId,
      tid: tenant.id,
      sid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      roles: ['tenant-admin'],
      amr: ['pwd'],
      jti: expect.any(String),
    });
    expect(payload.exp! - payload.iat!).toBe(600);
    expect(payload.auth_time as number).toBeGreaterThanOrEqual(started - 1);
    const [event] = await h.auditEvents(
      (e) => e.action === 'login.succeeded' && e.target?.id === userId && e.data?.ip !== undefined,
      2,
    );
    expect(event!).toMatchObject({
      tenantId: tenant.id,
      category: 'auth',
      actor: { type: 'user', id: userId },
      data: { sessionId: expect.any(String), amr: ['pwd'], userAgent: 'identity-int-spec' },
    });
  });

  it('gives one answer for a wrong password, an unknown email, an invited and a disabled user', async () => {
    const tenant = h.addTenant('same-answer');
    const { userId } = await h.activeUser(tenant.id, 'real@same.test', 'the real password!');
    await h.call(UserRpc.create, {
      tenantId: tenant.id,
      email: 'invited@same.test',
      displayName: 'Invited',
    });
    const { userId: disabledId } = await h.activeUser(
      tenant.id,
      'disabled@same.test',
      'the disabled password',
    );
    await h.call(UserRpc.disable, { tenantId: tenant.id, userId: disabledId });

    const answers = await Promise.all(
      [
        ['real@same.test', 'not the password'],
        ['nobody@same.test', 'the real password!'],
        ['invited@same.test', 'anything at all'],
        ['disabled@same.test', 'the disabled password'],
      ].map(([email, password]) =>
        h.failure(AuthRpc.login, { email: email!, password: password!, client: client() }),
      ),
    );
    for (const answer of answers) {
      expect(answer.toBody()).toEqual({
        code: ErrorCode.Unauthenticated,
        reason: 'INVALID_CREDENTIALS',
        message: 'email or password is wrong',
      });
    }
    const [wrong] = await h.auditEvents(
      (e) => e.action === 'login.failed' && e.target?.id === userId,
    );
    expect(wrong!).toMatchObject({
      outcome: 'failure',
      actor: { type: 'user', id: userId },
      data: { failure: 'wrong_password' },
    });
    const [unknown] = await h.auditEvents(
      (e) => e.action === 'login.failed' && e.data?.failure === 'unknown_account',
    );
    expect(unknown!).toMatchObject({
      tenantId: PLATFORM_TENANT_ID,
      actor: { type: 'system', id: 'identity' },
      data: { emailSha256: sha256Hex('nobody@same.test') },
    });
    expect(JSON.stringify(unknown)).not.toContain('nobody@same.test');
    const [disabled] = await h.auditEvents(
      (e) => e.action === 'login.failed' && e.target?.id === disabledId,
    );
    expect(disabled!.data).toMatchObject({ failure: 'user_disabled' });
  });

  it('locks an account after the threshold of failures, holds the lock whatever the password, and lets go after it', async () => {
    const tenant = h.addTenant('lockout');
    await h.get(AuthSettingsService).update(tenant.id, {
      lockoutThreshold: 3,
      lockoutWindowSeconds: 60,
      lockoutDurationSeconds: 2,
    });
    const { userId } = await h.activeUser(tenant.id, 'target@lockout.test', 'the right password');
    const attempt = (password: string) =>
      h.call(AuthRpc.login, { email: 'target@lockout.test', password, client: client() });
    for (let i = 0; i < 3; i++) {
      await expect(attempt('a wrong password')).rejects.toMatchObject({
        reason: 'INVALID_CREDENTIALS',
      });
    }
    const locked = (await attempt('the right password').catch((e: AppError) => e)) as AppError;
    expect(locked).toMatchObject({ code: ErrorCode.Unauthenticated, reason: 'ACCOUNT_LOCKED' });
    expect(locked.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(locked.retryAfterSeconds).toBeLessThanOrEqual(2);
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    await expect(attempt('the right password')).resolves.toMatchObject({ tokenType: 'Bearer' });

    const [lockout] = await h.auditEvents(
      (e) => e.action === 'account.locked' && e.target?.id === userId,
    );
    expect(lockout!).toMatchObject({
      tenantId: tenant.id,
      category: 'auth',
      actor: { type: 'user', id: userId },
      data: { threshold: 3, durationSeconds: 2 },
    });
    const locks = await h.auditEvents(
      (e) => e.action === 'account.locked' && e.target?.id === userId,
    );
    expect(locks).toHaveLength(1);
  });

  it('20 parallel wrong passwords never get more than the threshold of password checks', async () => {
    const tenant = h.addTenant('parallel');
    const { userId } = await h.activeUser(
      tenant.id,
      'victim@parallel.test',
      'the victims password',
    );
    const [{ password_hash: hash }] = await h.db.query(
      `SELECT password_hash FROM users WHERE id = $1`,
      [userId],
    );
    const verify = jest.spyOn(h.get(PasswordHasher), 'verify');
    try {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          h.failure(AuthRpc.login, {
            email: 'victim@parallel.test',
            password: `wrong guess number ${i}`,
            client: client(),
          }),
        ),
      );
      const checks = verify.mock.calls.filter(([checked]) => checked === hash);
      expect(checks).toHaveLength(5);
      // The five checked are wrong; the rest were told to retry in a moment (429), not checked.
      const reasons = answers.map((a) => a.reason);
      expect(reasons.filter((r) => r === 'INVALID_CREDENTIALS')).toHaveLength(5);
      expect(reasons.filter((r) => r === 'TOO_MANY_ATTEMPTS')).toHaveLength(15);
      await expect(
        h.call(AuthRpc.login, {
          email: 'victim@parallel.test',
          password: 'the victims password',
          client: client(),
        }),
      ).rejects.toMatchObject({ reason: 'ACCOUNT_LOCKED' });
      expect(verify.mock.calls.filter(([checked]) => checked === hash)).toHaveLength(5);
    } finally {
      verify.mockRestore();
    }
  });

  it('never locks an account for right passwords arriving at once', async () => {
    const tenant = h.addTenant('busy');
    await h.activeUser(tenant.id, 'busy@busy.test', 'the busy users password');
    const answers = await Promise.all(
      Array.from({ length: 12 }, () =>
        h
          .call(AuthRpc.login, {
            email: 'busy@busy.test',
            password: 'the busy users password',
            client: client(),
          })
          .then(
            () => 'signed in',
            (error: { reason?: string }) => error.reason,
          ),
      ),
    );
    expect(answers.filter((a) => a === 'signed in').length).toBeGreaterThanOrEqual(5);
    expect(answers.filter((a) => a !== 'signed in' && a !== 'TOO_MANY_ATTEMPTS')).toEqual([]);
    // Nothing was locked: the next sign-in goes through.
    await expect(
      h.call(AuthRpc.login, {
        email: 'busy@busy.test',
        password: 'the busy users password',
        client: client(),
      }),
    ).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('locks an unknown email like a known one, so a lockout tells nothing', async () => {
    const answers: (string | undefined)[] = [];
    for (let i = 0; i < 6; i++) {
      answers.push(
        (
          await h.failure(AuthRpc.login, {
            email: 'ghost@nowhere.test',
            password: 'some password',
            client: client(),
          })
        ).reason,
      );
    }
    expect(answers).toEqual([
      'INVALID_CREDENTIALS',
      'INVALID_CREDENTIALS',
      'INVALID_CREDENTIALS',
      'INVALID_CREDENTIALS',
      'INVALID_CREDENTIALS',
      'ACCOUNT_LOCKED',
    ]);
  });

  it('throttles each IP address to 30 attempts a minute', async () => {
    const ip = client();
    for (let i = 0; i < 30; i++) {
      expect(
        await h.failure(AuthRpc.login, {
          email: `n${i}@throttle.test`,
          password: 'whatever password',
          client: ip,
        }),
      ).toMatchObject({ reason: 'INVALID_CREDENTIALS' });
    }
    const limited = await h.failure(AuthRpc.login, {
      email: 'n30@throttle.test',
      password: 'whatever password',
      client: ip,
    });
    expect(limited).toMatchObject({ code: ErrorCode.RateLimited });
    expect(limited.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(limited.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(
      await h.failure(AuthRpc.login, {
        email: 'n30@throttle.test',
        password: 'whatever password',
        client: client(),
      }),
    ).toMatchObject({ reason: 'INVALID_CREDENTIALS' });
  });

  it('refuses a known account past its IP limit too, before its password is checked, counting no attempt', async () => {
    const tenant = h.addTenant('throttle-known');
    await h.activeUser(tenant.id, 'known@throttle.test', 'the known password');
    const ip = client();
    for (let i = 0; i < 30; i++)
      await h.failure(AuthRpc.login, {
        email: `u${i}@throttle-known.test`,
        password: 'whatever password',
        client: ip,
      });
    const verify = jest.spyOn(h.get(PasswordHasher), 'verify');
    try {
      for (let i = 0; i < 6; i++) {
        expect(
          await h.failure(AuthRpc.login, {
            email: 'known@throttle.test',
            password: 'the known password',
            client: ip,
          }),
        ).toMatchObject({ code: ErrorCode.RateLimited, reason: 'AUTH_RATE_LIMITED' });
      }
      expect(verify).not.toHaveBeenCalled();
    } finally {
      verify.mockRestore();
    }
    // Six refusals counted nothing toward the account's lockout (threshold 5).
    await expect(
      h.call(AuthRpc.login, {
        email: 'known@throttle.test',
        password: 'the known password',
        client: client(),
      }),
    ).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('asks for the tenant when an email has accounts in several, only once the password was right', async () => {
    const a = h.addTenant('multi-a');
    const b = h.addTenant('multi-b');
    await h.activeUser(a.id, 'both@multi.test', 'password in tenant a');
    await h.activeUser(b.id, 'both@multi.test', 'password in tenant b');
    const login = (password: string, tenant?: string) =>
      h.call(AuthRpc.login, { email: 'both@multi.test', password, tenant, client: client() });

    await expect(login('neither of the two')).rejects.toMatchObject({
      reason: 'INVALID_CREDENTIALS',
    });
    await expect(login('password in tenant b')).rejects.toMatchObject({
      code: ErrorCode.ValidationFailed,
      errors: [
        {
          field: 'tenant',
          message: "this email has accounts in several tenants: give the tenant's slug",
        },
      ],
    });
    const inA = await login('password in tenant a', 'multi-a');
    if (!isTokenSet(inA)) throw new Error('expected tokens');
    expect((await verifyAccessToken(h, inA.accessToken)).payload.tid).toBe(a.id);
    await expect(login('password in tenant a', 'multi-b')).rejects.toMatchObject({
      reason: 'INVALID_CREDENTIALS',
    });
    await expect(login('password in tenant a', 'no-such-tenant')).rejects.toMatchObject({
      reason: 'INVALID_CREDENTIALS',
    });
  });

  it('refuses an expired password only to whoever knows it', async () => {
    const tenant = h.addTenant('expiry');
    await h.get(AuthSettingsService).update(tenant.id, { passwordMaxAgeDays: 30 });
    const { userId } = await h.activeUser(tenant.id, 'old@expiry.test', 'an old but good password');
    await h.db.query(
      `UPDATE users SET password_changed_at = now() - interval '31 days' WHERE id = $1`,
      [userId],
    );
    const login = (password: string) =>
      h.call(AuthRpc.login, { email: 'old@expiry.test', password, client: client() });
    await expect(login('not the password')).rejects.toMatchObject({
      reason: 'INVALID_CREDENTIALS',
    });
    await expect(login('an old but good password')).rejects.toMatchObject({
      code: ErrorCode.Unauthenticated,
      reason: 'PASSWORD_EXPIRED',
    });
  });

  it('reads the account in one round trip as the tenant the lookup names, under its row-level security', async () => {
    const a = h.addTenant('rls-a');
    const b = h.addTenant('rls-b');
    const { userId } = await h.activeUser(a.id, 'one@rls.test', 'the password of one in a');
    await h.activeUser(b.id, 'other@rls.test', 'the password of other in b');
    const tx = h.get(TenantTransactions);
    const lookup = h.get(CredentialLookupRepository);
    const users = h.get(UserRepository);
    // No tenant filter of its own: only row-level security decides which users it sees.
    const tenantsSeen = query(
      { name: 'test.tenants-of-all-users', text: `SELECT DISTINCT tenant_id FROM users` },
      [],
      (rows) => rows.map((row) => row.tenant_id),
    );
    expect(
      await tx.batch(lookup.tenantOf('email', 'one@rls.test'), [
        tenantsSeen,
        users.findByEmailStatement('one@rls.test'),
        users.findByEmailStatement('other@rls.test'),
      ]),
    ).toEqual([[a.id], expect.objectContaining({ id: userId, tenantId: a.id }), null]);
    expect(await tx.batch(lookup.tenantOf('email', 'nobody@rls.test'), [tenantsSeen])).toEqual([
      [],
    ]);

    // The tenant comes from the lookup, nothing searches across tenants: point the email at
    // tenant b and the right password finds no account.
    const login = () =>
      h.call(AuthRpc.login, {
        email: 'one@rls.test',
        password: 'the password of one in a',
        client: client(),
      });
    await expect(login()).resolves.toMatchObject({ tokenType: 'Bearer' });
    await h.db.query(
      `UPDATE credential_lookup SET tenant_id = $1 WHERE kind = 'email' AND public_id = $2`,
      [b.id, 'one@rls.test'],
    );
    await expect(login()).rejects.toMatchObject({ reason: 'INVALID_CREDENTIALS' });
    await h.db.query(
      `UPDATE credential_lookup SET tenant_id = $1 WHERE kind = 'email' AND public_id = $2`,
      [a.id, 'one@rls.test'],
    );
    await expect(login()).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('commits the session, its refresh token and lookup, last_login_at and the audit together', async () => {
    const tenant = h.addTenant('commit');
    const { userId } = await h.activeUser(tenant.id, 'sign@commit.test', 'the commit password');
    const result = await h.call(AuthRpc.login, {
      email: 'sign@commit.test',
      password: 'the commit password',
      client: client(),
    });
    if (!isTokenSet(result)) throw new Error('expected tokens');
    const sid = (await verifyAccessToken(h, result.accessToken)).payload.sid as string;
    const refreshId = result.refreshToken.split('.')[0]!;
    const [session] = await h.db.query(`SELECT * FROM sessions WHERE id = $1`, [sid]);
    expect(session).toMatchObject({
      tenant_id: tenant.id,
      user_id: userId,
      amr: ['pwd'],
      ip: expect.stringMatching(/^10\./),
      user_agent: 'identity-int-spec',
      revoked_at: null,
    });
    const [token] = await h.db.query(`SELECT * FROM refresh_tokens WHERE id = $1`, [refreshId]);
    expect(token).toMatchObject({
      tenant_id: tenant.id,
      session_id: sid,
      parent_id: null,
      used_at: null,
      secret_hash: sha256Hex(result.refreshToken.split('.')[1]!),
    });
    expect(token.expires_at).toEqual(session.expires_at);
    expect(
      await h.db.query(
        `SELECT tenant_id FROM credential_lookup WHERE kind = $1 AND public_id = $2`,
        ['refresh_token', refreshId],
      ),
    ).toEqual([{ tenant_id: tenant.id }]);
    const [user] = await h.db.query(`SELECT last_login_at FROM users WHERE id = $1`, [userId]);
    expect(user.last_login_at.getTime()).toBeGreaterThanOrEqual(session.created_at.getTime());
    const [event] = await h.auditEvents(
      (e) => e.action === 'login.succeeded' && e.data?.sessionId === sid,
    );
    expect(event!).toMatchObject({ tenantId: tenant.id, actor: { type: 'user', id: userId } });
  });

  it('its access token names the signing key (kid) that the JWKS publishes', async () => {
    const jwks = await h.call(SigningKeyRpc.jwks, {});
    const result = await h.call(AuthRpc.login, {
      email: 'root@operators.test',
      password: ADMIN_PASSWORD,
      client: client(),
    });
    if (!isTokenSet(result)) throw new Error('expected tokens');
    expect(jwks.keys.map((k) => k.kid)).toContain(decodeProtectedHeader(result.accessToken).kid);
    expect(jwks.keys[0]).toEqual({
      kty: 'OKP',
      crv: 'Ed25519',
      x: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      kid: expect.any(String),
      alg: 'EdDSA',
      use: 'sig',
    });
  });
});

/** With its Redis gone, sign-in fails closed. */
describe('login without Redis', () => {
  let redis: ServerProcess;
  let h: IdentityHarness;

  beforeAll(async () => {
    redis = await startRedisServer();
    h = await IdentityHarness.start({ env: { REDIS_URL: redis.url } });
  });

  afterAll(async () => {
    await h?.close();
    await redis?.stop();
  });

  it('answers SERVICE_UNAVAILABLE rather than skipping the lockout and throttle', async () => {
    const tenant = h.addTenant('no-redis');
    await h.activeUser(tenant.id, 'someone@no-redis.test', 'a good long password');
    await redis.kill();
    const answer = await h.failure(AuthRpc.login, {
      email: 'someone@no-redis.test',
      password: 'a good long password',
      client: client(),
    });
    expect(answer).toMatchObject({ code: ErrorCode.ServiceUnavailable, retryAfterSeconds: 1 });
    await redis.restart();
    await expect(
      (async () => {
        for (let i = 0; i < 50; i++) {
          try {
            return await h.call(AuthRpc.login, {
              email: 'someone@no-redis.test',
              password: 'a good long password',
              client: client(),
            });
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        }
        throw new Error('no sign-in after Redis came back');
      })(),
    ).resolves.toMatchObject({ tokenType: 'Bearer' });
  });
});
