import { AppError, ErrorCode } from '@tenantry/contracts';

/** Reasons a report fails; clients may rely on them (`reason` in the problem). */
export enum ReportErrorReason {
  /** The report could not be recorded in the audit log, so it was not served. */
  NotRecorded = 'AUDIT_REPORT_NOT_RECORDED',
  /** Even with every list cut to nothing, the report does not fit in one reply. */
  TooLarge = 'AUDIT_REPORT_TOO_LARGE',
}

export const ReportErrors = {
  /** Every read of the audit log is audited first: no record, no report (fail closed). */
  notRecorded: (kind: string) =>
    new AppError(
      ErrorCode.ServiceUnavailable,
      `the ${kind} report was not served because it could not be recorded in the audit log; try again`,
      { reason: ReportErrorReason.NotRecorded, retryAfterSeconds: 1 },
    ),

  tooLarge: (kind: string, bytes: number) =>
    new AppError(
      ErrorCode.PayloadTooLarge,
      `the ${kind} report is too large to send (${bytes} bytes even with its lists cut): ` +
        'ask for a shorter period, or export the audit log instead',
      { reason: ReportErrorReason.TooLarge },
    ),
};
