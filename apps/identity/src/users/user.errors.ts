import { AppError, ErrorCode } from '@tenantry/contracts';

/** Reasons a user request fails; clients may rely on them (`reason` in the problem). */
export enum UserErrorReason {
  NotFound = 'USER_NOT_FOUND',
  EmailTaken = 'USER_EMAIL_TAKEN',
  RolesNotAllowed = 'USER_ROLES_NOT_ALLOWED',
  NotInvited = 'USER_NOT_INVITED',
  NotActive = 'USER_NOT_ACTIVE',
  LastOperator = 'USER_LAST_OPERATOR',
  CurrentPasswordWrong = 'USER_CURRENT_PASSWORD_WRONG',
  TokenInvalid = 'USER_TOKEN_INVALID',
}

export const UserErrors = {
  notFound: (id: string) =>
    new AppError(ErrorCode.NotFound, `user ${id} does not exist`, {
      reason: UserErrorReason.NotFound,
    }),

  emailTaken: (email: string) =>
    new AppError(ErrorCode.Conflict, `the tenant already has a user with the email "${email}"`, {
      reason: UserErrorReason.EmailTaken,
      field: 'email',
    }),

  rolesNotAllowed: (why: string) =>
    new AppError(ErrorCode.ValidationFailed, why, {
      reason: UserErrorReason.RolesNotAllowed,
      field: 'roles',
    }),

  notInvited: (id: string) =>
    new AppError(
      ErrorCode.Conflict,
      `user ${id} has already accepted the invitation (or is disabled); nothing to resend`,
      { reason: UserErrorReason.NotInvited },
    ),

  notActive: (id: string) =>
    new AppError(ErrorCode.Conflict, `user ${id} is not active (invited or disabled)`, {
      reason: UserErrorReason.NotActive,
    }),

  lastOperator: () =>
    new AppError(
      ErrorCode.Conflict,
      'this is the last active platform operator: invite another operator first',
      { reason: UserErrorReason.LastOperator },
    ),

  currentPasswordWrong: () =>
    new AppError(ErrorCode.ValidationFailed, 'the current password is wrong', {
      reason: UserErrorReason.CurrentPasswordWrong,
      field: 'currentPassword',
    }),

  /** One answer for a malformed, unknown, expired, used or replaced link token. */
  tokenInvalid: () =>
    new AppError(
      ErrorCode.Unauthenticated,
      'this link is invalid, has expired or was already used; ask for a new one',
      { reason: UserErrorReason.TokenInvalid, field: 'token' },
    ),
};
