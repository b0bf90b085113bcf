import { AppError, ErrorCode } from '@tenantry/contracts';

/** Reasons an API key request fails; clients may rely on them (`reason` in the problem). */
export enum ApiKeyErrorReason {
  NotFound = 'API_KEY_NOT_FOUND',
  /** The one answer to every key that does not authenticate, whatever the cause. */
  Invalid = 'INVALID_API_KEY',
  ExpiryInPast = 'API_KEY_EXPIRY_IN_PAST',
  NotActive = 'API_KEY_NOT_ACTIVE',
  AlreadyRotated = 'API_KEY_ALREADY_ROTATED',
}

export const ApiKeyErrors = {
  /** Also the answer for another tenant's key: row-level security hides it. */
  notFound: (id: string) =>
    new AppError(ErrorCode.NotFound, `API key ${id} does not exist`, {
      reason: ApiKeyErrorReason.NotFound,
    }),

  /**
   * Malformed, unknown, wrong secret, revoked or expired: one error, one message, so a
   * caller learns nothing about which it was.
   */
  invalid: () =>
    new AppError(ErrorCode.Unauthenticated, 'the API key is not valid', {
      reason: ApiKeyErrorReason.Invalid,
    }),

  expiryInPast: (expiresAt: string) =>
    new AppError(
      ErrorCode.ValidationFailed,
      `expiresAt must be in the future (got ${expiresAt}); omit it for a key that does not expire`,
      { reason: ApiKeyErrorReason.ExpiryInPast, field: 'expiresAt' },
    ),

  /** Rotating a revoked or expired key would bring a dead credential back to life. */
  notActive: (id: string, state: 'revoked' | 'expired') =>
    new AppError(
      ErrorCode.Conflict,
      `API key ${id} is ${state} and cannot be rotated; create a new key instead`,
      { reason: ApiKeyErrorReason.NotActive },
    ),

  alreadyRotated: (id: string, successorId: string) =>
    new AppError(
      ErrorCode.Conflict,
      `API key ${id} was already rotated to ${successorId}; rotate that key instead`,
      { reason: ApiKeyErrorReason.AlreadyRotated },
    ),
};
