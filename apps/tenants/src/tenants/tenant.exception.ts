import { ErrorCode } from '@tenantry/contracts';
import { ServiceError } from '@tenantry/messaging';

export enum TenantErrorCode {
  SlugTaken = 'TENANT_SLUG_TAKEN',
  NotFound = 'TENANT_NOT_FOUND',
  InvalidCursor = 'TENANT_INVALID_CURSOR',
}

export class TenantError extends ServiceError {
  static slugTaken(slug: string): TenantError {
    return new TenantError(
      ErrorCode.Conflict,
      TenantErrorCode.SlugTaken,
      `slug "${slug}" is already taken; choose another`,
      'slug',
    );
  }

  static notFound(id: string): TenantError {
    return new TenantError(
      ErrorCode.NotFound,
      TenantErrorCode.NotFound,
      `tenant ${id} does not exist`,
    );
  }

  static invalidCursor(): TenantError {
    return new TenantError(
      ErrorCode.ValidationFailed,
      TenantErrorCode.InvalidCursor,
      'cursor is not one this API returned',
      'cursor',
    );
  }

  private constructor(code: ErrorCode, reason: TenantErrorCode, message: string, field?: string) {
    super(code, message, reason, field ? [{ field, message }] : undefined);
  }
}
