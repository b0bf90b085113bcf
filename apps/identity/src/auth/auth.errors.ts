import { AppError, ErrorCode } from '@tenantry/contracts';

/** Reasons a sign-in request fails; clients may rely on them (`reason` in the problem). */
export enum AuthErrorReason {
  InvalidCredentials = 'INVALID_CREDENTIALS',
  TenantRequired = 'TENANT_REQUIRED',
  PasswordExpired = 'PASSWORD_EXPIRED',
  RateLimited = 'AUTH_RATE_LIMITED',
  MfaChallengeInvalid = 'MFA_CHALLENGE_INVALID',
  MfaCodeInvalid = 'MFA_CODE_INVALID',
  RefreshTokenInvalid = 'REFRESH_TOKEN_INVALID',
  RefreshTokenReused = 'REFRESH_TOKEN_REUSED',
  SsoRequired = 'AUTH_SSO_REQUIRED',
}

export const AuthErrors = {
  /** The one answer for an unknown email, a wrong password, and an invited or disabled user. */
  invalidCredentials: () =>
    new AppError(ErrorCode.Unauthenticated, 'email or password is wrong', {
      reason: AuthErrorReason.InvalidCredentials,
    }),

  /** Only given once the password was right for at least one of the accounts. */
  tenantRequired: () =>
    new AppError(
      ErrorCode.ValidationFailed,
      "this email has accounts in several tenants: give the tenant's slug",
      { reason: AuthErrorReason.TenantRequired, field: 'tenant' },
    ),

  passwordExpired: () =>
    new AppError(
      ErrorCode.Unauthenticated,
      'your password has expired: choose a new one through a password reset (POST /v1/auth/password-reset)',
      { reason: AuthErrorReason.PasswordExpired },
    ),

  rateLimited: (retryAfterSeconds: number) =>
    new AppError(
      ErrorCode.RateLimited,
      `too many attempts from your address; try again in ${retryAfterSeconds} s`,
      { reason: AuthErrorReason.RateLimited, retryAfterSeconds: Math.max(1, retryAfterSeconds) },
    ),

  mfaChallengeInvalid: () =>
    new AppError(
      ErrorCode.Unauthenticated,
      'the sign-in challenge is unknown, has expired (after 5 minutes) or was already used; sign in again',
      { reason: AuthErrorReason.MfaChallengeInvalid, field: 'challengeToken' },
    ),

  mfaCodeInvalid: () =>
    new AppError(
      ErrorCode.Unauthenticated,
      'the code is wrong, expired or already used; enter the current code from your authenticator app, or an unused recovery code',
      { reason: AuthErrorReason.MfaCodeInvalid, field: 'code' },
    ),

  refreshTokenInvalid: () =>
    new AppError(
      ErrorCode.Unauthenticated,
      'the refresh token is invalid or expired, or its session has ended; sign in again',
      { reason: AuthErrorReason.RefreshTokenInvalid },
    ),

  refreshTokenReused: () =>
    new AppError(
      ErrorCode.Unauthenticated,
      'this refresh token had already been used, so its session was ended for safety; sign in again',
      { reason: AuthErrorReason.RefreshTokenReused },
    ),

  /** Only given once the password was right: a wrong one is still INVALID_CREDENTIALS. */
  ssoRequired: () =>
    new AppError(
      ErrorCode.Forbidden,
      "this account's tenant requires single sign-on; use POST /v1/auth/sso/discover with your email to find where to sign in",
      { reason: AuthErrorReason.SsoRequired },
    ),
};
