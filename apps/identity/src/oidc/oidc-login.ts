import { Injectable } from '@nestjs/common';
import {
  AuthorizationResponseError,
  authorizationCodeGrant,
  buildAuthorizationUrl,
  calculatePKCECodeChallenge,
  ClientError,
  fetchUserInfo,
  randomNonce,
  randomPKCECodeVerifier,
  randomState,
  ResponseBodyError,
  WWWAuthenticateChallengeError,
  type Configuration,
} from 'openid-client';
import {
  SsoRejected,
  type FlowCompleted,
  type OidcConnectionConfig,
  type OidcIdentity,
} from '../sso/sso.types.js';
import { detailOf, httpStatusOf, OidcDiscovery, unreachable } from './oidc-discovery.js';
import { OidcStateStore } from './oidc-state.store.js';
import { oidcRejected, OidcRejectReason } from './oidc.errors.js';

/** At most this much of a provider's error description is repeated (it is shown and audited). */
const MAX_PROVIDER_TEXT = 300;

/**
 * The relying party of OIDC connections: the authorization code flow with PKCE (S256),
 * `state` and `nonce`. `start` sends the browser to the provider; `complete` takes the
 * provider's redirect back, exchanges the code and returns the validated identity, or
 * throws `SsoRejected` with one of `OidcRejectReason`.
 */
@Injectable()
export class OidcLogin {
  constructor(
    private readonly discovery: OidcDiscovery,
    private readonly states: OidcStateStore,
  ) {}

  /**
   * Starts a sign-in: keeps its state (PKCE verifier, nonce, connection, `returnTo`) for
   * ten minutes and returns the provider's authorization URL to redirect the browser to.
   */
  async start(
    conn: OidcConnectionConfig,
    returnTo: string | undefined,
  ): Promise<{ redirectUrl: string }> {
    const config = await this.discovery.configuration(conn);
    const codeVerifier = randomPKCECodeVerifier();
    const state = randomState();
    const nonce = randomNonce();
    const scopes = conn.scopes.includes('openid') ? conn.scopes : ['openid', ...conn.scopes];
    const url = buildAuthorizationUrl(config, {
      redirect_uri: conn.redirectUri,
      scope: scopes.join(' '),
      code_challenge: await calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    await this.states.save(state, { connectionId: conn.id, codeVerifier, nonce, returnTo });
    return { redirectUrl: url.href };
  }

  /**
   * Completes a sign-in from the query string the provider redirected back with: the state
   * is taken (once), the code exchanged with the PKCE verifier, the id_token validated
   * (signature, issuer, audience, nonce, expiry), and userinfo read when the id_token has
   * no `email`. The claims are the id_token's, then userinfo's.
   */
  async complete(
    conn: OidcConnectionConfig,
    query: Record<string, string>,
  ): Promise<FlowCompleted<OidcIdentity>> {
    const state = query['state'];
    const pending = state ? await this.states.take(state) : null;
    if (!pending || pending.connectionId !== conn.id) {
      throw oidcRejected(
        OidcRejectReason.StateUnknown,
        state
          ? 'this sign-in response is unknown, expired or was used already; start the sign-in again'
          : 'the sign-in response carries no state; start the sign-in again',
      );
    }
    const config = await this.discovery.configuration(conn);
    this.checkResponseIssuer(config, query['iss']);
    if (query['error']) {
      throw oidcRejected(
        OidcRejectReason.ProviderError,
        `the identity provider refused the sign-in: ${providerWords(query['error'], query['error_description'])}`,
      );
    }

    const callback = new URL(conn.redirectUri);
    callback.search = new URLSearchParams(query).toString();
    let tokens: Awaited<ReturnType<typeof authorizationCodeGrant>>;
    try {
      tokens = await authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedNonce: pending.nonce,
        expectedState: state,
        idTokenExpected: true,
      });
    } catch (error) {
      throw this.failure(conn, error, 'token');
    }
    const idToken = tokens.claims();
    if (!idToken) {
      throw oidcRejected(OidcRejectReason.IdTokenInvalid, 'the provider returned no id_token');
    }

    let claims: Record<string, unknown> = { ...idToken };
    if (!hasEmail(claims)) {
      try {
        const userinfo = await fetchUserInfo(config, tokens.access_token, idToken.sub);
        claims = { ...claims, ...userinfo };
      } catch (error) {
        throw this.failure(conn, error, 'userinfo');
      }
    }
    if (!hasEmail(claims)) {
      throw oidcRejected(
        OidcRejectReason.EmailMissing,
        `the identity provider sent no email for this account (subject ${truncate(idToken.sub)}), neither in the id_token nor from userinfo; it must release the email claim (scope "email")`,
      );
    }
    return {
      identity: { issuer: idToken.iss, subject: idToken.sub, claims },
      returnTo: pending.returnTo,
      idpInitiated: false,
    };
  }

  /** RFC 9207: the response's `iss` must be the connection's provider (no mix-up). */
  private checkResponseIssuer(config: Configuration, iss: string | undefined): void {
    const metadata = config.serverMetadata();
    if (
      iss === undefined
        ? metadata.authorization_response_iss_parameter_supported
        : iss !== metadata.issuer
    ) {
      throw oidcRejected(
        OidcRejectReason.IssuerMismatch,
        iss === undefined
          ? `the sign-in response lacks the issuer (iss) that ${metadata.issuer} always sends; start the sign-in again`
          : `the sign-in response comes from another issuer (${truncate(iss)}) than the connection's (${metadata.issuer})`,
      );
    }
  }

  /** An openid-client failure as the refusal it means; anything else unchanged. */
  private failure(conn: OidcConnectionConfig, error: unknown, step: 'token' | 'userinfo'): unknown {
    if (error instanceof SsoRejected) return error;
    const unavailable = unreachable(conn, error);
    if (unavailable) {
      this.discovery.forget(conn);
      return unavailable;
    }
    const refused =
      step === 'token' ? OidcRejectReason.CodeExchangeFailed : OidcRejectReason.UserinfoFailed;
    const endpoint = step === 'token' ? 'token endpoint' : 'userinfo endpoint';
    if (error instanceof AuthorizationResponseError) {
      return oidcRejected(
        OidcRejectReason.ProviderError,
        `the identity provider refused the sign-in: ${providerWords(error.error, error.error_description)}`,
      );
    }
    if (error instanceof ResponseBodyError) {
      return oidcRejected(
        refused,
        `the provider's ${endpoint} refused the request: ${providerWords(error.error, error.error_description)}`,
      );
    }
    if (error instanceof WWWAuthenticateChallengeError) {
      const challenge = error.cause[0];
      const words = challenge?.parameters.error
        ? providerWords(challenge.parameters.error, challenge.parameters.error_description)
        : `HTTP ${error.status} ${challenge?.scheme ?? ''}`.trim();
      return oidcRejected(refused, `the provider's ${endpoint} refused the request: ${words}`);
    }
    if (error instanceof ClientError) {
      const status = httpStatusOf(error);
      if (status !== undefined) {
        return oidcRejected(
          refused,
          `the provider's ${endpoint} answered with an unexpected HTTP ${status}`,
        );
      }
      return step === 'token'
        ? oidcRejected(
            OidcRejectReason.IdTokenInvalid,
            `the provider's id_token is invalid: ${detailOf(error)}`,
          )
        : oidcRejected(
            OidcRejectReason.UserinfoFailed,
            `the provider's userinfo is invalid: ${detailOf(error)}`,
          );
    }
    return error;
  }
}

function hasEmail(claims: Record<string, unknown>): boolean {
  return typeof claims['email'] === 'string' && claims['email'].trim() !== '';
}

/** A provider's `error` and `error_description`, as words (bounded, control characters out). */
function providerWords(error: string, description: string | undefined): string {
  return description ? `${truncate(error)} (${truncate(description)})` : truncate(error);
}

function truncate(text: string): string {
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return clean.length > MAX_PROVIDER_TEXT ? `${clean.slice(0, MAX_PROVIDER_TEXT)}…` : clean;
}
