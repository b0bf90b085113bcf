import { RpcException } from '@nestjs/microservices';
import { ErrorCode, type ErrorBody, type FieldError } from '@tenantry/contracts';

/**
 * What a service throws for an expected failure. `code` decides the HTTP status
 * at the gateway; `reason` is the feature's own code (e.g. TENANT_SLUG_TAKEN).
 * Features subclass it in their `<feature>.exception.ts`.
 */
export class ServiceError extends RpcException {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly reason?: string,
    readonly errors?: FieldError[],
  ) {
    super({ code, message, reason, errors });
    this.message = message;
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message, reason: this.reason, errors: this.errors };
  }
}

/** What a caller gets when the other side replied with an error, timed out, or nobody answered. */
export class RpcError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly subject: string,
    readonly reason?: string,
    readonly errors?: FieldError[],
  ) {
    super(message);
    this.name = 'RpcError';
  }
}
