import { AppError, ErrorCode, QUOTA_EXCEEDED, type TenantStatus } from '@tenantry/contracts';

export enum TenantAccessErrorReason {
  /** The principal's tenant is suspended: every request of its users and API keys is refused. */
  Suspended = 'TENANT_SUSPENDED',
  /** The principal's tenant is being deleted, deleted, or failed to provision. */
  Unavailable = 'TENANT_UNAVAILABLE',
  /** The tenant's `settings.ipAllowList` does not cover the client's address. */
  IpNotAllowed = 'TENANT_IP_NOT_ALLOWED',
  /** The tenant's `apiCallsPerMinute` or `apiCallsPerDay` is used up. */
  QuotaExceeded = 'QUOTA_EXCEEDED',
}

/** What a barred status means for the tenant's principals, in words. */
const WHY: Partial<Record<TenantStatus, string>> = {
  suspended: 'until a platform operator reactivates it',
  deprovisioning: 'its deletion is scheduled (a platform operator can still cancel it)',
  deleted: 'it has been deleted',
  failed: 'its provisioning failed (a platform operator can retry it)',
};

export type ApiCallLimit = 'apiCallsPerMinute' | 'apiCallsPerDay';

export const TenantAccessErrors = {
  /** The principal's tenant is in a barred status (BARRED_TENANT_STATUSES). */
  barred: (tenantId: string, status: TenantStatus, reason: string | null) =>
    new AppError(
      ErrorCode.Forbidden,
      `tenant ${tenantId} is ${status}${reason ? ` (reason: ${reason})` : ''}: its users and API keys are refused ${
        WHY[status] ?? 'for now'
      }`,
      {
        reason:
          status === 'suspended'
            ? TenantAccessErrorReason.Suspended
            : TenantAccessErrorReason.Unavailable,
      },
    ),

  ipNotAllowed: (tenantId: string, ip: string) =>
    new AppError(
      ErrorCode.Forbidden,
      `tenant ${tenantId} accepts requests only from the networks in its IP allow list (settings.ipAllowList), and ${ip.slice(0, 64)} is not on any of them`,
      { reason: TenantAccessErrorReason.IpNotAllowed },
    ),

  quotaExceeded: (
    tenantId: string,
    limit: ApiCallLimit,
    allowed: number,
    retryAfterSeconds: number,
  ) =>
    new AppError(
      ErrorCode.RateLimited,
      limit === 'apiCallsPerMinute'
        ? `tenant ${tenantId} has made its ${allowed} API calls of this minute (limit apiCallsPerMinute): retry in ${retryAfterSeconds} s`
        : `tenant ${tenantId} has made its ${allowed} API calls of today (limit apiCallsPerDay; the count starts again at 00:00 UTC): retry in ${retryAfterSeconds} s`,
      { reason: QUOTA_EXCEEDED, retryAfterSeconds },
    ),
};
