import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Counter, register } from 'prom-client';
import { TenantAccessErrors, type ApiCallLimit } from './tenant-access.errors.js';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** One fixed window a call is counted in: its key and how long the key must outlive the window's start. */
export interface CountedWindow {
  key: string;
  ttlSeconds: number;
}

/**
 * Where the counts live: Redis (shared by every gateway instance) in production. `hit` adds one
 * to each window, atomically, and returns the counts after it, in order.
 */
export interface ApiCallCounter {
  hit(windows: readonly CountedWindow[]): Promise<number[]>;
}

/** The counts in Redis: one MULTI (INCR and EXPIRE per window) in one round trip. */
export class RedisApiCallCounter implements ApiCallCounter {
  constructor(private readonly redis: Redis) {}

  async hit(windows: readonly CountedWindow[]): Promise<number[]> {
    const multi = this.redis.multi();
    for (const { key, ttlSeconds } of windows) multi.incr(key).expire(key, ttlSeconds);
    const results = await multi.exec();
    if (!results) throw new Error('the counting transaction was aborted');
    return windows.map((_, i) => {
      const [error, count] = results[i * 2]!;
      if (error) throw error;
      return Number(count);
    });
  }
}

/** The counts in this process only (a gateway without Redis; unit tests). */
export class MemoryApiCallCounter implements ApiCallCounter {
  private readonly counts = new Map<string, { count: number; expiresAt: number }>();

  constructor(private readonly clock: () => number = Date.now) {}

  async hit(windows: readonly CountedWindow[]): Promise<number[]> {
    const now = this.clock();
    if (this.counts.size > 10_000) {
      for (const [key, value] of this.counts) if (value.expiresAt <= now) this.counts.delete(key);
    }
    return windows.map(({ key, ttlSeconds }) => {
      const held = this.counts.get(key);
      const count = held && held.expiresAt > now ? held.count + 1 : 1;
      this.counts.set(key, { count, expiresAt: now + ttlSeconds * 1000 });
      return count;
    });
  }
}

const counted =
  (register.getSingleMetric('tenantry_tenant_api_calls_total') as Counter<string> | undefined) ??
  new Counter({
    name: 'tenantry_tenant_api_calls_total',
    help: 'Requests of tenants with API call limits, by result: counted, refused (429 QUOTA_EXCEEDED), uncounted (the counter store failed: let through)',
    labelNames: ['result'],
  });
const COUNTED = counted.labels('counted');
const REFUSED = counted.labels('refused');
const UNCOUNTED = counted.labels('uncounted');

export interface ApiCallLimits {
  apiCallsPerMinute: number | null;
  apiCallsPerDay: number | null;
}

export interface ApiCallLimiterOptions {
  clock?: () => number;
  /** How often at most a failing counter store is logged (default 10 s). */
  logEveryMs?: number;
}

/**
 * A tenant's API call limits (`apiCallsPerMinute`, `apiCallsPerDay`; null is unlimited): every
 * request of the tenant's principals is counted in a fixed window per minute and per UTC day,
 * atomically, and the one past a limit is refused with a 429 `QUOTA_EXCEEDED` naming the limit,
 * with Retry-After at the window's end. When the counter store fails (Redis away) the request is
 * let through uncounted, and that is logged and counted: the limits are a plan's quota, not a
 * protection worth refusing every tenant's traffic over.
 */
export class ApiCallLimiter {
  private readonly logger = new Logger('ApiCallLimits');
  private readonly clock: () => number;
  private readonly logEveryMs: number;
  private lastLogged = -Infinity;

  constructor(
    private readonly counter: ApiCallCounter,
    options: ApiCallLimiterOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
    this.logEveryMs = options.logEveryMs ?? 10_000;
  }

  /** Counts one call of the tenant; throws the 429 when it goes past one of its limits. */
  async count(tenantId: string, limits: ApiCallLimits): Promise<void> {
    const now = this.clock();
    const checked: { limit: ApiCallLimit; allowed: number; windowEnd: number }[] = [];
    const windows: CountedWindow[] = [];
    if (limits.apiCallsPerMinute !== null) {
      const window = Math.floor(now / MINUTE_MS);
      windows.push({ key: `api-calls:${tenantId}:m:${window}`, ttlSeconds: 120 });
      checked.push({
        limit: 'apiCallsPerMinute',
        allowed: limits.apiCallsPerMinute,
        windowEnd: (window + 1) * MINUTE_MS,
      });
    }
    if (limits.apiCallsPerDay !== null) {
      const window = Math.floor(now / DAY_MS);
      windows.push({ key: `api-calls:${tenantId}:d:${window}`, ttlSeconds: 24 * 3600 + 120 });
      checked.push({
        limit: 'apiCallsPerDay',
        allowed: limits.apiCallsPerDay,
        windowEnd: (window + 1) * DAY_MS,
      });
    }
    if (!windows.length) return;
    let counts: number[];
    try {
      counts = await this.counter.hit(windows);
    } catch (error) {
      UNCOUNTED.inc();
      if (now - this.lastLogged >= this.logEveryMs) {
        this.lastLogged = now;
        this.logger.warn(
          `API call limits not enforced: the calls could not be counted (${(error as Error).message})`,
        );
      }
      return;
    }
    // The day's refusal first when both are exceeded: it lasts longer.
    for (let i = checked.length - 1; i >= 0; i--) {
      const { limit, allowed, windowEnd } = checked[i]!;
      if (counts[i]! > allowed) {
        REFUSED.inc();
        const retryAfter = Math.max(1, Math.ceil((windowEnd - now) / 1000));
        throw TenantAccessErrors.quotaExceeded(tenantId, limit, allowed, retryAfter);
      }
    }
    COUNTED.inc();
  }
}
