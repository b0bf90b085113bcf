import { AppError, ErrorCode } from '@tenantry/contracts';

/** Reasons an export fails before its first byte; clients may rely on them (`reason` in the problem). */
export enum AuditExportErrorReason {
  /** The tenant's audit log has no entries (yet, or any more after retention). */
  Empty = 'AUDIT_EXPORT_EMPTY',
  /** fromSeq or toSeq lies outside the entries the ledger holds. */
  OutOfRange = 'AUDIT_EXPORT_OUT_OF_RANGE',
  /** No signed checkpoint covers toSeq, and none could be sealed now. */
  NotSealed = 'AUDIT_EXPORT_NOT_SEALED',
}

export const AuditExportErrors = {
  empty: (tenantId: string) =>
    new AppError(
      ErrorCode.NotFound,
      `the audit log of tenant ${tenantId} has no entries to export`,
      { reason: AuditExportErrorReason.Empty },
    ),

  /** A seq past the newest entry. */
  pastHead: (field: 'fromSeq' | 'toSeq', seq: number, headSeq: number) =>
    new AppError(
      ErrorCode.ValidationFailed,
      `${field} ${seq} is past the newest entry (${headSeq}); omit toSeq to export up to the newest`,
      { reason: AuditExportErrorReason.OutOfRange, field },
    ),

  /** A seq before the oldest entry retention kept. */
  pruned: (field: 'fromSeq' | 'toSeq', seq: number, firstSeq: number) =>
    new AppError(
      ErrorCode.ValidationFailed,
      `${field} ${seq} was removed by retention: the oldest entry kept is ${firstSeq}; omit fromSeq to start there`,
      { reason: AuditExportErrorReason.OutOfRange, field },
    ),

  notSealed: (toSeq: number) =>
    new AppError(
      ErrorCode.ServiceUnavailable,
      `no signed checkpoint covers entry ${toSeq} yet; try again in a few seconds`,
      { reason: AuditExportErrorReason.NotSealed, retryAfterSeconds: 2 },
    ),
};
