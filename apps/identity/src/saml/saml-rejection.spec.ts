import { AppError, ErrorCode } from '@tenantry/contracts';
import { SsoRejected } from '../sso/sso.types.js';
import { rejectionFromNodeSaml } from './saml-rejection.js';

/** node-saml 5 messages (lib/saml.js, lib/xml.js) and xml-encryption's, as thrown. */
const NODE_SAML: [string, string][] = [
  ['Invalid signature: multiple assertions', 'multiple_assertions'],
  ['SAML provider returned Responder error: unspecified', 'status_not_success'],
  ['InResponseTo is missing from response', 'unsolicited'],
  ['InResponseTo is not valid', 'in_response_to_unknown'],
  ['SubjectInResponseTo is not valid', 'in_response_to_unknown'],
  ['InResponseTo does not match subjectInResponseTo', 'in_response_to_unknown'],
  ['Invalid EncryptedAssertion content', 'decryption_failed'],
  ['error:02000079:RSA routines::oaep decoding error', 'decryption_failed'],
  ['SAML assertion audience mismatch. Expected: a Received: b', 'audience_mismatch'],
  ['SAML assertion has no AudienceRestriction', 'audience_mismatch'],
  ['SAML assertion not yet valid', 'not_yet_valid'],
  ['SAML assertion expired: clocks skewed too much', 'expired'],
  ['No valid subject confirmation found among those available in the SAML assertion', 'expired'],
  ['Invalid signature', 'signature_invalid'],
  ['Invalid document signature', 'signature_invalid'],
  ['Too many signatures found for this element', 'signature_invalid'],
  ['Invalid signature, too many transforms', 'signature_invalid'],
  ['Invalid signature: ID cannot refer to more than one element', 'signature_invalid'],
  ["Invalid signature: Referenced node does not refer to it's parent element", 'signature_invalid'],
  ['Cannot obtain assertion from signed data', 'signature_invalid'],
  ['Missing SAML assertion', 'malformed'],
  ["Error parsing NotBefore: 'x' is not a valid date", 'malformed'],
  ["Cannot read properties of null (reading 'AudienceRestriction')", 'audience_mismatch'],
  ['something nobody expected', 'malformed'],
];

describe('node-saml errors as refusal reasons', () => {
  it.each(NODE_SAML)('%s → %s', (message, reason) => {
    const rejection = rejectionFromNodeSaml(new Error(message));
    expect(rejection).toBeInstanceOf(SsoRejected);
    expect(rejection).toMatchObject({ reason });
    expect(rejection.message).not.toContain(message);
  });

  it('gives one answer for every failure of an encrypted assertion before it is verified', () => {
    const answers = [
      'Invalid EncryptedAssertion content',
      'padding length invalid',
      'Invalid signature from encrypted assertion',
      'unexpected close tag',
    ].map((message) => rejectionFromNodeSaml(new Error(message), { encrypted: true }));
    expect(new Set(answers.map((a) => `${(a as SsoRejected).reason} ${a.message}`)).size).toBe(1);
    expect(answers[0]).toMatchObject({ reason: 'decryption_failed' });
    // Checks of the verified content keep their reason.
    expect(
      rejectionFromNodeSaml(new Error('SAML assertion expired: clocks skewed too much'), {
        encrypted: true,
      }),
    ).toMatchObject({ reason: 'expired' });
  });

  it('passes our own refusals and AppErrors (Redis away) through', () => {
    const own = new SsoRejected('replayed', 'again');
    expect(rejectionFromNodeSaml(own)).toBe(own);
    const unavailable = new AppError(ErrorCode.ServiceUnavailable, 'later');
    expect(rejectionFromNodeSaml(unavailable)).toBe(unavailable);
  });
});
