import { AppError, ErrorCode } from '@tenantry/contracts';

/** Reasons a change to a tenant's policy as a whole fails. */
export enum TenantPolicyErrorReason {
  TooLarge = 'TENANT_POLICY_TOO_LARGE',
}

export const TenantPolicyErrors = {
  tooLarge: (bytes: number, max: number) =>
    new AppError(
      ErrorCode.PayloadTooLarge,
      `the tenant's policy would be ${bytes} bytes as JSON, more than the ${max} a snapshot may hold: remove bindings or rules, or bind groups instead of many users`,
      { reason: TenantPolicyErrorReason.TooLarge },
    ),
};
