import { Logger } from '@nestjs/common';
import { IdentityEvents, type Principal } from '@tenantry/contracts';
import { NatsService, newContext, type FollowedEvent } from '@tenantry/messaging';
import { double } from '@tenantry/testing';
import { ApiKeyVerifier } from './api-key.verifier.js';
import { IdentityEventsFollower } from './identity-events.follower.js';
import { Revocations } from './revocations.js';
import { SigningKeys } from './signing-keys.js';

const SESSION = '0193d000-0000-7000-8000-000000000003';
const KEY_ID = '0193e000-0000-7000-8000-000000000004';
const TENANT = '0193a000-0000-7000-8000-00000000000a';
const keyPrincipal: Principal = {
  kind: 'api_key',
  id: KEY_ID,
  tenantId: TENANT,
  roles: [],
  scopes: ['audit:read'],
};

const event = (subject: string, data: unknown): FollowedEvent => ({
  subject,
  data,
  streamSequence: 1,
  storedAt: new Date(),
  context: newContext(),
});

beforeAll(() => Logger.overrideLogger(false));

describe('IdentityEventsFollower.handle', () => {
  function setup() {
    const revocations = new Revocations();
    const asked: string[] = [];
    const apiKeys = new ApiKeyVerifier({
      verifyRemote: async (key) => {
        asked.push(key);
        return keyPrincipal;
      },
      revocations,
    });
    let refreshes = 0;
    const keys = double(SigningKeys, {
      refresh: async () => {
        refreshes++;
      },
    });
    const follower = new IdentityEventsFollower(
      double(NatsService, {}),
      revocations,
      apiKeys,
      keys,
    );
    return { follower, revocations, apiKeys, asked, refreshes: () => refreshes };
  }

  it('keeps a revoked session until its tokens have expired', () => {
    const { follower, revocations } = setup();
    const until = new Date(Date.now() + 10 * 60_000).toISOString();
    follower.handle(
      event(IdentityEvents.sessionRevoked.subject, {
        sessionId: SESSION,
        tenantId: TENANT,
        userId: '0193c000-0000-7000-8000-000000000002',
        until,
      }),
    );
    expect(revocations.isSessionRevoked(SESSION)).toBe(true);
    revocations.sweep();
    expect(revocations.isSessionRevoked(SESSION)).toBe(true);
  });

  it('forgets a revoked session whose tokens expired long ago (on the next sweep)', () => {
    const { follower, revocations } = setup();
    follower.handle(
      event(IdentityEvents.sessionRevoked.subject, {
        sessionId: SESSION,
        tenantId: TENANT,
        userId: '0193c000-0000-7000-8000-000000000002',
        until: new Date(Date.now() - 5 * 60_000).toISOString(),
      }),
    );
    revocations.sweep();
    expect(revocations.isSessionRevoked(SESSION)).toBe(false);
  });

  it('evicts a revoked API key from the cache and refuses it from then on', async () => {
    const { follower, apiKeys, asked } = setup();
    const key = `tnty_${'A'.repeat(12)}_${'s'.repeat(43)}`;
    await apiKeys.verify(key);
    follower.handle(
      event(IdentityEvents.apiKeyRevoked.subject, { keyId: KEY_ID, tenantId: TENANT, prefix: 'A' }),
    );
    await expect(apiKeys.verify(key)).rejects.toMatchObject({ reason: 'AUTH_API_KEY_INVALID' });
    expect(asked).toHaveLength(2);
  });

  it('fetches the JWKS again after a signing-key rotation', () => {
    const { follower, refreshes } = setup();
    follower.handle(event(IdentityEvents.signingKeyRotated.subject, { kid: 'k2' }));
    expect(refreshes()).toBe(1);
  });

  it('throws on an event that breaks its contract (the follower logs and skips it)', () => {
    const { follower, revocations } = setup();
    expect(() =>
      follower.handle(event(IdentityEvents.sessionRevoked.subject, { sessionId: 'nope' })),
    ).toThrow();
    expect(revocations.size).toEqual({ sessions: 0, apiKeys: 0 });
    // Other identity events are none of the gateway's business.
    follower.handle(event('evt.identity.user.created', { id: 'x' }));
  });
});
