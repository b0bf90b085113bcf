import { AppError, ErrorCode } from '@tenantry/contracts';

/** Reasons an MFA request fails; clients may rely on them (`reason` in the problem). */
export enum MfaErrorReason {
  AlreadyEnabled = 'MFA_ALREADY_ENABLED',
  NotEnrolled = 'MFA_NOT_ENROLLED',
  CodeInvalid = 'MFA_CODE_INVALID',
}

export const MfaErrors = {
  alreadyEnabled: () =>
    new AppError(
      ErrorCode.Conflict,
      'an authenticator is already set up; disable it first to set up another',
      { reason: MfaErrorReason.AlreadyEnabled },
    ),

  notEnrolled: () =>
    new AppError(
      ErrorCode.Conflict,
      'no authenticator is being set up or enabled; start with the enrolment',
      { reason: MfaErrorReason.NotEnrolled },
    ),

  codeInvalid: () =>
    new AppError(
      ErrorCode.ValidationFailed,
      'the code is wrong, expired or already used; enter the current code from your authenticator app, or an unused recovery code',
      { reason: MfaErrorReason.CodeInvalid, field: 'code' },
    ),
};
