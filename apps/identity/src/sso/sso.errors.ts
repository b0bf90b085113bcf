import { AppError, ErrorCode } from '@tenantry/contracts';

/** Reasons an SSO request fails; clients may rely on them (`reason` in the problem). */
export enum SsoErrorReason {
  ConnectionNotFound = 'SSO_CONNECTION_NOT_FOUND',
  ConnectionDisabled = 'SSO_CONNECTION_DISABLED',
  ReturnToNotAllowed = 'SSO_RETURN_TO_NOT_ALLOWED',
  Rejected = 'SSO_REJECTED',
  EmailMissing = 'SSO_EMAIL_MISSING',
  DomainNotVerified = 'SSO_DOMAIN_NOT_VERIFIED',
  UserUnknown = 'SSO_USER_UNKNOWN',
  UserDisabled = 'SSO_USER_DISABLED',
  CodeInvalid = 'SSO_CODE_INVALID',
}

export const SsoErrors = {
  connectionNotFound: () =>
    new AppError(ErrorCode.NotFound, 'there is no SSO connection with this id', {
      reason: SsoErrorReason.ConnectionNotFound,
      field: 'connectionId',
    }),

  connectionDisabled: () =>
    new AppError(
      ErrorCode.Forbidden,
      'this SSO connection is disabled; ask your administrator to enable it',
      { reason: SsoErrorReason.ConnectionDisabled },
    ),

  returnToNotAllowed: (returnTo: string) =>
    new AppError(
      ErrorCode.ValidationFailed,
      `"${returnTo.slice(0, 200)}" is not on the tenant's allowed redirect origins (auth settings redirectOrigins)`,
      { reason: SsoErrorReason.ReturnToNotAllowed, field: 'returnTo' },
    ),

  /** The protocol's checks refused the message; `words` says why (shown and audited). */
  rejected: (protocol: string, words: string) =>
    new AppError(ErrorCode.Unauthenticated, `the ${protocol} sign-in was refused: ${words}`, {
      reason: SsoErrorReason.Rejected,
    }),

  emailMissing: () =>
    new AppError(
      ErrorCode.Unauthenticated,
      'the identity provider sent no email address for you (check the connection’s attribute mapping)',
      { reason: SsoErrorReason.EmailMissing },
    ),

  domainNotVerified: (domain: string) =>
    new AppError(
      ErrorCode.Forbidden,
      `the email domain "${domain}" is not a verified domain of this connection's tenant, so this identity provider may not sign its users in`,
      { reason: SsoErrorReason.DomainNotVerified },
    ),

  userUnknown: () =>
    new AppError(
      ErrorCode.Forbidden,
      'you have no account in this tenant and this connection does not create accounts (just-in-time provisioning is off); ask your administrator',
      { reason: SsoErrorReason.UserUnknown },
    ),

  userDisabled: () =>
    new AppError(ErrorCode.Forbidden, 'your account in this tenant is disabled', {
      reason: SsoErrorReason.UserDisabled,
    }),

  codeInvalid: () =>
    new AppError(
      ErrorCode.Unauthenticated,
      'the sign-in code is unknown, expired (after 60 seconds) or already used; sign in again',
      { reason: SsoErrorReason.CodeInvalid, field: 'code' },
    ),
};
