import { AppError, ErrorCode } from '@tenantry/contracts';

/** Reasons a role request fails; clients may rely on them (`reason` in the problem). */
export enum RoleErrorReason {
  NotFound = 'ROLE_NOT_FOUND',
  IdTaken = 'ROLE_ID_TAKEN',
  SystemRoleId = 'ROLE_SYSTEM_ID',
  SystemRoleReadOnly = 'ROLE_SYSTEM_READ_ONLY',
  InUse = 'ROLE_IN_USE',
  NameRequired = 'ROLE_NAME_REQUIRED',
  /** The tenant's plan allows no more custom roles (`limits.customRoles`). */
  QuotaExceeded = 'QUOTA_EXCEEDED',
}

/** What still uses a role, named in the refusal to delete it. */
export interface RoleUsers {
  bindings: string[];
  policies: string[];
  roles: string[];
}

function listed(label: string, ids: string[]): string | undefined {
  if (!ids.length) return undefined;
  const shown = ids.slice(0, 10).join(', ');
  return `${label} ${shown}${ids.length > 10 ? ` and ${ids.length - 10} more` : ''}`;
}

export const RoleErrors = {
  notFound: (id: string) =>
    new AppError(ErrorCode.NotFound, `role ${id} does not exist`, {
      reason: RoleErrorReason.NotFound,
    }),

  idTaken: (id: string) =>
    new AppError(ErrorCode.Conflict, `the tenant already has a role "${id}"; choose another id`, {
      reason: RoleErrorReason.IdTaken,
      field: 'id',
    }),

  systemRoleId: (id: string) =>
    new AppError(
      ErrorCode.Conflict,
      `"${id}" is the id of a system role (or template); choose another id`,
      { reason: RoleErrorReason.SystemRoleId, field: 'id' },
    ),

  systemRoleReadOnly: (id: string) =>
    new AppError(
      ErrorCode.Conflict,
      `"${id}" is a system role: it cannot be changed or deleted; create a custom role (it may inherit this one)`,
      { reason: RoleErrorReason.SystemRoleReadOnly },
    ),

  inUse: (id: string, users: RoleUsers) =>
    new AppError(
      ErrorCode.Conflict,
      `role "${id}" is in use by ${[
        listed('role bindings', users.bindings),
        listed('policies (deny rules)', users.policies),
        listed('roles inheriting it:', users.roles),
      ]
        .filter(Boolean)
        .join('; ')}: delete or change those first`,
      { reason: RoleErrorReason.InUse },
    ),

  nameRequired: () =>
    new AppError(
      ErrorCode.ValidationFailed,
      'a role needs a name unless it instantiates a template',
      { reason: RoleErrorReason.NameRequired, field: 'name' },
    ),

  quotaExceeded: (limit: number, count: number) =>
    new AppError(
      ErrorCode.Conflict,
      `the tenant's plan allows ${limit} custom role${limit === 1 ? '' : 's'} (limit customRoles); the tenant has ${count}: delete a custom role, or move to a plan that allows more`,
      { reason: RoleErrorReason.QuotaExceeded },
    ),
};
