import { AppError } from '@tenantry/contracts';
import { SsoRejected } from '../sso/sso.types.js';

/**
 * Why a SAML response was refused: stable codes (audited, shown on the error page beside
 * the message in words), the `reason` of the `SsoRejected` the SAML module throws.
 */
export enum SamlRejectionReason {
  /** The decoded XML declares a DOCTYPE or an ENTITY (XXE, entity expansion). */
  DoctypeForbidden = 'doctype_forbidden',
  /** Not base64, not XML, not a SAML Response, or missing what a login response must carry. */
  Malformed = 'malformed',
  /** The assertion is not signed by one of the connection's IdP certificates. */
  SignatureInvalid = 'signature_invalid',
  AudienceMismatch = 'audience_mismatch',
  DestinationMismatch = 'destination_mismatch',
  RecipientMismatch = 'recipient_mismatch',
  Expired = 'expired',
  NotYetValid = 'not_yet_valid',
  /** This assertion ID was already accepted on this connection. */
  Replayed = 'replayed',
  /** InResponseTo names no pending request of this connection (unknown, expired or already used). */
  InResponseToUnknown = 'in_response_to_unknown',
  /** No InResponseTo (IdP-initiated) on a connection that does not allow it. */
  Unsolicited = 'unsolicited',
  /** An answer to a request came back without the RelayState that request was sent with. */
  RelayStateUnknown = 'relay_state_unknown',
  StatusNotSuccess = 'status_not_success',
  MultipleAssertions = 'multiple_assertions',
  IssuerMismatch = 'issuer_mismatch',
  EncryptionRequired = 'encryption_required',
  DecryptionFailed = 'decryption_failed',
  /** A comment or processing instruction inside the NameID or an attribute value (truncation). */
  MarkupInValue = 'markup_in_value',
}

/** A refusal with its stable reason and a message in words. */
export function rejected(reason: SamlRejectionReason, message: string): SsoRejected {
  return new SsoRejected(reason, message);
}

const ENCRYPTED_FAILURE =
  'the encrypted assertion could not be decrypted and verified with this connection’s keys';

/**
 * node-saml's errors (plain `Error`s with English messages), most specific first, as the
 * reasons above. Anything unknown is `malformed`: node-saml only throws on what it was given.
 */
const NODE_SAML_ERRORS: [RegExp, SamlRejectionReason, string][] = [
  [
    /multiple assertions/i,
    SamlRejectionReason.MultipleAssertions,
    'the SAML response carries more than one assertion',
  ],
  [
    /SAML provider returned|Bad status code/i,
    SamlRejectionReason.StatusNotSuccess,
    'the identity provider answered with an error status',
  ],
  [
    /InResponseTo is missing/i,
    SamlRejectionReason.Unsolicited,
    'the SAML response answers no request of ours (no InResponseTo) and this connection does not accept IdP-initiated sign-in',
  ],
  [
    /InResponseTo/i,
    SamlRejectionReason.InResponseToUnknown,
    'the SAML response answers a request we do not know, that expired or was already used',
  ],
  [
    /decrypt|decoding error|padding|encryption algorithm|EncryptedAssertion content|No decryption key/i,
    SamlRejectionReason.DecryptionFailed,
    ENCRYPTED_FAILURE,
  ],
  [
    /audience|AudienceRestriction/i,
    SamlRejectionReason.AudienceMismatch,
    'the assertion is not addressed to this service provider (audience)',
  ],
  [
    /not yet valid/i,
    SamlRejectionReason.NotYetValid,
    'the assertion is not valid yet (NotBefore is in the future beyond the allowed clock skew)',
  ],
  [
    /expired|No valid subject confirmation/i,
    SamlRejectionReason.Expired,
    'the assertion has expired (or no subject confirmation is valid at this time)',
  ],
  [
    /signature|signed|transforms|reference|ID cannot refer|Referenced node/i,
    SamlRejectionReason.SignatureInvalid,
    'the assertion is not signed by a certificate of this connection’s identity provider',
  ],
  [
    /Missing SAML assertion/i,
    SamlRejectionReason.Malformed,
    'the SAML response carries no assertion',
  ],
];

/** What can go wrong with an encrypted assertion before its content is trusted. */
const OPAQUE_WHEN_ENCRYPTED = new Set<SamlRejectionReason>([
  SamlRejectionReason.DecryptionFailed,
  SamlRejectionReason.SignatureInvalid,
  SamlRejectionReason.Malformed,
]);

/**
 * What an error thrown while node-saml validated a response means for the person signing in.
 * `AppError`s (Redis unavailable) and our own refusals pass through unchanged. For an
 * encrypted assertion, failing to decrypt, to parse the plaintext and to verify its signature
 * are one answer: telling them apart would be a decryption oracle (CBC padding attacks on
 * XML Encryption).
 */
export function rejectionFromNodeSaml(error: unknown, { encrypted = false } = {}): Error {
  if (error instanceof SsoRejected || error instanceof AppError) return error;
  const text = error instanceof Error ? error.message : String(error);
  const known = NODE_SAML_ERRORS.find(([pattern]) => pattern.test(text));
  const reason = known?.[1] ?? SamlRejectionReason.Malformed;
  const message =
    known?.[2] ?? 'the SAML response could not be processed: it is not a valid login response';
  if (encrypted && OPAQUE_WHEN_ENCRYPTED.has(reason)) {
    return rejected(SamlRejectionReason.DecryptionFailed, ENCRYPTED_FAILURE);
  }
  return rejected(reason, message);
}
