import { AppError, ErrorCode } from '@tenantry/contracts';

/** Reasons an audit sink request fails; clients may rely on them (`reason` in the problem). */
export enum SinkErrorReason {
  NotFound = 'AUDIT_SINK_NOT_FOUND',
  NameTaken = 'AUDIT_SINK_NAME_TAKEN',
  UrlNotHttps = 'AUDIT_SINK_URL_NOT_HTTPS',
  UrlPrivateAddress = 'AUDIT_SINK_URL_PRIVATE_ADDRESS',
  UrlUnresolvable = 'AUDIT_SINK_URL_UNRESOLVABLE',
  SecretNotForType = 'AUDIT_SINK_SECRET_NOT_FOR_TYPE',
  TokenRequired = 'AUDIT_SINK_TOKEN_REQUIRED',
  TokenNotForType = 'AUDIT_SINK_TOKEN_NOT_FOR_TYPE',
  DeadLetterNotFound = 'AUDIT_SINK_DEAD_LETTER_NOT_FOUND',
}

export const SinkErrors = {
  /** Also the answer for another tenant's sink: row-level security hides it. */
  notFound: (id: string) =>
    new AppError(ErrorCode.NotFound, `audit sink ${id} does not exist`, {
      reason: SinkErrorReason.NotFound,
    }),

  nameTaken: (name: string) =>
    new AppError(
      ErrorCode.Conflict,
      `an audit sink named "${name}" already exists in this tenant; choose another name`,
      { reason: SinkErrorReason.NameTaken, field: 'name' },
    ),

  httpsRequired: (url: string) =>
    new AppError(
      ErrorCode.ValidationFailed,
      `url must be an https:// URL (got ${url}); plain http is allowed only for the origins ` +
        `in AUDIT_SINK_ALLOW_HTTP (development and tests)`,
      { reason: SinkErrorReason.UrlNotHttps, field: 'url' },
    ),

  privateAddress: (url: string, address: string) =>
    new AppError(
      ErrorCode.ValidationFailed,
      `url must reach a public address: ${url} is ${address}, a private, loopback or ` +
        `reserved address (allowed only for the origins in AUDIT_SINK_ALLOW_HTTP)`,
      { reason: SinkErrorReason.UrlPrivateAddress, field: 'url' },
    ),

  unresolvable: (url: string, host: string, code: string) =>
    new AppError(
      ErrorCode.ValidationFailed,
      `url's host ${host} does not resolve (${code}); check the URL (${url})`,
      { reason: SinkErrorReason.UrlUnresolvable, field: 'url' },
    ),

  secretNotForType: () =>
    new AppError(
      ErrorCode.ValidationFailed,
      'secret is for webhook sinks only; a splunk-hec sink takes token',
      { reason: SinkErrorReason.SecretNotForType, field: 'secret' },
    ),

  tokenRequired: () =>
    new AppError(
      ErrorCode.ValidationFailed,
      'token is required for a splunk-hec sink: the HEC token Splunk gave you',
      { reason: SinkErrorReason.TokenRequired, field: 'token' },
    ),

  tokenNotForType: () =>
    new AppError(
      ErrorCode.ValidationFailed,
      'token is for splunk-hec sinks only; a webhook sink takes secret (or generates one)',
      { reason: SinkErrorReason.TokenNotForType, field: 'token' },
    ),

  deadLetterNotFound: (id: string) =>
    new AppError(ErrorCode.NotFound, `dead letter ${id} does not exist`, {
      reason: SinkErrorReason.DeadLetterNotFound,
    }),
};
