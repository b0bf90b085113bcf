import { AppError, ErrorCode } from '@tenantry/contracts';

export enum TenantsApiErrorReason {
  /** A field of a tenant that only platform operators change (limits, trial) was sent by someone else. */
  PlatformOnlyField = 'TENANT_FIELD_PLATFORM_ONLY',
  /** A tenant's principal set an IP allow list that leaves out the address it calls from. */
  IpAllowListExcludesCaller = 'TENANT_IP_ALLOW_LIST_EXCLUDES_CALLER',
  /** No bulk operation with this id (or one of another tenant). */
  BulkOperationNotFound = 'BULK_OPERATION_NOT_FOUND',
}

export const TenantsApiErrors = {
  /** `fields`: what the caller sent that it may not change (limitOverrides, clearOverrides, trialEndsAt). */
  platformOnlyFields: (fields: readonly string[]) =>
    new AppError(
      ErrorCode.Forbidden,
      `${fields.join(', ')} ${fields.length > 1 ? 'are' : 'is'} platform administration: only a platform operator may change ${
        fields.length > 1 ? 'them' : 'it'
      } (a tenant's admins and API keys may change its name and settings); leave ${
        fields.length > 1 ? 'them' : 'it'
      } out`,
      {
        reason: TenantsApiErrorReason.PlatformOnlyField,
        errors: fields.map((field) => ({
          field,
          message: `${field} can only be changed by a platform operator`,
        })),
      },
    ),

  /** A platform API key (no tenant, not an operator) changing a tenant: operators only. */
  platformKeyRefused: () =>
    new AppError(
      ErrorCode.Forbidden,
      "changing a tenant is platform administration for operators; a platform API key may not (a tenant's own admins and API keys may change its name and settings)",
      { reason: TenantsApiErrorReason.PlatformOnlyField },
    ),

  ipAllowListExcludesCaller: (ip: string) =>
    new AppError(
      ErrorCode.ValidationFailed,
      `settings.ipAllowList must include the network you are calling from (${ip.slice(0, 64)}): otherwise every later request of the tenant from here is refused; add it, or have a platform operator set the list`,
      {
        reason: TenantsApiErrorReason.IpAllowListExcludesCaller,
        field: 'settings.ipAllowList',
      },
    ),

  bulkOperationNotFound: (id: string) =>
    new AppError(ErrorCode.NotFound, `bulk operation ${id} does not exist`, {
      reason: TenantsApiErrorReason.BulkOperationNotFound,
    }),
};
