import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@tenantry/runtime';
import type { Redis } from 'ioredis';
import { auditEvent, principalActor } from '../core/audit.js';
import { AuditWriter } from '../core/audit-writer.js';
import { sha256Hex } from '../core/secret-token.js';
import { beforeVerification, lockAfterFailure, type LockoutRules } from './lockout.js';
import { AttemptErrors, orUnavailable } from './password.errors.js';

/**
 * KEYS: counter, lock; ARGV: window seconds. A locked account is not counted ({0, lock ttl});
 * otherwise the counter is incremented (expiring a window after the first attempt) and returned.
 */
const COUNT_ATTEMPT = `
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then return {0, ttl} end
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {n, 0}`;

/** KEYS: counter, lock; ARGV: lock ms. Locks unless locked (1 when this call locked), restarts the count. */
const LOCK = `
local set = redis.call('SET', KEYS[2], '1', 'PX', ARGV[1], 'NX')
redis.call('DEL', KEYS[1])
if set then return 1 end
return 0`;

/** KEYS: counter. Takes back one attempt (a right password that still awaits its second factor). */
const UNCOUNT = `
if redis.call('EXISTS', KEYS[1]) == 1 and tonumber(redis.call('GET', KEYS[1])) > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0`;

/** Whose attempts a counter counts: an account, or an email that has none (so both lock alike). */
export interface AttemptSubject {
  key: string;
  /** The account, for the audit of its lockout; absent for an unknown email. */
  account?: { tenantId: string; userId: string };
}

export function accountSubject(tenantId: string, userId: string): AttemptSubject {
  return { key: `${tenantId}:${userId}`, account: { tenantId, userId } };
}

/** An email with no account locks like one, so a lockout does not tell that an account exists. */
export function unknownEmailSubject(email: string): AttemptSubject {
  return { key: `unknown:${sha256Hex(email)}` };
}

/**
 * Failed-attempt counting and lockout in Redis (per account, per tenant's rules): each
 * attempt is counted atomically BEFORE its password is checked, and one beyond the
 * threshold is refused without a check, so parallel attempts never get more checks than
 * the threshold. A lockout is audited. With Redis down, everything here fails closed.
 */
@Injectable()
export class PasswordAttempts {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(AuditWriter) private readonly audit: AuditWriter,
  ) {}

  /** Counts an attempt; throws ACCOUNT_LOCKED when the account is locked or this attempt is over the threshold. Returns the count. */
  async begin(subject: AttemptSubject, rules: LockoutRules): Promise<number> {
    const [count, lockTtlMs] = await orUnavailable(
      () =>
        this.redis.eval(
          COUNT_ATTEMPT,
          2,
          counterKey(subject),
          lockKey(subject),
          rules.lockoutWindowSeconds,
        ) as Promise<[number, number]>,
    );
    const decision = beforeVerification({ count, lockTtlMs }, rules);
    if (decision.verify) return count;
    if (decision.lockNow) await this.lock(subject, rules);
    throw AttemptErrors.accountLocked(decision.retryAfterSeconds);
  }

  /** After a wrong password (or second factor) of attempt number `count`: locks at the threshold. */
  async failed(subject: AttemptSubject, count: number, rules: LockoutRules): Promise<void> {
    if (lockAfterFailure(count, rules)) await this.lock(subject, rules);
  }

  /** Takes this attempt back: the password was right, the login waits for its second factor. */
  async uncount(subject: AttemptSubject): Promise<void> {
    await orUnavailable(() => this.redis.eval(UNCOUNT, 1, counterKey(subject)));
  }

  /** A completed sign-in (or a password reset): the count starts again, any lock ends. */
  async clear(subject: AttemptSubject): Promise<void> {
    await orUnavailable(() => this.redis.del(counterKey(subject), lockKey(subject)));
  }

  private async lock(subject: AttemptSubject, rules: LockoutRules): Promise<void> {
    const locked = await orUnavailable(
      () =>
        this.redis.eval(
          LOCK,
          2,
          counterKey(subject),
          lockKey(subject),
          rules.lockoutDurationSeconds * 1000,
        ) as Promise<number>,
    );
    if (locked !== 1 || !subject.account) return;
    const { tenantId, userId } = subject.account;
    await this.audit.record([
      auditEvent(
        {
          tenantId,
          category: 'auth',
          action: 'account.locked',
          target: { type: 'user', id: userId },
          data: {
            threshold: rules.lockoutThreshold,
            windowSeconds: rules.lockoutWindowSeconds,
            durationSeconds: rules.lockoutDurationSeconds,
          },
        },
        principalActor(tenantId, userId),
      ),
    ]);
  }
}

const counterKey = (subject: AttemptSubject) => `auth:attempts:${subject.key}`;
const lockKey = (subject: AttemptSubject) => `auth:locked:${subject.key}`;
