import { AppError, ErrorCode } from '@tenantry/contracts';
import { UnrecoverableError } from 'bullmq';

/** Reasons a provisioning request fails; clients may rely on them (`reason` in the problem). */
export enum ProvisioningErrorReason {
  RunNotFound = 'PROVISIONING_RUN_NOT_FOUND',
  RetryNotFailed = 'PROVISIONING_RETRY_NOT_FAILED',
}

export const ProvisioningErrors = {
  runNotFound: (tenantId: string) =>
    new AppError(ErrorCode.NotFound, `tenant ${tenantId} has no provisioning run`, {
      reason: ProvisioningErrorReason.RunNotFound,
    }),

  retryNotFailed: (tenantId: string, status: string, runStatus: string | null) =>
    new AppError(
      ErrorCode.Conflict,
      `tenant ${tenantId} is ${status}${runStatus ? ` and its latest run is ${runStatus}` : ''}; only a failed provisioning (tenant failed) or a failed deletion (tenant deprovisioning, run failed) can be retried`,
      { reason: ProvisioningErrorReason.RetryNotFailed },
    ),
};

/**
 * A step failure that retrying cannot fix (the tenant is no longer provisioning, a
 * participant refused the request as invalid): the run fails at once, without using up its
 * attempts.
 */
export class PermanentStepError extends UnrecoverableError {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentStepError';
  }
}

/** Codes a participant answers that another attempt would only repeat. */
const PERMANENT_CODES = new Set<string>([
  ErrorCode.ValidationFailed,
  ErrorCode.Conflict,
  ErrorCode.Forbidden,
  ErrorCode.Unauthenticated,
  ErrorCode.PayloadTooLarge,
  ErrorCode.UnsupportedMediaType,
]);

/** True when another attempt cannot help: the run should fail (and compensate) now. */
export function isPermanent(error: unknown): boolean {
  if (error instanceof UnrecoverableError) return true;
  return error instanceof AppError && PERMANENT_CODES.has(error.code);
}

/** One line for operators: the error's message, its reason when it has one. */
export function describeError(error: unknown): string {
  if (error instanceof AppError) {
    return error.reason ? `${error.message} (${error.reason})` : error.message;
  }
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
