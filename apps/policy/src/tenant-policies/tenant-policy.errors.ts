import { AppError, ErrorCode, type TenantStatus } from '@tenantry/contracts';

/** Reasons a change to a tenant's policy as a whole fails. */
export enum TenantPolicyErrorReason {
  TooLarge = 'TENANT_POLICY_TOO_LARGE',
  /** The tenant exists but has no policy in its status (provisioning, failed, deprovisioning). */
  Unavailable = 'TENANT_POLICY_UNAVAILABLE',
}

export const TenantPolicyErrors = {
  tooLarge: (bytes: number, max: number) =>
    new AppError(
      ErrorCode.PayloadTooLarge,
      `the tenant's policy would be ${bytes} bytes as JSON, more than the ${max} a snapshot may hold: remove bindings or rules, or bind groups instead of many users`,
      { reason: TenantPolicyErrorReason.TooLarge },
    ),

  unavailable: (tenantId: string, status: TenantStatus) =>
    new AppError(
      ErrorCode.Conflict,
      status === 'provisioning'
        ? `tenant ${tenantId} is still provisioning: its policy is created by the provisioning run's policy step; try again once the tenant is active`
        : `tenant ${tenantId} is ${status}: it has no policy, and none is created for a tenant in that status`,
      {
        reason: TenantPolicyErrorReason.Unavailable,
        retryAfterSeconds: status === 'provisioning' ? 5 : undefined,
      },
    ),
};
