import { AppError, ErrorCode, type Principal } from '@tenantry/contracts';
import { double } from '@tenantry/testing';
import type { IncomingHttpHeaders } from 'node:http';
import { AccessTokenVerifier, type Authenticated } from './access-token.verifier.js';
import { ApiKeyVerifier } from './api-key.verifier.js';
import { AuthErrors } from './auth.errors.js';
import { Authenticator } from './authenticator.js';
import { Revocations } from './revocations.js';
import { VerifiedTokenCache } from './token-cache.js';

const SESSION = '0193d000-0000-7000-8000-000000000003';
const user: Principal = {
  kind: 'user',
  id: '0193c000-0000-7000-8000-000000000002',
  tenantId: '0193a000-0000-7000-8000-00000000000a',
  roles: ['member'],
  scopes: [],
  sessionId: SESSION,
};
const keyPrincipal: Principal = {
  kind: 'api_key',
  id: '0193e000-0000-7000-8000-000000000004',
  tenantId: user.tenantId,
  roles: [],
  scopes: ['audit:read'],
};
const JWT = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
const API_KEY = `tnty_${'A'.repeat(12)}_${'s'.repeat(43)}`;

/** What a refusal is, for comparing: its status code and reason. */
async function refusal(work: () => unknown): Promise<{ code: string; reason?: string }> {
  try {
    await work();
  } catch (error) {
    if (error instanceof AppError) return { code: error.code, reason: error.reason };
    throw error;
  }
  throw new Error('expected a refusal');
}

function setup({ loaded = true } = {}) {
  const revocations = new Revocations();
  const tokenCache = new VerifiedTokenCache();
  const verified: string[] = [];
  const keysAsked: string[] = [];
  const tokens = double(AccessTokenVerifier, {
    verify: async (token) => {
      verified.push(token);
      if (token === 'expired.token.x') throw AuthErrors.tokenExpired();
      return { principal: user, actor: `user:${user.id}`, expiresAt: Date.now() + 60_000 };
    },
  });
  const apiKeys = double(ApiKeyVerifier, {
    verify: async (key) => {
      keysAsked.push(key);
      return { principal: keyPrincipal, actor: 'api_key:x', expiresAt: Date.now() + 30_000 };
    },
  });
  const authenticator = new Authenticator({
    tokens,
    tokenCache,
    apiKeys,
    revocations,
    revocationsLoaded: () => loaded,
  });
  const authenticate = async (headers: IncomingHttpHeaders): Promise<Authenticated> =>
    authenticator.authenticate(headers);
  return { authenticator, authenticate, revocations, tokenCache, verified, keysAsked };
}

describe('Authenticator', () => {
  it('verifies a bearer token once; a repeat is answered from the cache, synchronously', async () => {
    const { authenticator, authenticate, verified } = setup();
    const first = await authenticate({ authorization: `Bearer ${JWT}` });
    expect(first.principal).toBe(user);
    const again = authenticator.authenticate({ authorization: `bearer ${JWT}` });
    expect(again).not.toBeInstanceOf(Promise);
    expect((again as Authenticated).principal).toBe(user);
    expect(verified).toEqual([JWT]);
  });

  it('verifies a token once however many requests bring it at the same time', async () => {
    const { authenticate, verified } = setup();
    await Promise.all(
      Array.from({ length: 5 }, () => authenticate({ authorization: `Bearer ${JWT}` })),
    );
    expect(verified).toEqual([JWT]);
  });

  it("refuses a revoked session's token, cached or not", async () => {
    const { authenticate, revocations } = setup();
    await authenticate({ authorization: `Bearer ${JWT}` });
    revocations.revokeSession(SESSION, Date.now() + 60_000);
    expect(await refusal(() => authenticate({ authorization: `Bearer ${JWT}` }))).toEqual({
      code: ErrorCode.Unauthenticated,
      reason: 'AUTH_SESSION_REVOKED',
    });
    const fresh = setup();
    fresh.revocations.revokeSession(SESSION, Date.now() + 60_000);
    expect(await refusal(() => fresh.authenticate({ authorization: `Bearer ${JWT}` }))).toEqual({
      code: ErrorCode.Unauthenticated,
      reason: 'AUTH_SESSION_REVOKED',
    });
  });

  it('does not cache a refused token', async () => {
    const { authenticate, verified } = setup();
    for (let i = 0; i < 2; i++)
      expect(
        await refusal(() => authenticate({ authorization: 'Bearer expired.token.x' })),
      ).toEqual({
        code: ErrorCode.Unauthenticated,
        reason: 'AUTH_TOKEN_EXPIRED',
      });
    expect(verified).toHaveLength(2);
  });

  it('takes an API key as a bearer token or in X-API-Key', async () => {
    const { authenticate, keysAsked, verified } = setup();
    expect((await authenticate({ authorization: `Bearer ${API_KEY}` })).principal).toBe(
      keyPrincipal,
    );
    expect((await authenticate({ 'x-api-key': API_KEY })).principal).toBe(keyPrincipal);
    expect(keysAsked).toEqual([API_KEY, API_KEY]);
    expect(verified).toEqual([]);
  });

  it.each([
    ['no credentials', {}, 'AUTH_CREDENTIALS_MISSING'],
    ['an empty Authorization', { authorization: '' }, 'AUTH_CREDENTIALS_MISSING'],
    ['Basic credentials', { authorization: 'Basic YWRtaW46YWRtaW4=' }, 'AUTH_CREDENTIALS_MISSING'],
    ['Bearer without a token', { authorization: 'Bearer ' }, 'AUTH_CREDENTIALS_MISSING'],
    ['a JWT in X-API-Key', { 'x-api-key': JWT }, 'AUTH_API_KEY_INVALID'],
    ['a malformed API key', { 'x-api-key': 'tnty_short' }, 'AUTH_API_KEY_INVALID'],
    ['a malformed bearer API key', { authorization: 'Bearer tnty_short' }, 'AUTH_API_KEY_INVALID'],
    ['an empty X-API-Key', { 'x-api-key': '' }, 'AUTH_API_KEY_INVALID'],
    [
      'both Authorization and X-API-Key',
      { authorization: `Bearer ${JWT}`, 'x-api-key': API_KEY },
      'AUTH_CREDENTIALS_AMBIGUOUS',
    ],
    ['a token over 4 KiB', { authorization: `Bearer ${'a'.repeat(5000)}` }, 'AUTH_TOKEN_INVALID'],
  ] as [string, IncomingHttpHeaders, string][])(
    'refuses %s with 401 %s, asking nobody',
    async (_what, headers, reason) => {
      const { authenticate, verified, keysAsked } = setup();
      expect(await refusal(() => authenticate(headers))).toEqual({
        code: ErrorCode.Unauthenticated,
        reason,
      });
      expect(verified).toEqual([]);
      expect(keysAsked).toEqual([]);
    },
  );

  it('answers 503 until the recent revocations have been read', async () => {
    const { authenticate } = setup({ loaded: false });
    for (const headers of [{ authorization: `Bearer ${JWT}` }, { 'x-api-key': API_KEY }]) {
      expect(await refusal(() => authenticate(headers))).toEqual({
        code: ErrorCode.ServiceUnavailable,
        reason: 'AUTH_UNAVAILABLE',
      });
    }
  });
});
