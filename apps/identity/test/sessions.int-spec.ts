import {
  AuthRpc,
  ErrorCode,
  IdentityEvents,
  SessionRpc,
  SigningKeyRpc,
  UserRpc,
  type TokenSet,
} from '@tenantry/contracts';
import { waitFor } from '@tenantry/testing';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import type { z } from 'zod';
import { SigningKeyService } from '../src/signing-keys/signing-key.service.js';
import { client, IdentityHarness } from './identity.harness.js';

type Revoked = z.infer<typeof IdentityEvents.sessionRevoked.schema>;
const OPERATOR = 'operator:01a00000-0000-7000-8000-0000000000bb';

/** Sessions, refresh rotation and signing keys against real PostgreSQL, Redis and NATS. */
describe('sessions and tokens', () => {
  let h: IdentityHarness;
  let tenantId: string;

  beforeAll(async () => {
    h = await IdentityHarness.start();
    tenantId = h.addTenant('sessions').id;
  });

  afterAll(async () => {
    await h?.close();
  });

  const refresh = (refreshToken: string) =>
    h.call(AuthRpc.refresh, { refreshToken, client: client() });

  async function signIn(email: string, password: string): Promise<TokenSet> {
    const result = await h.call(AuthRpc.login, { email, password, client: client() });
    if (!('accessToken' in result)) throw new Error('expected tokens');
    return result;
  }

  /** Sessions the EVENTS stream says were revoked. */
  async function revokedSessions(): Promise<string[]> {
    return (await h.streamMessages<Revoked>('EVENTS'))
      .filter((m) => m.subject.endsWith(IdentityEvents.sessionRevoked.subject))
      .map((m) => m.data.sessionId);
  }

  /** Pretends the refresh token was spent `seconds` ago. */
  async function spentAgo(refreshToken: string, seconds: number): Promise<void> {
    await h.db.query(
      `UPDATE refresh_tokens SET used_at = now() - make_interval(secs => $2) WHERE id = $1`,
      [refreshToken.split('.')[0], seconds],
    );
  }

  it('rotates the refresh token on every use, keeping the session', async () => {
    const { tokens } = await h.activeUser(tenantId, 'rotate@sessions.test', 'rotation password');
    const second = await refresh(tokens.refreshToken);
    expect(second.refreshToken).not.toBe(tokens.refreshToken);
    expect(decodeJwt(second.accessToken).sid).toBe(decodeJwt(tokens.accessToken).sid);
    const third = await refresh(second.refreshToken);
    expect(decodeJwt(third.accessToken).sid).toBe(decodeJwt(tokens.accessToken).sid);
    expect(
      await h.failure(AuthRpc.refresh, { refreshToken: 'garbage', client: client() }),
    ).toMatchObject({
      code: ErrorCode.Unauthenticated,
      reason: 'REFRESH_TOKEN_INVALID',
    });
    const forged = `${third.refreshToken.split('.')[0]}.${'A'.repeat(43)}`;
    expect(
      await h.failure(AuthRpc.refresh, { refreshToken: forged, client: client() }),
    ).toMatchObject({
      reason: 'REFRESH_TOKEN_INVALID',
    });
    // A wrong secret is not reuse: the session lives on.
    await expect(refresh(third.refreshToken)).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('revokes the whole family when a spent refresh token comes back after the grace, and announces it', async () => {
    const { userId, tokens } = await h.activeUser(
      tenantId,
      'reuse@sessions.test',
      'reuse password!',
    );
    const sessionId = decodeJwt(tokens.accessToken).sid as string;
    const next = await refresh(tokens.refreshToken);
    await spentAgo(tokens.refreshToken, 10);
    expect(
      await h.failure(AuthRpc.refresh, { refreshToken: tokens.refreshToken, client: client() }),
    ).toMatchObject({
      code: ErrorCode.Unauthenticated,
      reason: 'REFRESH_TOKEN_REUSED',
    });
    // The legitimate holder's newer token dies with the family.
    expect(
      await h.failure(AuthRpc.refresh, { refreshToken: next.refreshToken, client: client() }),
    ).toMatchObject({
      reason: 'REFRESH_TOKEN_INVALID',
    });
    await waitFor('the revocation event', async () =>
      (await revokedSessions()).includes(sessionId),
    );
    const [event] = (await h.streamMessages<Revoked>('EVENTS')).filter(
      (m) => m.data.sessionId === sessionId,
    );
    expect(event!.data).toMatchObject({ tenantId, userId, until: expect.any(String) });
    expect(new Date(event!.data.until).getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);
    const [reused] = await h.auditEvents(
      (e) => e.action === 'refresh-token.reused' && e.target?.id === sessionId,
    );
    expect(reused!).toMatchObject({ outcome: 'failure', category: 'auth', tenantId });
  });

  it('lets two concurrent refreshes of one token both succeed within the grace window', async () => {
    const { tokens } = await h.activeUser(tenantId, 'race@sessions.test', 'concurrency password');
    const [a, b] = await Promise.all([refresh(tokens.refreshToken), refresh(tokens.refreshToken)]);
    expect(a.refreshToken).not.toBe(b.refreshToken);
    expect(decodeJwt(a.accessToken).sid).toBe(decodeJwt(b.accessToken).sid);
    // Whichever response the client got goes on working.
    await expect(refresh(a.refreshToken)).resolves.toMatchObject({ tokenType: 'Bearer' });
    await expect(refresh(b.refreshToken)).resolves.toMatchObject({ tokenType: 'Bearer' });
    // Sequential retry within the window (a lost response) works too; later it is reuse.
    await spentAgo(tokens.refreshToken, 4);
    await expect(refresh(tokens.refreshToken)).resolves.toMatchObject({ tokenType: 'Bearer' });
    await spentAgo(tokens.refreshToken, 6);
    await expect(refresh(tokens.refreshToken)).rejects.toMatchObject({
      reason: 'REFRESH_TOKEN_REUSED',
    });
  });

  it('lists, revokes one, signs out everywhere else, and logs out, announcing each revocation', async () => {
    const { userId, tokens: first } = await h.activeUser(
      tenantId,
      'devices@sessions.test',
      'many devices password',
    );
    const second = await signIn('devices@sessions.test', 'many devices password');
    const third = await signIn('devices@sessions.test', 'many devices password');
    const fourth = await signIn('devices@sessions.test', 'many devices password');
    const sid = (t: TokenSet) => decodeJwt(t.accessToken).sid as string;
    const listed = await h.call(SessionRpc.list, { tenantId, userId });
    expect(listed.items.map((s) => s.id).sort()).toEqual(
      [first, second, third, fourth].map(sid).sort(),
    );
    expect(listed.items[0]).toMatchObject({
      amr: ['pwd'],
      userAgent: 'identity-int-spec',
      revokedAt: null,
    });

    const revoked = await h.call(
      SessionRpc.revoke,
      { tenantId, userId, sessionId: sid(second) },
      OPERATOR,
    );
    expect(revoked.revokedAt).not.toBeNull();
    await expect(refresh(second.refreshToken)).rejects.toMatchObject({
      reason: 'REFRESH_TOKEN_INVALID',
    });

    await expect(
      h.call(
        SessionRpc.revokeAll,
        { tenantId, userId, exceptSessionId: sid(fourth) },
        `user:${userId}`,
      ),
    ).resolves.toEqual({ revoked: 2 });
    await expect(h.call(AuthRpc.logout, { tenantId, sessionId: sid(fourth) })).resolves.toEqual({
      accepted: true,
    });
    await expect(h.call(AuthRpc.logout, { tenantId, sessionId: sid(fourth) })).resolves.toEqual({
      accepted: true,
    });
    expect((await h.call(SessionRpc.list, { tenantId, userId })).items).toEqual([]);
    await waitFor('four revocation events', async () => {
      const ids = await revokedSessions();
      return [first, second, third, fourth].every((t) => ids.includes(sid(t)));
    });
    expect(
      await h.failure(SessionRpc.revoke, {
        tenantId,
        userId: '01a00000-0000-7000-8000-000000000abc',
        sessionId: sid(first),
      }),
    ).toMatchObject({ code: ErrorCode.NotFound, reason: 'SESSION_NOT_FOUND' });
    const [single] = await h.auditEvents(
      (e) => e.action === 'session.revoked' && e.target?.id === sid(second),
    );
    expect(single!.actor).toEqual({ type: 'operator', id: OPERATOR.split(':')[1] });
    const [all] = await h.auditEvents(
      (e) => e.action === 'sessions.revoked' && e.target?.id === userId,
    );
    expect(all!).toMatchObject({ actor: { type: 'user', id: userId }, data: { count: 2 } });
  });

  it('revokes every session of a user who is disabled', async () => {
    const { userId, tokens } = await h.activeUser(
      tenantId,
      'leaver@sessions.test',
      'leaver password!',
    );
    const other = await signIn('leaver@sessions.test', 'leaver password!');
    await h.call(UserRpc.disable, { tenantId, userId }, OPERATOR);
    for (const t of [tokens, other]) {
      await expect(refresh(t.refreshToken)).rejects.toMatchObject({
        reason: 'REFRESH_TOKEN_INVALID',
      });
    }
    await waitFor('both revocations', async () => {
      const ids = await revokedSessions();
      return [tokens, other].every((t) => ids.includes(decodeJwt(t.accessToken).sid as string));
    });
  });

  it('rotates the signing key on demand, keeping the old key published so its tokens stay valid', async () => {
    const { tokens } = await h.activeUser(tenantId, 'keys@sessions.test', 'signing key password');
    const oldKid = decodeProtectedHeader(tokens.accessToken).kid!;
    const { kid } = await h.call(SigningKeyRpc.rotate, {}, OPERATOR);
    expect(kid).not.toBe(oldKid);
    const jwks = await h.call(SigningKeyRpc.jwks, {});
    expect(jwks.keys.map((k) => k.kid)).toEqual([kid, oldKid]);
    const verify = (token: string) =>
      jwtVerify(token, createLocalJWKSet(jwks), {
        issuer: 'https://tenantry.test',
        audience: 'tenantry',
        algorithms: ['EdDSA'],
      });
    await expect(verify(tokens.accessToken)).resolves.toBeDefined();
    const fresh = await signIn('keys@sessions.test', 'signing key password');
    expect(decodeProtectedHeader(fresh.accessToken).kid).toBe(kid);
    await expect(verify(fresh.accessToken)).resolves.toBeDefined();

    const [{ published_until: until, retired_at: retired }] = await h.db.query(
      `SELECT published_until, retired_at FROM signing_keys WHERE kid = $1`,
      [oldKid],
    );
    expect(until.getTime() - retired.getTime()).toBe(20 * 60_000);
    await waitFor('the rotation event', async () =>
      (await h.streamMessages<{ kid: string }>('EVENTS')).some(
        (m) => m.subject.endsWith(IdentityEvents.signingKeyRotated.subject) && m.data.kid === kid,
      ),
    );
    const [audited] = await h.auditEvents(
      (e) => e.action === 'signing-key.rotated' && e.target?.id === kid,
    );
    expect(audited!.actor).toEqual({ type: 'operator', id: OPERATOR.split(':')[1] });

    // Once every token it signed has expired, the old key leaves the JWKS.
    await h.db.query(`UPDATE signing_keys SET published_until = now() WHERE kid = $1`, [oldKid]);
    expect((await h.call(SigningKeyRpc.jwks, {})).keys.map((k) => k.kid)).toEqual([kid]);
  });

  it('rotates on schedule when the newest key is older than SIGNING_KEY_ROTATION_DAYS', async () => {
    const keys = h.get(SigningKeyService);
    const before = (await h.call(SigningKeyRpc.jwks, {})).keys[0]!.kid;
    await keys.rotateIfDue();
    expect((await h.call(SigningKeyRpc.jwks, {})).keys[0]!.kid).toBe(before);
    await h.db.query(
      `UPDATE signing_keys SET created_at = now() - interval '31 days' WHERE kid = $1`,
      [before],
    );
    await keys.rotateIfDue();
    const after = (await h.call(SigningKeyRpc.jwks, {})).keys.map((k) => k.kid);
    expect(after[0]).not.toBe(before);
    expect(after).toContain(before);
  });
});
