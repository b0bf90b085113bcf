import { AppError, ErrorCode, type TenantStatus } from '@tenantry/contracts';

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
  /** The user's tenant is suspended (the same reason the gateway gives for its requests). */
  TenantSuspended = 'TENANT_SUSPENDED',
  /** The user's tenant is being deleted, deleted, failed to provision, or unknown. */
  TenantUnavailable = 'TENANT_UNAVAILABLE',
}

/** What a barred status means for the tenant's users, in words. */
const BARRED: Partial<Record<TenantStatus, string>> = {
  suspended: 'is suspended',
  deprovisioning: 'is being deleted',
  deleted: 'has been deleted',
  failed: 'failed to be set up',
};

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

  /**
   * Sign-in and refresh refused because the tenant is barred (suspended, deprovisioning,
   * deleted, failed; or unknown to the tenants service): only given once the credentials
   * were right. 403 TENANT_SUSPENDED for a suspension, TENANT_UNAVAILABLE otherwise.
   */
  tenantBarred: (tenant: {
    id: string;
    slug?: string;
    status: TenantStatus | null;
    statusReason?: string | null;
  }) => {
    const name = tenant.slug ? `tenant ${tenant.slug} (${tenant.id})` : `tenant ${tenant.id}`;
    const why = tenant.statusReason ? ` (${tenant.statusReason})` : '';
    if (tenant.status === 'suspended')
      return new AppError(
        ErrorCode.Forbidden,
        `${name} is suspended${why}: its users cannot sign in until a platform operator reactivates it`,
        { reason: AuthErrorReason.TenantSuspended },
      );
    const what = tenant.status
      ? `${BARRED[tenant.status] ?? `is ${tenant.status}`} (status ${tenant.status})`
      : 'does not exist';
    return new AppError(ErrorCode.Forbidden, `${name} ${what}${why}: its users cannot sign in`, {
      reason: AuthErrorReason.TenantUnavailable,
    });
  },

  /** Only given once the password was right: a wrong one is still INVALID_CREDENTIALS. */
  ssoRequired: () =>
    new AppError(
      ErrorCode.Forbidden,
      "this account's tenant requires single sign-on; use POST /v1/auth/sso/discover with your email to find where to sign in",
      { reason: AuthErrorReason.SsoRequired },
    ),
};
