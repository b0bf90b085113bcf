import { ErrorCode } from '@tenantry/contracts';

export enum IdempotencyErrorCode {
  InvalidKey = 'IDEMPOTENCY_KEY_INVALID',
  KeyReused = 'IDEMPOTENCY_KEY_REUSED',
  InProgress = 'IDEMPOTENCY_REQUEST_IN_PROGRESS',
  StoreUnavailable = 'IDEMPOTENCY_STORE_UNAVAILABLE',
}

/** Thrown by the gateway itself (not a service); the problem filter maps `code` like any other. */
export class IdempotencyError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly reason: IdempotencyErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'IdempotencyError';
  }

  static invalidKey(): IdempotencyError {
    return new IdempotencyError(
      ErrorCode.ValidationFailed,
      IdempotencyErrorCode.InvalidKey,
      'Idempotency-Key header must be 1 to 255 printable ASCII characters',
    );
  }

  static reused(): IdempotencyError {
    return new IdempotencyError(
      ErrorCode.Conflict,
      IdempotencyErrorCode.KeyReused,
      'this Idempotency-Key was used with a different request; use a new key for a new request',
    );
  }

  static inProgress(): IdempotencyError {
    return new IdempotencyError(
      ErrorCode.Conflict,
      IdempotencyErrorCode.InProgress,
      'a request with this Idempotency-Key is still being processed; retry shortly',
    );
  }

  static storeUnavailable(): IdempotencyError {
    return new IdempotencyError(
      ErrorCode.ServiceUnavailable,
      IdempotencyErrorCode.StoreUnavailable,
      'idempotency keys cannot be checked right now (Redis unavailable); retry shortly',
    );
  }
}
