/**
 * What the SSO flows (SAML, OIDC) and the connections they run on share. The connection
 * feature builds these configurations from its rows (secrets included: they never leave
 * identity); the protocol modules take them and return who signed in, or refuse.
 */

/** A SAML connection as the SAML module needs it: the IdP it trusts and this SP's keys. */
export interface SamlConnectionConfig {
  id: string;
  tenantId: string;
  idp: {
    entityId: string;
    /** Where AuthnRequests go (HTTP-Redirect binding). */
    ssoUrl: string;
    /** PEM certificates; a signature by any of them is accepted (rotation). */
    certificates: string[];
  };
  sp: {
    entityId: string;
    acsUrl: string;
    /** PEM (PKCS#8): signs AuthnRequests and decrypts encrypted assertions. */
    privateKey: string;
    /** PEM: the certificate of privateKey, published in the SP metadata. */
    certificate: string;
  };
  allowIdpInitiated: boolean;
  requireEncryptedAssertions: boolean;
  clockSkewSeconds: number;
}

/** An OIDC connection as the OIDC module needs it. */
export interface OidcConnectionConfig {
  id: string;
  tenantId: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  scopes: string[];
  redirectUri: string;
}

/** What a valid SAML assertion said. */
export interface SamlAssertion {
  issuer: string;
  assertionId: string;
  nameId: string;
  nameIdFormat: string | null;
  sessionIndex: string | null;
  /** Every attribute, by name, with all its values as strings. */
  attributes: Record<string, string[]>;
}

/** What a valid OIDC sign-in said: the id_token's claims (and userinfo's, when fetched). */
export interface OidcIdentity {
  issuer: string;
  subject: string;
  claims: Record<string, unknown>;
}

/** How a protocol flow ended: who signed in, and where the browser wanted to go back to. */
export interface FlowCompleted<T> {
  identity: T;
  /** The `returnTo` given when the flow started; undefined when none was, or IdP-initiated. */
  returnTo: string | undefined;
  /** SAML only: the response came unasked (no InResponseTo). */
  idpInitiated: boolean;
  /** SAML IdP-initiated only: the RelayState the IdP sent (maybe a URL to go to). */
  relayState?: string;
}

/**
 * A sign-in refused by the protocol's checks. `reason` is a stable snake_case code
 * (`signature_invalid`, `audience_mismatch`, `replayed`, `state_unknown`, ...), the
 * message says it in words for a person (it is shown on the error page and audited).
 */
export class SsoRejected extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'SsoRejected';
  }
}
