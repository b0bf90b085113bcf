import { beforeVerification, lockAfterFailure, type LockoutRules } from './lockout.js';

const rules: LockoutRules = {
  lockoutThreshold: 5,
  lockoutWindowSeconds: 900,
  lockoutDurationSeconds: 600,
};

describe('lockout decisions', () => {
  it('lets attempts 1 to threshold reach the password check', () => {
    for (let count = 1; count <= 5; count++) {
      expect(beforeVerification({ count, lockTtlMs: 0 }, rules)).toEqual({ verify: true });
    }
  });

  it('refuses every attempt beyond the threshold without a check, and locks for the duration', () => {
    for (const count of [6, 7, 20]) {
      expect(beforeVerification({ count, lockTtlMs: 0 }, rules)).toEqual({
        verify: false,
        retryAfterSeconds: 600,
        lockNow: true,
      });
    }
  });

  it('refuses while locked, saying how long the lock lasts, whatever the count', () => {
    expect(beforeVerification({ count: 0, lockTtlMs: 12_345 }, rules)).toEqual({
      verify: false,
      retryAfterSeconds: 13,
      lockNow: false,
    });
    expect(beforeVerification({ count: 0, lockTtlMs: 1 }, rules)).toMatchObject({
      retryAfterSeconds: 1,
    });
  });

  it('locks at once on the threshold-th failure, not before', () => {
    expect([1, 2, 3, 4, 5, 6].map((count) => lockAfterFailure(count, rules))).toEqual([
      false,
      false,
      false,
      false,
      true,
      true,
    ]);
  });

  it('20 attempts counted at once get exactly the threshold of checks between them', () => {
    const counts = Array.from({ length: 20 }, (_, i) => i + 1);
    const checked = counts.filter(
      (count) => beforeVerification({ count, lockTtlMs: 0 }, rules).verify,
    );
    expect(checked).toHaveLength(rules.lockoutThreshold);
  });
});
