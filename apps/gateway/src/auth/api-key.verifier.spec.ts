import { AppError, ErrorCode, type Principal } from '@tenantry/contracts';
import { RpcError } from '@tenantry/messaging';
import { ApiKeyVerifier } from './api-key.verifier.js';
import { Revocations } from './revocations.js';

const KEY_ID = '0193e000-0000-7000-8000-000000000004';
const principal: Principal = {
  kind: 'api_key',
  id: KEY_ID,
  tenantId: '0193a000-0000-7000-8000-00000000000a',
  roles: [],
  scopes: ['audit:read'],
};
const KEY = `tnty_${'A'.repeat(12)}_${'s'.repeat(43)}`;
const OTHER_KEY = `tnty_${'B'.repeat(12)}_${'s'.repeat(43)}`;

async function refusal(work: Promise<unknown>): Promise<{ code: string; reason?: string }> {
  try {
    await work;
  } catch (error) {
    if (error instanceof AppError) return { code: error.code, reason: error.reason };
    throw error;
  }
  throw new Error('expected a refusal');
}

function setup(answer: (key: string) => Promise<Principal> = async () => principal) {
  let clock = 1_000_000;
  const asked: string[] = [];
  const revocations = new Revocations(() => clock);
  const verifier = new ApiKeyVerifier({
    verifyRemote: async (key) => {
      asked.push(key);
      return answer(key);
    },
    revocations,
    now: () => clock,
  });
  return { verifier, asked, revocations, advance: (ms: number) => (clock += ms) };
}

describe('ApiKeyVerifier', () => {
  it('asks identity once, then answers from the cache for 30 s', async () => {
    const { verifier, asked, advance } = setup();
    expect((await verifier.verify(KEY)).principal).toBe(principal);
    advance(29_999);
    expect((await verifier.verify(KEY)).actor).toBe(`api_key:${KEY_ID}`);
    expect(asked).toHaveLength(1);
    advance(1);
    await verifier.verify(KEY);
    expect(asked).toHaveLength(2);
  });

  it("never reuses an answer past the key's own end (expiry, or a rotation's overlap)", async () => {
    const endsSoon = { ...principal, expiresAt: new Date(1_000_000 + 5_000).toISOString() };
    const { verifier, asked, advance } = setup(async () => endsSoon);
    await verifier.verify(KEY);
    advance(4_999);
    await verifier.verify(KEY);
    expect(asked).toHaveLength(1);
    advance(1);
    await verifier.verify(KEY);
    expect(asked).toHaveLength(2);
  });

  it('asks once for a key many requests bring at the same time', async () => {
    const { verifier, asked } = setup();
    await Promise.all(Array.from({ length: 5 }, () => verifier.verify(KEY)));
    expect(asked).toHaveLength(1);
  });

  it('evicts a revoked key at once, and refuses it even while an answer about it was in flight', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { verifier, asked, revocations } = setup(async () => {
      await gate;
      return principal;
    });
    const inFlight = verifier.verify(KEY);
    revocations.revokeApiKey(KEY_ID, Date.now() + 60_000);
    verifier.evict(KEY_ID);
    release();
    expect(await refusal(inFlight)).toEqual({
      code: ErrorCode.Unauthenticated,
      reason: 'AUTH_API_KEY_INVALID',
    });
    expect(await refusal(verifier.verify(KEY))).toMatchObject({ reason: 'AUTH_API_KEY_INVALID' });
    expect(asked).toHaveLength(2);
  });

  it('refuses a revoked key still in the cache (its revocation is checked on every use)', async () => {
    const { verifier, asked, revocations } = setup();
    await verifier.verify(KEY);
    revocations.revokeApiKey(KEY_ID, Date.now() + 60_000);
    expect(await refusal(verifier.verify(KEY))).toMatchObject({ reason: 'AUTH_API_KEY_INVALID' });
    expect(asked).toHaveLength(1);
  });

  it('forgets a cached key on eviction: the next use asks identity again', async () => {
    const { verifier, asked } = setup();
    await verifier.verify(KEY);
    await verifier.verify(OTHER_KEY);
    verifier.evict(KEY_ID);
    await verifier.verify(KEY);
    expect(asked).toEqual([KEY, OTHER_KEY, KEY]);
  });

  it('is 401 when identity refuses the key, 503 when identity cannot answer; neither is cached', async () => {
    const refused = setup(async () => {
      throw new RpcError(ErrorCode.Unauthenticated, 'no such key', 'identity.api-keys.verify');
    });
    expect(await refusal(refused.verifier.verify(KEY))).toEqual({
      code: ErrorCode.Unauthenticated,
      reason: 'AUTH_API_KEY_INVALID',
    });
    await refusal(refused.verifier.verify(KEY));
    expect(refused.asked).toHaveLength(2);

    for (const code of [ErrorCode.ServiceUnavailable, ErrorCode.Timeout, ErrorCode.Internal]) {
      const down = setup(async () => {
        throw new RpcError(code, 'identity is down', 'identity.api-keys.verify');
      });
      expect(await refusal(down.verifier.verify(KEY))).toEqual({
        code: ErrorCode.ServiceUnavailable,
        reason: 'AUTH_UNAVAILABLE',
      });
    }
  });

  it('refuses an answer that is not an API key principal', async () => {
    const { verifier } = setup(async () => ({ ...principal, kind: 'operator' }));
    expect(await refusal(verifier.verify(KEY))).toMatchObject({ reason: 'AUTH_API_KEY_INVALID' });
  });
});
