import { AppError, ErrorCode } from '@tenantry/contracts';

export enum IdempotencyErrorReason {
  InvalidKey = 'IDEMPOTENCY_KEY_INVALID',
  KeyReused = 'IDEMPOTENCY_KEY_REUSED',
  InProgress = 'IDEMPOTENCY_REQUEST_IN_PROGRESS',
  StoreUnavailable = 'IDEMPOTENCY_STORE_UNAVAILABLE',
}

export const IdempotencyErrors = {
  invalidKey: () =>
    new AppError(
      ErrorCode.ValidationFailed,
      'Idempotency-Key header must be 1 to 255 printable ASCII characters',
      { reason: IdempotencyErrorReason.InvalidKey, field: 'Idempotency-Key' },
    ),

  reused: () =>
    new AppError(
      ErrorCode.Conflict,
      'this Idempotency-Key was used with a different request; use a new key for a new request',
      { reason: IdempotencyErrorReason.KeyReused },
    ),

  inProgress: () =>
    new AppError(
      ErrorCode.Conflict,
      'a request with this Idempotency-Key is still being processed; retry shortly',
      { reason: IdempotencyErrorReason.InProgress, retryAfterSeconds: 1 },
    ),

  storeUnavailable: () =>
    new AppError(
      ErrorCode.ServiceUnavailable,
      'idempotency keys cannot be checked right now (Redis unavailable); retry shortly',
      { reason: IdempotencyErrorReason.StoreUnavailable, retryAfterSeconds: 1 },
    ),
};
