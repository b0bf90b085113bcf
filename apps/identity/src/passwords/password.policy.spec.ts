import type { EntityManager } from 'typeorm';
import { double } from '@tenantry/testing';
import { isCommonPassword } from './common-passwords.js';
import { PasswordHasher } from './password.hasher.js';
import { PasswordHistoryRepository } from './password-history.repository.js';
import { passwordExpired, strengthProblem } from './password.policy.js';
import { PasswordService } from './password.service.js';

const DAY = 24 * 60 * 60 * 1000;
const manager = double<EntityManager>('EntityManager');

/** A PasswordService whose "hashes" are `h:<password>` and whose history is `previous`. */
function setup(previous: string[]) {
  const asked: number[] = [];
  const hasher = double(PasswordHasher, {
    hash: async (password) => `h:${password}`,
    verify: async (hash, password) => hash === `h:${password}`,
  });
  const history = double(PasswordHistoryRepository, {
    recent: async (_manager, _tenant, _user, count) => {
      asked.push(count);
      return previous.slice(0, count).map((p) => `h:${p}`);
    },
  });
  return { service: new PasswordService(hasher, history), asked };
}

const request = (password: string, passwordHistory = 3, passwordMinLength = 12) => ({
  tenantId: 't',
  userId: 'u',
  password,
  settings: { passwordMinLength, passwordHistory },
  field: 'newPassword',
});

describe('password policy', () => {
  it('refuses passwords shorter than the minimum, counting characters rather than UTF-16 units', () => {
    expect(strengthProblem('elevenchars', 12)).toEqual({ kind: 'too_short', minLength: 12 });
    expect(strengthProblem('twelve chars', 12)).toBeNull();
    // Eleven emoji are 22 UTF-16 code units, but eleven characters.
    expect(strengthProblem('🚀'.repeat(11), 12)).toEqual({ kind: 'too_short', minLength: 12 });
    expect(strengthProblem('🚀'.repeat(12), 12)).toBeNull();
  });

  it('refuses passwords from the common-password list whatever their case', () => {
    expect(isCommonPassword('password')).toBe(true);
    expect(isCommonPassword('PassWord')).toBe(true);
    expect(isCommonPassword('QWERTY123456')).toBe(true);
    expect(isCommonPassword('orbit kettle mauve 71 paddle')).toBe(false);
    expect(strengthProblem('123qweasdzxc', 12)).toEqual({ kind: 'too_common' });
    expect(strengthProblem('123qweasdzxc', 12, () => false)).toBeNull();
  });

  it('lets passwords expire after the maximum age, or never', () => {
    const now = new Date('2026-12-01T00:00:00Z');
    const changed = new Date(now.getTime() - 90 * DAY);
    expect(passwordExpired(changed, 90, now)).toBe(false);
    expect(passwordExpired(new Date(changed.getTime() - 1), 90, now)).toBe(true);
    expect(passwordExpired(changed, null, now)).toBe(false);
    expect(passwordExpired(null, 1, now)).toBe(false);
  });

  it('hashes an acceptable password, checking the history the tenant asks for', async () => {
    const { service, asked } = setup(['first password!', 'second password!']);
    await expect(service.choose(manager, request('a brand new password'))).resolves.toBe(
      'h:a brand new password',
    );
    expect(asked).toEqual([3]);
  });

  it('refuses a password among the last N (the current one included), naming the field', async () => {
    const { service } = setup(['current password!', 'older password!!', 'oldest password!']);
    for (const reused of ['current password!', 'oldest password!']) {
      await expect(service.choose(manager, request(reused))).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        reason: 'PASSWORD_REUSED',
        errors: [{ field: 'newPassword' }],
      });
    }
    // Beyond the history length it may come back.
    await expect(service.choose(manager, request('oldest password!', 2))).resolves.toBe(
      'h:oldest password!',
    );
    // A history of 0 allows even the current password.
    await expect(service.choose(manager, request('current password!', 0))).resolves.toBe(
      'h:current password!',
    );
  });

  it('names the rule a password breaks before looking at the history', async () => {
    const { service, asked } = setup([]);
    await expect(service.choose(manager, request('short'))).rejects.toMatchObject({
      reason: 'PASSWORD_TOO_SHORT',
      errors: [{ field: 'newPassword', message: expect.stringContaining('at least 12') }],
    });
    await expect(service.choose(manager, request('iloveyou12345'))).resolves.toBeDefined();
    await expect(service.choose(manager, request('passwordpassword'))).rejects.toMatchObject({
      reason: 'PASSWORD_TOO_COMMON',
    });
    expect(asked).toEqual([3]);
  });
});
