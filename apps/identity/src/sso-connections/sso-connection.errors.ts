import { AppError, ErrorCode } from '@tenantry/contracts';

/** Reasons an SSO connection request fails; clients may rely on them (`reason` in the problem). */
export enum SsoConnectionErrorReason {
  NotFound = 'SSO_CONNECTION_NOT_FOUND',
  /** None, or more than one, of metadataXml, metadataUrl and the three fields. */
  IdpFormAmbiguous = 'SSO_CONNECTION_IDP_FORM',
  MetadataInvalid = 'SSO_CONNECTION_METADATA_INVALID',
  MetadataUnreachable = 'SSO_CONNECTION_METADATA_UNREACHABLE',
  CertificateInvalid = 'SSO_CONNECTION_CERTIFICATE_INVALID',
  ProtocolMismatch = 'SSO_CONNECTION_PROTOCOL_MISMATCH',
  ScopesInvalid = 'SSO_CONNECTION_SCOPES_INVALID',
}

/** A field error: the field in `errors`, and in front of the message. */
const invalid = (reason: SsoConnectionErrorReason, field: string, message: string) =>
  new AppError(ErrorCode.ValidationFailed, `${field}: ${message}`, {
    reason,
    errors: [{ field, message }],
  });

export const SsoConnectionErrors = {
  /** Also the answer for another tenant's connection: row-level security hides it. */
  notFound: (id: string) =>
    new AppError(ErrorCode.NotFound, `SSO connection ${id} does not exist`, {
      reason: SsoConnectionErrorReason.NotFound,
    }),

  /** `given`: the forms present (none or several). */
  idpForm: (field: string, given: string[]) =>
    invalid(
      SsoConnectionErrorReason.IdpFormAmbiguous,
      field,
      `give exactly one of metadataXml, metadataUrl, or entityId with ssoUrl and certificates (got ${
        given.length ? given.join(', ') : 'none'
      })`,
    ),

  /** The three fields form, incomplete: `missing` names the absent ones. */
  idpFieldsMissing: (field: string, missing: string[]) =>
    invalid(
      SsoConnectionErrorReason.IdpFormAmbiguous,
      `${field}.${missing[0]}`,
      `is required when the IdP is given field by field (entityId, ssoUrl and certificates; missing: ${missing.join(', ')})`,
    ),

  metadataInvalid: (field: string, message: string) =>
    invalid(SsoConnectionErrorReason.MetadataInvalid, field, message),

  metadataUnreachable: (field: string, message: string) =>
    invalid(SsoConnectionErrorReason.MetadataUnreachable, field, message),

  certificateInvalid: (field: string, message: string) =>
    invalid(SsoConnectionErrorReason.CertificateInvalid, field, message),

  /** Settings of the other protocol: a connection's protocol never changes. */
  protocolMismatch: (field: 'saml' | 'oidc', protocol: string) =>
    invalid(
      SsoConnectionErrorReason.ProtocolMismatch,
      field,
      `this is an ${protocol} connection and its protocol cannot change; create a new connection for ${field}`,
    ),

  scopesWithoutOpenid: () =>
    invalid(
      SsoConnectionErrorReason.ScopesInvalid,
      'oidc.scopes',
      'must include openid (e.g. ["openid", "email", "profile"])',
    ),
};
