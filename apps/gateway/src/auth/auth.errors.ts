import { AppError, ErrorCode } from '@tenantry/contracts';

export enum AuthErrorReason {
  CredentialsMissing = 'AUTH_CREDENTIALS_MISSING',
  CredentialsAmbiguous = 'AUTH_CREDENTIALS_AMBIGUOUS',
  TokenInvalid = 'AUTH_TOKEN_INVALID',
  TokenExpired = 'AUTH_TOKEN_EXPIRED',
  SessionRevoked = 'AUTH_SESSION_REVOKED',
  ApiKeyInvalid = 'AUTH_API_KEY_INVALID',
  NotPermitted = 'AUTH_NOT_PERMITTED',
  Unavailable = 'AUTH_UNAVAILABLE',
  RefreshTokenMissing = 'AUTH_REFRESH_TOKEN_MISSING',
  CsrfHeaderMissing = 'AUTH_CSRF_HEADER_MISSING',
  RouteUndeclared = 'AUTH_ROUTE_UNDECLARED',
}

const unauthenticated = (message: string, reason: AuthErrorReason) =>
  new AppError(ErrorCode.Unauthenticated, message, { reason });

/**
 * The gateway's authentication and authorization refusals. A 401 says what to send, never
 * which check a presented credential failed (beyond "expired", which tells a client to
 * refresh); the problem-details mapping adds `WWW-Authenticate: Bearer`.
 */
export const AuthErrors = {
  credentialsMissing: () =>
    unauthenticated(
      'sign in first: send an access token as "Authorization: Bearer <token>", or an API key as "X-API-Key: tnty_…"',
      AuthErrorReason.CredentialsMissing,
    ),

  credentialsAmbiguous: () =>
    unauthenticated(
      'send one credential: either Authorization or X-API-Key, not both',
      AuthErrorReason.CredentialsAmbiguous,
    ),

  tokenInvalid: () =>
    unauthenticated('the access token is not valid: sign in again', AuthErrorReason.TokenInvalid),

  tokenExpired: () =>
    unauthenticated(
      'the access token has expired: get a new one with POST /v1/auth/refresh',
      AuthErrorReason.TokenExpired,
    ),

  sessionRevoked: () =>
    unauthenticated(
      'the session of this access token has ended: sign in again',
      AuthErrorReason.SessionRevoked,
    ),

  apiKeyInvalid: () =>
    unauthenticated(
      'the API key is not valid (unknown, revoked or expired)',
      AuthErrorReason.ApiKeyInvalid,
    ),

  tokenInApiKeyHeader: () =>
    unauthenticated(
      'X-API-Key takes an API key (tnty_…); send an access token as "Authorization: Bearer <token>"',
      AuthErrorReason.ApiKeyInvalid,
    ),

  /** `needs`: who may, in words (the route's rule, as the OpenAPI document states it too). */
  notPermitted: (needs: string) =>
    new AppError(ErrorCode.Forbidden, `you are not allowed to do this: it takes ${needs}`, {
      reason: AuthErrorReason.NotPermitted,
    }),

  scopesNotCovered: (scopes: string[]) =>
    new AppError(
      ErrorCode.Forbidden,
      `an API key may only give scopes it has itself; not covered: ${scopes.join(', ')}`,
      { reason: AuthErrorReason.NotPermitted, field: 'scopes' },
    ),

  keysUnavailable: () =>
    new AppError(
      ErrorCode.ServiceUnavailable,
      'access tokens cannot be checked yet: the signing keys have not been loaded from the identity service; retry shortly',
      { reason: AuthErrorReason.Unavailable, retryAfterSeconds: 1 },
    ),

  revocationsUnavailable: () =>
    new AppError(
      ErrorCode.ServiceUnavailable,
      'credentials cannot be checked yet: the gateway is still reading the recent revocations; retry shortly',
      { reason: AuthErrorReason.Unavailable, retryAfterSeconds: 1 },
    ),

  apiKeysUnavailable: () =>
    new AppError(
      ErrorCode.ServiceUnavailable,
      'API keys cannot be checked right now (the identity service did not answer); retry shortly',
      { reason: AuthErrorReason.Unavailable, retryAfterSeconds: 1 },
    ),

  refreshTokenMissing: () =>
    unauthenticated(
      'send the refresh token as "refreshToken" in the body, or in the tenantry_refresh cookie with "X-Tenantry-CSRF: 1"',
      AuthErrorReason.RefreshTokenMissing,
    ),

  csrfHeaderMissing: () =>
    new AppError(
      ErrorCode.Forbidden,
      'a refresh with the tenantry_refresh cookie needs the header "X-Tenantry-CSRF: 1"',
      { reason: AuthErrorReason.CsrfHeaderMissing, field: 'X-Tenantry-CSRF' },
    ),

  /** Cannot happen once the start-up check passed; refused rather than let through. */
  routeUndeclared: () =>
    new AppError(ErrorCode.Internal, 'this route declares no access rule', {
      reason: AuthErrorReason.RouteUndeclared,
    }),
};
