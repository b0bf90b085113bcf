import { AppError, ErrorCode } from '@tenantry/contracts';

/** Reasons a lifecycle request fails; clients may rely on them (`reason` in the problem). */
export enum LifecycleErrorReason {
  NotCancellable = 'TENANT_DEPROVISION_NOT_CANCELLABLE',
}

export const LifecycleErrors = {
  notCancellable: (tenantId: string, why: string) =>
    new AppError(
      ErrorCode.Conflict,
      `the deletion of tenant ${tenantId} can no longer be cancelled: ${why}`,
      { reason: LifecycleErrorReason.NotCancellable },
    ),
};
