import { AppError, ErrorCode } from '@tenantry/contracts';

/** Reasons a tenant request fails; clients may rely on them (`reason` in the problem). */
export enum TenantErrorReason {
  SlugTaken = 'TENANT_SLUG_TAKEN',
  NotFound = 'TENANT_NOT_FOUND',
}

export const TenantErrors = {
  slugTaken: (slug: string) =>
    new AppError(ErrorCode.Conflict, `slug "${slug}" is already taken; choose another`, {
      reason: TenantErrorReason.SlugTaken,
      field: 'slug',
    }),

  notFound: (id: string) =>
    new AppError(ErrorCode.NotFound, `tenant ${id} does not exist`, {
      reason: TenantErrorReason.NotFound,
    }),
};
