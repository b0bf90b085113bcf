import { AppError, ErrorCode } from '@tenantry/contracts';
import { LRUCache } from 'lru-cache';

/** How long "this tenant exists" is believed without asking again. */
export const TENANT_EXISTS_CACHE_MS = 30_000;

/**
 * Whether a tenant exists, for principals of no tenant (operators, platform API keys) on
 * tenant routes: asked of the tenants service, positive answers cached for 30 s (a tenant
 * created a moment ago is found at once; a missing one is asked about every time).
 */
export class TenantDirectory {
  private readonly known: LRUCache<string, true>;

  constructor(
    /** Resolves when the tenant exists; throws the tenants service's error otherwise. */
    private readonly fetchTenant: (id: string) => Promise<unknown>,
    options: { ttlMs?: number; max?: number } = {},
  ) {
    this.known = new LRUCache({
      max: options.max ?? 10_000,
      ttl: options.ttlMs ?? TENANT_EXISTS_CACHE_MS,
    });
  }

  /** It was found to exist within the last 30 s: no need to ask (the guard's synchronous path). */
  isKnown(id: string): boolean {
    return this.known.has(id) || this.known.has(id.toLowerCase());
  }

  /** True when it exists, false when it does not; the tenants service being down throws (503). */
  async exists(id: string): Promise<boolean> {
    const key = id.toLowerCase();
    if (this.known.has(key)) return true;
    try {
      await this.fetchTenant(key);
    } catch (error) {
      if (error instanceof AppError && error.code === ErrorCode.NotFound) return false;
      throw error;
    }
    this.known.set(key, true);
    return true;
  }
}
