import { AppError, ErrorCode, TENANT_NOT_FOUND, tenantNotFound } from '@tenantry/contracts';

/** Reasons a tenant request fails; clients may rely on them (`reason` in the problem). */
export enum TenantErrorReason {
  SlugTaken = 'TENANT_SLUG_TAKEN',
  NotFound = TENANT_NOT_FOUND,
}

export const TenantErrors = {
  slugTaken: (slug: string) =>
    new AppError(ErrorCode.Conflict, `slug "${slug}" is already taken; choose another`, {
      reason: TenantErrorReason.SlugTaken,
      field: 'slug',
    }),

  /** The same answer the gateway gives for another tenant's id (contracts: tenantNotFound). */
  notFound: (id: string) => tenantNotFound(id),

  slugNotFound: (slug: string) =>
    new AppError(ErrorCode.NotFound, `no tenant has the slug "${slug}"`, {
      reason: TenantErrorReason.NotFound,
      field: 'slug',
    }),
};
