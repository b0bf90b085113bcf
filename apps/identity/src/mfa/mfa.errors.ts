import { AppError, ErrorCode } from '@tenantry/contracts';

/** Reasons an MFA request fails; clients may rely on them (`reason` in the problem). */
export enum MfaErrorReason {
  AlreadyEnabled = 'MFA_ALREADY_ENABLED',
  NotEnrolled = 'MFA_NOT_ENROLLED',
  CodeInvalid = 'MFA_CODE_INVALID',
  PasskeyOptionsMissing = 'PASSKEY_OPTIONS_MISSING',
  PasskeyInvalid = 'PASSKEY_INVALID',
  PasskeyExists = 'PASSKEY_EXISTS',
  PasskeyNotFound = 'PASSKEY_NOT_FOUND',
  NoPasskeys = 'NO_PASSKEYS',
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

  passkeyOptionsMissing: () =>
    new AppError(
      ErrorCode.Conflict,
      'no passkey registration is under way (or it expired after 5 minutes); ask for registration options first',
      { reason: MfaErrorReason.PasskeyOptionsMissing },
    ),

  passkeyInvalid: (why: string) =>
    new AppError(
      ErrorCode.ValidationFailed,
      `the passkey's registration could not be verified: ${why}`,
      { reason: MfaErrorReason.PasskeyInvalid, field: 'credential' },
    ),

  passkeyExists: () =>
    new AppError(ErrorCode.Conflict, 'this passkey is registered already', {
      reason: MfaErrorReason.PasskeyExists,
    }),

  passkeyNotFound: (passkeyId: string) =>
    new AppError(ErrorCode.NotFound, `passkey ${passkeyId} not found`, {
      reason: MfaErrorReason.PasskeyNotFound,
    }),

  noPasskeys: () =>
    new AppError(
      ErrorCode.Conflict,
      'the user has no passkey: answer the challenge with a code instead',
      { reason: MfaErrorReason.NoPasskeys },
    ),
};
