import { AppError, ErrorCode, type AuditVerification } from '@tenantry/contracts';

/** Reasons a tenant lifecycle request to the audit service fails. */
export enum TenantLifecycleErrorReason {
  /** The platform tenant's chain (the deletion certificates) is never bootstrapped or purged. */
  PlatformTenant = 'TENANT_LIFECYCLE_PLATFORM_TENANT',
  /** verify: the tenant's chain has no genesis entry. */
  GenesisMissing = 'TENANT_LIFECYCLE_GENESIS_MISSING',
  /** verify: the tenant's chain does not verify. */
  ChainInvalid = 'TENANT_LIFECYCLE_CHAIN_INVALID',
}

export const TenantLifecycleErrors = {
  platformTenant: (verb: string) =>
    new AppError(
      ErrorCode.Conflict,
      `the platform tenant's audit chain is not managed by the tenant lifecycle (it keeps the deletion certificates): ${verb} is refused for it`,
      { reason: TenantLifecycleErrorReason.PlatformTenant, field: 'tenantId' },
    ),

  genesisMissing: (tenantId: string) =>
    new AppError(
      ErrorCode.Conflict,
      `tenant ${tenantId}'s audit chain has no genesis entry: run the audit bootstrap step first`,
      { reason: TenantLifecycleErrorReason.GenesisMissing },
    ),

  chainInvalid: (tenantId: string, failure: NonNullable<AuditVerification['firstBad']>) =>
    new AppError(
      ErrorCode.Conflict,
      `tenant ${tenantId}'s audit chain does not verify at seq ${failure.seq} (${failure.kind}): ${failure.message}`,
      { reason: TenantLifecycleErrorReason.ChainInvalid },
    ),
};
