import { AppError, ErrorCode } from '@tenantry/contracts';
import { SsoRejected } from '../sso/sso.types.js';

/**
 * Why an OIDC sign-in was refused: the `reason` of the `SsoRejected` it throws (shown on the
 * error page and audited; stable, snake_case).
 */
export const OidcRejectReason = {
  /** The issuer is plain http and its origin is not in SSO_ALLOW_HTTP_ISSUERS. */
  IssuerInsecure: 'issuer_insecure',
  /** The issuer answered discovery with something unusable (not found, another issuer, ...). */
  DiscoveryFailed: 'discovery_failed',
  /** The provider could not be reached, timed out or answered with a server error. */
  ProviderUnavailable: 'provider_unavailable',
  /** The callback's `state` was never issued, expired, was used already or is another connection's. */
  StateUnknown: 'state_unknown',
  /** The callback's `iss` names another issuer than the connection's (a mix-up). */
  IssuerMismatch: 'issuer_mismatch',
  /** The provider redirected back with an error (`access_denied`, ...). */
  ProviderError: 'provider_error',
  /** The token endpoint refused the code (used, expired, wrong client secret, PKCE mismatch). */
  CodeExchangeFailed: 'code_exchange_failed',
  /** The id_token failed validation: signature, issuer, audience, nonce, expiry. */
  IdTokenInvalid: 'id_token_invalid',
  /** The userinfo endpoint refused the access token or answered for another subject. */
  UserinfoFailed: 'userinfo_failed',
  /** Neither the id_token nor userinfo carries an `email` claim. */
  EmailMissing: 'email_missing',
} as const;
export type OidcRejectReason = (typeof OidcRejectReason)[keyof typeof OidcRejectReason];

/** A refusal of an OIDC sign-in with its reason and the words for a person. */
export function oidcRejected(reason: OidcRejectReason, message: string): SsoRejected {
  return new SsoRejected(reason, message);
}

/** Failures of the OIDC module that are no refusal of the sign-in itself. */
export const OidcErrors = {
  /** Redis (where pending sign-ins wait for the provider's answer) does not answer: fail closed. */
  stateStoreUnavailable: () =>
    new AppError(
      ErrorCode.ServiceUnavailable,
      'single sign-on is unavailable right now (its store of pending sign-ins does not answer); retry shortly',
      { reason: 'SSO_STATE_STORE_UNAVAILABLE', retryAfterSeconds: 1 },
    ),
};
