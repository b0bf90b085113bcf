import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@tenantry/runtime';
import type { AppError } from '@tenantry/contracts';
import type { Redis } from 'ioredis';
import { auditEvent, principalActor } from '../core/audit.js';
import { AuditWriter } from '../core/audit-writer.js';
import { RedisScript } from '../core/redis-script.js';
import { sha256Hex } from '../core/secret-token.js';
import { beforeVerification, type LockoutRules } from './lockout.js';
import { AttemptErrors, orUnavailable } from './password.errors.js';

/**
 * KEYS: failures, in flight, lock[, per-IP counter]; ARGV: [IP limit, IP window seconds].
 * With the fourth key, the request first counts against its IP's fixed window (as
 * RequestThrottle.hit does), and one past the limit gets {-2, seconds left} and nothing
 * else. A locked account: {-1, lock ttl ms}. Otherwise the attempt joins those in flight
 * (the key expires a minute after the last one, should a process die mid-check) and gets
 * {failures, in flight}; the caller takes it back when it may not go on.
 */
const BEGIN = new RedisScript(`
if #KEYS == 4 then
  local hits = redis.call('INCR', KEYS[4])
  if hits == 1 then redis.call('EXPIRE', KEYS[4], ARGV[2]) end
  if hits > tonumber(ARGV[1]) then
    local left = redis.call('TTL', KEYS[4])
    if left < 0 then redis.call('EXPIRE', KEYS[4], ARGV[2]); left = tonumber(ARGV[2]) end
    return {-2, left}
  end
end
local ttl = redis.call('PTTL', KEYS[3])
if ttl > 0 then return {-1, ttl} end
local failures = tonumber(redis.call('GET', KEYS[1]) or '0')
local inFlight = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], 60000)
return {failures, inFlight}`);

/** KEYS: in flight. One attempt leaves the check (never below zero). */
const LEAVE = new RedisScript(`
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then return redis.call('DECR', KEYS[1]) end
return 0`);

/**
 * KEYS: failures, in flight, lock; ARGV: window seconds, threshold, lock ms. The attempt
 * leaves the check as a failure; the threshold-th failure locks (1 when this call locked).
 */
const FAIL = new RedisScript(`
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
local failures = redis.call('INCR', KEYS[1])
if failures == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if failures >= tonumber(ARGV[2]) then
  local set = redis.call('SET', KEYS[3], '1', 'PX', ARGV[3], 'NX')
  redis.call('DEL', KEYS[1])
  if set then return 1 end
end
return 0`);

/** KEYS: failures, in flight, lock. A successful sign-in leaves the check, and the count starts again. */
const SUCCEED = new RedisScript(`
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
redis.call('DEL', KEYS[1], KEYS[3])
return 1`);

/**
 * A per-IP limit that `begin` counts the request against in the same round trip, before the
 * attempt joins the checks (RequestThrottle.limit); `refusal` is the error past it.
 */
export interface PerIpLimit {
  key: string;
  limit: number;
  windowSeconds: number;
  refusal: (retryAfterSeconds: number) => AppError;
}

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
 * Failed-attempt counting and lockout in Redis (per account, per tenant's rules). Before its
 * password is checked an attempt joins the checks in flight, atomically; it may go on only
 * while failures plus checks in flight stay within the threshold (see beforeVerification),
 * so parallel attempts never get more checks than the threshold. It then leaves as a failure
 * (the threshold-th locks the account, audited), a success (the count starts again), or
 * neither (a right password awaiting its second factor). With Redis down, everything here
 * fails closed.
 */
@Injectable()
export class PasswordAttempts {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(AuditWriter) private readonly audit: AuditWriter,
  ) {}

  /**
   * Joins the checks in flight, or throws: ACCOUNT_LOCKED while locked, TOO_MANY_ATTEMPTS
   * (retry in a second) when this check could take the account past its threshold, and
   * `perIp.refusal` past the IP's limit (counted first, when given). Returns the failures so far.
   */
  async begin(subject: AttemptSubject, rules: LockoutRules, perIp?: PerIpLimit): Promise<number> {
    const [failures, second] = await orUnavailable(
      () =>
        (perIp
          ? BEGIN.run(this.redis, [...keys(subject), perIp.key], [perIp.limit, perIp.windowSeconds])
          : BEGIN.run(this.redis, keys(subject))) as Promise<[number, number]>,
    );
    if (failures === -2) throw perIp!.refusal(second);
    const decision = beforeVerification(
      failures < 0
        ? { lockTtlMs: second, failures: 0, inFlight: 0 }
        : { lockTtlMs: 0, failures, inFlight: second },
      rules,
    );
    if (decision.verify) return failures;
    if (failures >= 0) await this.leave(subject);
    if (decision.refusal === 'locked')
      throw AttemptErrors.accountLocked(decision.retryAfterSeconds);
    throw AttemptErrors.tooManyAttempts(decision.retryAfterSeconds);
  }

  /** After a wrong password (or second factor): one more failure; the threshold-th locks the account. */
  async failed(
    subject: AttemptSubject,
    _failuresBefore: number,
    rules: LockoutRules,
  ): Promise<void> {
    const locked = await orUnavailable(
      () =>
        FAIL.run(this.redis, keys(subject), [
          rules.lockoutWindowSeconds,
          rules.lockoutThreshold,
          rules.lockoutDurationSeconds * 1000,
        ]) as Promise<number>,
    );
    if (locked === 1) await this.auditLock(subject, rules);
  }

  /** Leaves the check neither failed nor signed in: the password was right, the second factor is next. */
  async uncount(subject: AttemptSubject): Promise<void> {
    await this.leave(subject);
  }

  /** Leaves the check signed in: the count starts again and any lock ends. */
  async succeeded(subject: AttemptSubject): Promise<void> {
    await orUnavailable(() => SUCCEED.run(this.redis, keys(subject)));
  }

  /** Outside any check (a password reset): the count starts again and any lock ends. */
  async clear(subject: AttemptSubject): Promise<void> {
    const [failures, , lock] = keys(subject);
    await orUnavailable(() => this.redis.del(failures, lock));
  }

  private async leave(subject: AttemptSubject): Promise<void> {
    await orUnavailable(() => LEAVE.run(this.redis, [keys(subject)[1]]));
  }

  private async auditLock(subject: AttemptSubject, rules: LockoutRules): Promise<void> {
    if (!subject.account) return;
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

/** failures, checks in flight, lock. */
const keys = (subject: AttemptSubject): [string, string, string] => [
  `auth:attempts:${subject.key}`,
  `auth:in-flight:${subject.key}`,
  `auth:locked:${subject.key}`,
];
