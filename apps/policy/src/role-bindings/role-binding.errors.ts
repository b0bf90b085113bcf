import { AppError, ErrorCode } from '@tenantry/contracts';

/** Reasons a role binding request fails; clients may rely on them (`reason` in the problem). */
export enum RoleBindingErrorReason {
  NotFound = 'ROLE_BINDING_NOT_FOUND',
}

export const RoleBindingErrors = {
  notFound: (id: string) =>
    new AppError(ErrorCode.NotFound, `role binding ${id} does not exist`, {
      reason: RoleBindingErrorReason.NotFound,
    }),
};
