import type { ErrorCode } from '@tenantry/contracts';
import { ServiceError } from '@tenantry/messaging';

export enum AuditErrorCode {
  InvalidCursor = 'AUDIT_INVALID_CURSOR',
}

export class AuditError extends ServiceError {
  constructor(code: ErrorCode, reason: AuditErrorCode, message: string, field?: string) {
    super(code, message, reason, field ? [{ field, message }] : undefined);
  }
}
