import { scopeCovers, scopesCover, uncoveredScopes } from './scopes.js';

describe('scope matching', () => {
  it.each([
    ['users:read', 'users:read', true],
    ['users:read', 'users:write', false],
    ['users:read', 'audit:read', false],
    ['users:*', 'users:read', true],
    ['users:*', 'users:write', true],
    ['users:*', 'audit:read', false],
    ['*:read', 'audit:read', true],
    ['*:read', 'users:read', true],
    ['*:read', 'users:write', false],
    ['*:*', 'api-keys:write', true],
    // A required wildcard is covered only by a granted wildcard on that side.
    ['users:read', 'users:*', false],
    ['users:*', 'users:*', true],
    ['*:read', '*:*', false],
    // Words are compared whole: no prefixes, no partial matches.
    ['user:read', 'users:read', false],
    ['users:rea', 'users:read', false],
    ['users', 'users:read', false],
    ['*', 'users:read', false],
  ])('%s covers %s: %s', (granted, required, expected) => {
    expect(scopeCovers(granted, required)).toBe(expected);
  });

  it('needs every required scope covered, each by any one granted scope', () => {
    expect(scopesCover(['users:read', 'audit:*'], ['users:read', 'audit:read'])).toBe(true);
    expect(scopesCover(['users:read'], ['users:read', 'audit:read'])).toBe(false);
    expect(scopesCover([], ['users:read'])).toBe(false);
    expect(uncoveredScopes(['users:*'], ['users:write', 'audit:read', '*:*'])).toEqual([
      'audit:read',
      '*:*',
    ]);
  });
});
