import { AppError, ErrorCode } from '@tenantry/contracts';

/** Reasons a tenant lifecycle request to the policy service fails. */
export enum TenantLifecycleErrorReason {
  /** The platform tenant is never provisioned, reconfigured or removed through the lifecycle. */
  PlatformTenant = 'TENANT_LIFECYCLE_PLATFORM_TENANT',
  /** verify: the tenant has no policy. */
  PolicyMissing = 'TENANT_LIFECYCLE_POLICY_MISSING',
  /** verify: the tenant's policy is not (yet) in the snapshot bucket. */
  PolicyUnpublished = 'TENANT_LIFECYCLE_POLICY_UNPUBLISHED',
}

export const TenantLifecycleErrors = {
  platformTenant: (verb: string) =>
    new AppError(
      ErrorCode.Conflict,
      `the platform tenant's policy is not managed by the tenant lifecycle: ${verb} is refused for it`,
      { reason: TenantLifecycleErrorReason.PlatformTenant, field: 'tenantId' },
    ),

  policyMissing: (tenantId: string) =>
    new AppError(
      ErrorCode.Conflict,
      `tenant ${tenantId} has no policy: run the policy bootstrap step first`,
      { reason: TenantLifecycleErrorReason.PolicyMissing },
    ),

  policyUnpublished: (tenantId: string, version: number, published: number) =>
    new AppError(
      ErrorCode.ServiceUnavailable,
      `tenant ${tenantId}'s policy is at version ${version} but the snapshot bucket has version ${published}: it is published again shortly; retry`,
      { reason: TenantLifecycleErrorReason.PolicyUnpublished, retryAfterSeconds: 2 },
    ),
};
