import { AppError, ErrorCode, Roles, ScimErrorReason } from '@tenantry/contracts';

/** A 400 naming what is at fault (`field`), in `errors` and in front of the message. */
const badRequest = (reason: ScimErrorReason, field: string, message: string) =>
  new AppError(ErrorCode.ValidationFailed, `${field}: ${message}`, {
    reason,
    errors: [{ field, message }],
  });

/**
 * The errors of the SCIM server and of its directories. The gateway answers SCIM requests
 * with RFC 7644 §3.12 error documents: the status from the code, `scimType` from the
 * reason (`scimTypeOf`), `detail` from the message.
 */
export const ScimErrors = {
  /** Missing, malformed, unknown, rotated or revoked: one answer, so a caller learns nothing. */
  tokenInvalid: () =>
    new AppError(
      ErrorCode.Unauthenticated,
      'the SCIM bearer token is not valid (missing, unknown, rotated or revoked): use the token shown when the SCIM directory was made or its token last rotated',
      { reason: ScimErrorReason.TokenInvalid },
    ),

  /** A user or group the directory does not have (also another directory's or tenant's). */
  notFound: (resource: 'User' | 'Group', id: string) =>
    new AppError(
      ErrorCode.NotFound,
      `${resource} ${JSON.stringify(id.slice(0, 100))} does not exist in this SCIM directory`,
      { reason: ScimErrorReason.ResourceNotFound },
    ),

  discoveryNotFound: (what: 'Schema' | 'ResourceType', id: string) =>
    new AppError(
      ErrorCode.NotFound,
      `no ${what} ${JSON.stringify(id.slice(0, 200))}; GET /${what}s lists them`,
      { reason: ScimErrorReason.ResourceNotFound },
    ),

  directoryNotFound: (id: string) =>
    new AppError(ErrorCode.NotFound, `SCIM directory ${id} does not exist`, {
      reason: ScimErrorReason.DirectoryNotFound,
    }),

  invalidFilter: (message: string) => badRequest(ScimErrorReason.InvalidFilter, 'filter', message),

  invalidValue: (attribute: string, message: string) =>
    badRequest(ScimErrorReason.InvalidValue, attribute, message),

  invalidSyntax: (field: string, message: string) =>
    badRequest(ScimErrorReason.InvalidSyntax, field, message),

  invalidPath: (field: string, message: string) =>
    badRequest(ScimErrorReason.InvalidPath, field, message),

  noTarget: (field: string, message: string) =>
    badRequest(ScimErrorReason.NoTarget, field, message),

  mutability: (attribute: string) =>
    badRequest(
      ScimErrorReason.Mutability,
      attribute,
      'is read-only: the service provider sets it, a client cannot change it',
    ),

  /** Another user of the tenant (of this directory or not) has this userName (email). */
  userNameTaken: (userName: string) =>
    new AppError(
      ErrorCode.Conflict,
      `userName: the tenant already has a user ${JSON.stringify(userName)}; a SCIM directory does not take over users it did not create (delete that user or change this userName)`,
      {
        reason: ScimErrorReason.Uniqueness,
        errors: [{ field: 'userName', message: 'is taken in this tenant' }],
      },
    ),

  groupNameTaken: (displayName: string) =>
    new AppError(
      ErrorCode.Conflict,
      `displayName: this SCIM directory already has a group ${JSON.stringify(displayName)} (names are compared ignoring case)`,
      {
        reason: ScimErrorReason.Uniqueness,
        errors: [{ field: 'displayName', message: 'is taken in this directory' }],
      },
    ),

  /** A directory may not hand out the platform's role. */
  roleNotAllowed: (field: string) =>
    new AppError(
      ErrorCode.ValidationFailed,
      `${field}: "${Roles.platformOperator}" is a role of the platform tenant only`,
      {
        reason: ScimErrorReason.RoleNotAllowed,
        errors: [
          { field, message: `"${Roles.platformOperator}" is a role of the platform tenant only` },
        ],
      },
    ),
};
