import type { Principal } from '@tenantry/contracts';
import type { Authenticated } from './access-token.verifier.js';
import { VerifiedTokenCache } from './token-cache.js';

const principal: Principal = {
  kind: 'user',
  id: '0193c000-0000-7000-8000-000000000002',
  tenantId: '0193a000-0000-7000-8000-00000000000a',
  roles: [],
  scopes: [],
  sessionId: '0193d000-0000-7000-8000-000000000003',
};
const entry = (expiresAt: number): Authenticated => ({
  principal,
  actor: `user:${principal.id}`,
  expiresAt,
});

describe('VerifiedTokenCache', () => {
  let clock = 1_000_000;
  const cache = () => new VerifiedTokenCache({ now: () => clock, max: 3 });

  beforeEach(() => {
    clock = 1_000_000;
  });

  it('hits until the token expires, then misses (and forgets it)', () => {
    const tokens = cache();
    tokens.set('hash-a', entry(clock + 60_000));
    expect(tokens.get('hash-a')?.principal).toBe(principal);
    expect(tokens.get('hash-b')).toBeUndefined();
    clock += 59_999;
    expect(tokens.get('hash-a')).toBeDefined();
    clock += 1;
    expect(tokens.get('hash-a')).toBeUndefined();
    expect(tokens.size).toBe(0);
  });

  it('does not keep a token that has already expired', () => {
    const tokens = cache();
    tokens.set('hash-a', entry(clock));
    tokens.set('hash-b', entry(clock - 1));
    expect(tokens.size).toBe(0);
  });

  it('is bounded: the least recently used token goes first', () => {
    const tokens = cache();
    for (const name of ['a', 'b', 'c']) tokens.set(name, entry(clock + 60_000));
    tokens.get('a');
    tokens.set('d', entry(clock + 60_000));
    expect(tokens.get('b')).toBeUndefined();
    expect(tokens.get('a')).toBeDefined();
    expect(tokens.size).toBe(3);
  });

  it('clears (a signing key was withdrawn)', () => {
    const tokens = cache();
    tokens.set('a', entry(clock + 60_000));
    tokens.clear();
    expect(tokens.get('a')).toBeUndefined();
  });
});
