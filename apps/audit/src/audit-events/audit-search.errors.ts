import { AppError, ErrorCode } from '@tenantry/contracts';
import { FREE_TEXT_TIMEOUT_MS } from './audit-search.repository.js';

/** Reasons a read of the audit log fails; clients may rely on them (`reason` in the problem). */
export enum AuditSearchErrorReason {
  /** The read could not be recorded in the audit log, so it was not served. */
  ReadNotRecorded = 'AUDIT_READ_NOT_RECORDED',
  /** The free-text search scanned too much: narrow it with from/to or other filters. */
  TooBroad = 'AUDIT_SEARCH_TOO_BROAD',
}

export const AuditSearchErrors = {
  /** Every read is audited first: no record, no read (fail closed). */
  readNotRecorded: (what: string) =>
    new AppError(
      ErrorCode.ServiceUnavailable,
      `the ${what} was not served because it could not be recorded in the audit log; try again`,
      { reason: AuditSearchErrorReason.ReadNotRecorded, retryAfterSeconds: 1 },
    ),

  tooBroad: () =>
    new AppError(
      ErrorCode.ValidationFailed,
      `the free-text search (q) did not finish within ${FREE_TEXT_TIMEOUT_MS / 1000} s: ` +
        'narrow it with from and to, or with other filters',
      { reason: AuditSearchErrorReason.TooBroad, field: 'q' },
    ),
};
