import { randomBytes } from 'node:crypto';
import {
  ValidateInResponseTo,
  type CacheProvider,
  type PassportSamlConfig,
} from '@node-saml/passport-saml';
import type { SamlConnectionConfig } from '../sso/sso.types.js';
import { SAML_REQUEST_TTL_SECONDS } from './saml-state.store.js';

/** A SAML ID: `_` (an NCName must not start with a digit) and 160 random bits in hex. */
export function newSamlId(): string {
  return `_${randomBytes(20).toString('hex')}`;
}

/**
 * node-saml's options for one connection: the IdP's certificates (all of them: a signature by
 * any is accepted, for rotation), this SP's entity ID as issuer and audience, its key for
 * signing AuthnRequests (RSA-SHA256) and decrypting assertions, signed assertions required,
 * InResponseTo required unless the connection allows IdP-initiated sign-in.
 */
export function samlOptionsFor(
  conn: SamlConnectionConfig,
  cacheProvider: CacheProvider,
  generateUniqueId: () => string = newSamlId,
): PassportSamlConfig {
  return {
    entryPoint: conn.idp.ssoUrl,
    idpCert: [...conn.idp.certificates],
    issuer: conn.sp.entityId,
    audience: conn.sp.entityId,
    callbackUrl: conn.sp.acsUrl,
    privateKey: conn.sp.privateKey,
    publicCert: conn.sp.certificate,
    decryptionPvk: conn.sp.privateKey,
    signatureAlgorithm: 'sha256',
    digestAlgorithm: 'sha256',
    authnRequestBinding: 'HTTP-Redirect',
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    // Never negative: node-saml reads -1 as "do not check times at all".
    acceptedClockSkewMs: Math.max(0, conn.clockSkewSeconds) * 1000,
    validateInResponseTo: conn.allowIdpInitiated
      ? ValidateInResponseTo.ifPresent
      : ValidateInResponseTo.always,
    requestIdExpirationPeriodMs: SAML_REQUEST_TTL_SECONDS * 1000,
    cacheProvider,
    generateUniqueId,
    disableRequestedAuthnContext: true,
    identifierFormat: null,
  };
}
