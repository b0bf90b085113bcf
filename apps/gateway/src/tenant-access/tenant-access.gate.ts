import type { Principal } from '@tenantry/contracts';
import { Counter, register } from 'prom-client';
import type { ApiCallLimiter } from './api-call-limiter.js';
import { TenantAccessErrors, TenantAccessErrorReason } from './tenant-access.errors.js';
import type { TenantAccessEntry, TenantAccessFollower } from './tenant-access.follower.js';

const refusals =
  (register.getSingleMetric('tenantry_tenant_access_refusals_total') as
    Counter<string> | undefined) ??
  new Counter({
    name: 'tenantry_tenant_access_refusals_total',
    help: "Requests refused at the gateway by their tenant's access state, by reason (TENANT_SUSPENDED, TENANT_UNAVAILABLE, TENANT_IP_NOT_ALLOWED)",
    labelNames: ['reason'],
  });

/**
 * The tenant's side of every authenticated request, checked by the guard right after the
 * caller is known: a principal of a tenant (a user or an API key; never an operator or a
 * platform API key, which belong to no tenant) is refused while its tenant is barred
 * (BARRED_TENANT_STATUSES: 403 TENANT_SUSPENDED or TENANT_UNAVAILABLE) and from an address
 * outside the tenant's IP allow list (403 TENANT_IP_NOT_ALLOWED); a tenant with API call limits
 * has the request counted (429 QUOTA_EXCEEDED past one). One map lookup for every request; the
 * count (one Redis round trip) only for tenants with a limit.
 */
export class TenantAccessGate {
  constructor(
    private readonly states: TenantAccessFollower,
    private readonly limiter: ApiCallLimiter,
  ) {}

  /**
   * Throws when the principal's tenant refuses this request; returns the tenant's state when
   * the request must still be counted against its limits (`count`), else undefined.
   */
  admit(principal: Principal, ip: string): TenantAccessEntry | undefined {
    const tenantId = principal.tenantId;
    if (tenantId === null) return undefined;
    const entry = this.states.get(tenantId);
    if (!entry) return undefined;
    if (entry.barred) {
      const error = TenantAccessErrors.barred(
        tenantId,
        entry.access.status,
        entry.access.statusReason,
      );
      refusals.inc({ reason: error.reason });
      throw error;
    }
    if (entry.allowList && !entry.allowList.allows(ip)) {
      refusals.inc({ reason: TenantAccessErrorReason.IpNotAllowed });
      throw TenantAccessErrors.ipNotAllowed(tenantId, ip);
    }
    return entry.limited ? entry : undefined;
  }

  /** Counts the request against the tenant's API call limits; rejects with the 429 past one. */
  count(entry: TenantAccessEntry): Promise<void> {
    return this.limiter.count(entry.access.tenantId.toLowerCase(), entry.access);
  }
}
