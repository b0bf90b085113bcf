import { beforeVerification, type LockoutRules } from './lockout.js';

const rules: LockoutRules = {
  lockoutThreshold: 5,
  lockoutWindowSeconds: 900,
  lockoutDurationSeconds: 600,
};

describe('lockout decisions', () => {
  it('lets attempts reach the password check while failures plus checks in flight stay within the threshold', () => {
    for (let inFlight = 1; inFlight <= 5; inFlight++) {
      expect(beforeVerification({ lockTtlMs: 0, failures: 0, inFlight }, rules)).toEqual({
        verify: true,
      });
    }
    expect(beforeVerification({ lockTtlMs: 0, failures: 4, inFlight: 1 }, rules)).toEqual({
      verify: true,
    });
  });

  it('asks an attempt beyond that to retry in a second: not a failure, and no lock', () => {
    for (const [failures, inFlight] of [
      [0, 6],
      [4, 2],
      [2, 20],
    ]) {
      expect(beforeVerification({ lockTtlMs: 0, failures, inFlight }, rules)).toEqual({
        verify: false,
        refusal: 'busy',
        retryAfterSeconds: 1,
      });
    }
  });

  it('refuses while locked, saying how long the lock lasts', () => {
    expect(beforeVerification({ lockTtlMs: 12_345, failures: 0, inFlight: 0 }, rules)).toEqual({
      verify: false,
      refusal: 'locked',
      retryAfterSeconds: 13,
    });
    expect(beforeVerification({ lockTtlMs: 1, failures: 0, inFlight: 0 }, rules)).toMatchObject({
      retryAfterSeconds: 1,
    });
  });

  it('20 attempts at once get exactly the threshold of checks between them', () => {
    const checked = Array.from({ length: 20 }, (_, i) => i + 1).filter(
      (inFlight) => beforeVerification({ lockTtlMs: 0, failures: 0, inFlight }, rules).verify,
    );
    expect(checked).toHaveLength(rules.lockoutThreshold);
  });
});
