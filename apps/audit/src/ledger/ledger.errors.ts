import { AppError, ErrorCode } from '@tenantry/contracts';

/** Reasons a ledger request fails; clients may rely on them (`reason` in the problem). */
export enum LedgerErrorReason {
  /** A seq or tree size beyond the tenant's chain. */
  BeyondHead = 'AUDIT_BEYOND_HEAD',
  /** A range or pair of sizes in the wrong order. */
  RangeOrder = 'AUDIT_RANGE_ORDER',
  /** The proof needs a checkpoint and none was issued yet. */
  NotSealed = 'AUDIT_NOT_SEALED',
}

export const LedgerErrors = {
  beyondHead: (field: string, value: number, head: number) =>
    new AppError(
      ErrorCode.ValidationFailed,
      head === 0
        ? `${field} ${value} is beyond the chain: the tenant has no audit entries yet`
        : `${field} must be at most ${head}, the tenant's last audit entry (got ${value})`,
      { reason: LedgerErrorReason.BeyondHead, field },
    ),

  rangeOrder: (field: string, value: number, other: string, otherValue: number) =>
    new AppError(
      ErrorCode.ValidationFailed,
      `${field} must not be below ${other} (${otherValue}); got ${value}`,
      { reason: LedgerErrorReason.RangeOrder, field },
    ),

  notSealed: () =>
    new AppError(
      ErrorCode.Conflict,
      'no checkpoint was issued for this tenant yet: give treeSize, or try again in a few seconds',
      { reason: LedgerErrorReason.NotSealed, field: 'treeSize', retryAfterSeconds: 10 },
    ),
};
