import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@tenantry/runtime';
import type { Redis } from 'ioredis';
import { RedisScript } from '../core/redis-script.js';
import type { PerIpLimit } from '../passwords/password-attempts.js';
import { orUnavailable } from '../passwords/password.errors.js';
import { AuthErrors } from './auth.errors.js';

/** Password-reset requests one IP address may make per minute. */
export const RESET_REQUESTS_PER_IP_PER_MINUTE = 10;
/** Reset mails one account gets per hour at most (more requests are accepted, and ignored). */
export const RESET_MAILS_PER_ACCOUNT_PER_HOUR = 5;

/** KEYS: counter; ARGV: window seconds. A fixed window: {count in it, seconds left}. */
const HIT = new RedisScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}`);

/** Counters in Redis (fixed windows) that throttle requests per IP or per account; fail closed. */
@Injectable()
export class RequestThrottle {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Counts a request of `bucket` from `key`: false (with the wait) once `limit` is passed in the window. */
  async hit(
    bucket: string,
    key: string,
    limit: number,
    windowSeconds: number,
  ): Promise<{ allowed: boolean; retryAfterSeconds: number }> {
    const [count, ttl] = await orUnavailable(
      () =>
        HIT.run(this.redis, [throttleKey(bucket, key)], [windowSeconds]) as Promise<
          [number, number]
        >,
    );
    return { allowed: count <= limit, retryAfterSeconds: ttl };
  }

  /** Throws RATE_LIMITED (429 with Retry-After) beyond `limit` requests per minute from `ip`. */
  async perIp(bucket: string, ip: string, limit: number): Promise<void> {
    const { allowed, retryAfterSeconds } = await this.hit(bucket, ip, limit, 60);
    if (!allowed) throw AuthErrors.rateLimited(retryAfterSeconds);
  }

  /**
   * `perIp`'s counter, for PasswordAttempts.begin to count in the same round trip as the
   * attempt (the same key, window and refusal).
   */
  perIpLimit(bucket: string, ip: string, limit: number): PerIpLimit {
    return {
      key: throttleKey(bucket, ip),
      limit,
      windowSeconds: 60,
      refusal: AuthErrors.rateLimited,
    };
  }
}

const throttleKey = (bucket: string, key: string) => `throttle:${bucket}:${key}`;
