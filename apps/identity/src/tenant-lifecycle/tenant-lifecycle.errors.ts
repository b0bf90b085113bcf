import { AppError, ErrorCode, type QuotaKey } from '@tenantry/contracts';

/** Reasons a tenant lifecycle request or a quota'd creation fails; clients may rely on them. */
export enum TenantLifecycleErrorReason {
  /** A creation would take the tenant past one of its plan's limits. */
  QuotaExceeded = 'QUOTA_EXCEEDED',
  /** The tenant's plan does not include the feature the request needs (e.g. `sso`). */
  FeatureNotInPlan = 'FEATURE_NOT_IN_PLAN',
  /** verify: what bootstrap creates is not (all) there. */
  BootstrapIncomplete = 'TENANT_BOOTSTRAP_INCOMPLETE',
  /** The platform tenant (operators) has no lifecycle: it is never suspended or removed. */
  PlatformTenant = 'TENANT_LIFECYCLE_PLATFORM',
}

/** How a limit's things are named in messages: one, many. */
const THINGS: Partial<Record<QuotaKey, [string, string]>> = {
  users: ['user', 'users'],
  ssoConnections: ['SSO connection', 'SSO connections'],
};

function count(key: QuotaKey, n: number): string {
  const [one, many] = THINGS[key] ?? [key, key];
  return `${n} ${n === 1 ? one : many}`;
}

export const TenantLifecycleErrors = {
  /**
   * 409: the tenant is at (or would go past) a limit of its plan, e.g. "the tenant's plan
   * (free) allows 5 users (limit users) and the tenant has 5".
   */
  quotaExceeded: (plan: string, key: QuotaKey, limit: number, current: number, adding = 1) =>
    new AppError(
      ErrorCode.Conflict,
      `the tenant's plan (${plan}) allows ${count(key, limit)} (limit ${key}) and the tenant has ${current}` +
        `${adding > 1 ? `; this would add ${adding}` : ''}: remove some first, or move the tenant to a plan ` +
        `(or a limit override) that allows more`,
      { reason: TenantLifecycleErrorReason.QuotaExceeded },
    ),

  /** 403: the plan lacks a feature, e.g. SSO connections on a plan without `sso`. */
  featureNotInPlan: (plan: string, feature: string, what: string) =>
    new AppError(
      ErrorCode.Forbidden,
      `the tenant's plan (${plan}) does not include ${what} (feature ${feature}): move the tenant to a plan that includes it`,
      { reason: TenantLifecycleErrorReason.FeatureNotInPlan },
    ),

  /** verify: names each missing piece. */
  bootstrapIncomplete: (tenantId: string, missing: string[]) =>
    new AppError(
      ErrorCode.Conflict,
      `identity's part of tenant ${tenantId} is incomplete: ${missing.join('; ')}; run bootstrap (again)`,
      { reason: TenantLifecycleErrorReason.BootstrapIncomplete },
    ),

  platformTenant: (verb: string) =>
    new AppError(
      ErrorCode.ValidationFailed,
      `the platform tenant (platform operators) has no lifecycle: ${verb} is refused for it`,
      { reason: TenantLifecycleErrorReason.PlatformTenant, field: 'tenantId' },
    ),
};
