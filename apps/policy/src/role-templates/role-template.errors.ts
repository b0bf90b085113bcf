import { AppError, ErrorCode } from '@tenantry/contracts';

/** Reasons a role template request fails; clients may rely on them (`reason` in the problem). */
export enum RoleTemplateErrorReason {
  NotFound = 'ROLE_TEMPLATE_NOT_FOUND',
  IdTaken = 'ROLE_TEMPLATE_ID_TAKEN',
  SystemReadOnly = 'ROLE_TEMPLATE_SYSTEM_READ_ONLY',
  InUse = 'ROLE_TEMPLATE_IN_USE',
}

export const RoleTemplateErrors = {
  notFound: (id: string) =>
    new AppError(ErrorCode.NotFound, `role template ${id} does not exist`, {
      reason: RoleTemplateErrorReason.NotFound,
    }),

  idTaken: (id: string, system: boolean) =>
    new AppError(
      ErrorCode.Conflict,
      system
        ? `"${id}" is a system template's id; choose another id`
        : `the tenant already has a role template "${id}"; choose another id`,
      { reason: RoleTemplateErrorReason.IdTaken, field: 'id' },
    ),

  systemReadOnly: (id: string) =>
    new AppError(ErrorCode.Conflict, `"${id}" is a system template: it cannot be deleted`, {
      reason: RoleTemplateErrorReason.SystemReadOnly,
    }),

  inUse: (id: string, roles: string[]) =>
    new AppError(
      ErrorCode.Conflict,
      `role template "${id}" is in use by roles ${roles.slice(0, 10).join(', ')}${
        roles.length > 10 ? ` and ${roles.length - 10} more` : ''
      }: delete or change those first`,
      { reason: RoleTemplateErrorReason.InUse },
    ),
};
