import { AppError, type ErrorBody, type ErrorCode } from '@tenantry/contracts';

/** What a caller gets when the other side replied with an error, timed out, or nobody answered. */
export class RpcError extends AppError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly subject: string,
    body: Omit<ErrorBody, 'code' | 'message'> = {},
  ) {
    super(code, message, body);
    this.name = 'RpcError';
  }
}
