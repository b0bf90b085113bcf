import { z } from 'zod';
import { defineRpc } from '../common/rpc.js';
import {
  PageQuerySchema,
  pageOf,
  strictObject,
  TimestampSchema,
  UuidSchema,
} from '../common/primitives.js';
import { jsonObject, SAFE_TEXT_CHECKS, text } from '../common/text.js';
import { RoleSchema } from './principal.contract.js';
import { GroupRoleSchema } from './sso-connection.contract.js';

/**
 * SCIM 2.0 (RFC 7643, RFC 7644): directory sync from an identity provider (Okta, Entra ID,
 * OneLogin, ...) into a tenant. A tenant's admin makes a *SCIM directory*, which gives the
 * IdP a base URL and a bearer token; the IdP then creates, updates, deactivates and deletes
 * the tenant's users and groups there. The token names the directory, and so the tenant.
 */

/** The media type of SCIM requests and responses (`application/json` is accepted too). */
export const SCIM_CONTENT_TYPE = 'application/scim+json';

/** Where the SCIM endpoints are, below the gateway's public URL. */
export const SCIM_BASE_PATH = '/scim/v2';

/** The schema URNs of SCIM's resources and messages. */
export const ScimSchemas = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  enterpriseUser: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  listResponse: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  patchOp: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
  serviceProviderConfig: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
} as const;

/**
 * Reasons a SCIM request fails (the AppError `reason`); each but the 401 and 404 ones has
 * the RFC 7644 §3.12 `scimType` of the same name.
 */
export enum ScimErrorReason {
  /** Missing, malformed, unknown, rotated or revoked bearer token: one answer for all. */
  TokenInvalid = 'SCIM_TOKEN_INVALID',
  ResourceNotFound = 'SCIM_RESOURCE_NOT_FOUND',
  InvalidFilter = 'SCIM_INVALID_FILTER',
  TooMany = 'SCIM_TOO_MANY',
  Uniqueness = 'SCIM_UNIQUENESS',
  Mutability = 'SCIM_MUTABILITY',
  InvalidSyntax = 'SCIM_INVALID_SYNTAX',
  InvalidPath = 'SCIM_INVALID_PATH',
  NoTarget = 'SCIM_NO_TARGET',
  InvalidValue = 'SCIM_INVALID_VALUE',
  /** Management API: the directory does not exist (or is another tenant's). */
  DirectoryNotFound = 'SCIM_DIRECTORY_NOT_FOUND',
  /** Management API: a directory may not hand out the platform's role. */
  RoleNotAllowed = 'SCIM_DIRECTORY_ROLE_NOT_ALLOWED',
}

/** The `scimType` values of RFC 7644 §3.12. */
export const SCIM_TYPES = [
  'invalidFilter',
  'tooMany',
  'uniqueness',
  'mutability',
  'invalidSyntax',
  'invalidPath',
  'noTarget',
  'invalidValue',
  'invalidVers',
  'sensitive',
] as const;
export type ScimType = (typeof SCIM_TYPES)[number];

const SCIM_TYPE_OF_REASON: Partial<Record<string, ScimType>> = {
  [ScimErrorReason.InvalidFilter]: 'invalidFilter',
  [ScimErrorReason.TooMany]: 'tooMany',
  [ScimErrorReason.Uniqueness]: 'uniqueness',
  [ScimErrorReason.Mutability]: 'mutability',
  [ScimErrorReason.InvalidSyntax]: 'invalidSyntax',
  [ScimErrorReason.InvalidPath]: 'invalidPath',
  [ScimErrorReason.NoTarget]: 'noTarget',
  [ScimErrorReason.InvalidValue]: 'invalidValue',
};

/** The `scimType` of an error with this reason; undefined for reasons that have none. */
export function scimTypeOf(reason: string | undefined): ScimType | undefined {
  return reason === undefined ? undefined : SCIM_TYPE_OF_REASON[reason];
}

/** An error as SCIM clients expect it (RFC 7644 §3.12); `status` is a string there. */
export const ScimErrorSchema = z.object({
  schemas: z.tuple([z.literal(ScimSchemas.error)]),
  status: z.string(),
  scimType: z.enum(SCIM_TYPES).optional(),
  detail: z.string(),
});
export type ScimError = z.infer<typeof ScimErrorSchema>;

// ---------------------------------------------------------------------------------------
// Directories (the management API, /v1/tenants/:tenantId/scim-directories)
// ---------------------------------------------------------------------------------------

const GroupRolesSchema = z
  .array(GroupRoleSchema)
  .max(200, { error: 'must list at most 200 group mappings' });

/**
 * A SCIM directory: one IdP's provisioning into the tenant. Its users' roles are computed:
 * `defaultRole` (when set) plus the roles of every `groupRoles` entry whose `group` names a
 * SCIM group of the directory the user is a member of (by the group's displayName, ignoring
 * case, or its externalId or id).
 */
export const ScimDirectorySchema = z.object({
  id: UuidSchema,
  tenantId: UuidSchema,
  name: z.string(),
  /** Every user of the directory has it (null: none). */
  defaultRole: z.string().nullable(),
  groupRoles: z.array(GroupRoleSchema),
  /** What to give the IdP as the SCIM base URL (the tenant comes from the token). */
  scimBaseUrl: z.string(),
  /** When the current bearer token was made (at creation or the last rotation). */
  tokenCreatedAt: TimestampSchema,
  /** The actor who made it (`<kind>:<id>`). */
  createdBy: z.string(),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
});
export type ScimDirectory = z.infer<typeof ScimDirectorySchema>;

/** Returned at creation and token rotation only: the bearer token is never shown again. */
export const CreatedScimDirectorySchema = ScimDirectorySchema.extend({ token: z.string() });
export type CreatedScimDirectory = z.infer<typeof CreatedScimDirectorySchema>;

export const CreateScimDirectoryBodySchema = strictObject({
  name: text({ max: 200, name: true }),
  /** Default `member`; null for none (roles then come from groups alone). */
  defaultRole: z.union([RoleSchema, z.null()]).optional(),
  groupRoles: GroupRolesSchema.optional(),
});
export const UpdateScimDirectoryBodySchema = strictObject({
  name: text({ max: 200, name: true }).optional(),
  defaultRole: z.union([RoleSchema, z.null()]).optional(),
  groupRoles: GroupRolesSchema.optional(),
});

const TenantScoped = { tenantId: UuidSchema };
const OneDirectory = { ...TenantScoped, directoryId: UuidSchema };

export const CreateScimDirectoryRequestSchema = strictObject({
  ...TenantScoped,
  ...CreateScimDirectoryBodySchema.shape,
});
export const UpdateScimDirectoryRequestSchema = strictObject({
  ...OneDirectory,
  ...UpdateScimDirectoryBodySchema.shape,
});
export const ScimDirectoryRefSchema = strictObject(OneDirectory);
export const ListScimDirectoriesRequestSchema = strictObject({
  ...TenantScoped,
  ...PageQuerySchema.shape,
});
export const ScimDirectoryPageSchema = pageOf(ScimDirectorySchema);

export const ScimDirectoryRpc = {
  create: defineRpc(
    'identity.scim-directories.create',
    CreateScimDirectoryRequestSchema,
    CreatedScimDirectorySchema,
  ),
  get: defineRpc('identity.scim-directories.get', ScimDirectoryRefSchema, ScimDirectorySchema),
  list: defineRpc(
    'identity.scim-directories.list',
    ListScimDirectoriesRequestSchema,
    ScimDirectoryPageSchema,
  ),
  update: defineRpc(
    'identity.scim-directories.update',
    UpdateScimDirectoryRequestSchema,
    ScimDirectorySchema,
  ),
  /** A new bearer token; the old one stops working at once. */
  rotateToken: defineRpc(
    'identity.scim-directories.rotate-token',
    ScimDirectoryRefSchema,
    CreatedScimDirectorySchema,
  ),
  /** Deletes the directory and its groups; its token stops working; its users stay, unlinked. */
  delete: defineRpc(
    'identity.scim-directories.delete',
    ScimDirectoryRefSchema,
    z.object({ deleted: z.literal(true) }),
  ),
};

// ---------------------------------------------------------------------------------------
// The SCIM protocol (/scim/v2/...): the gateway passes each request on with its token
// ---------------------------------------------------------------------------------------

/** The bearer token of a SCIM request, verified by identity on every request. */
const ScimTokenSchema = text({ min: 1, max: 200 });
/** A resource id as it appears in the URL (an unknown one is a 404, not a 400). */
const ScimIdSchema = text({ min: 1, max: 200 });
/** A SCIM request body: a JSON object (the gateway takes at most 1 MiB). */
export const ScimBodySchema = jsonObject(1024 * 1024);
/** A SCIM resource or message as identity answers it. */
export const ScimResourceSchema = z.record(z.string(), z.unknown());
export type ScimResource = z.infer<typeof ScimResourceSchema>;

/** An integer from a query string as SCIM has it (`startIndex` below 1 means 1, `count` below 0 means 0). */
const ScimIntegerSchema = z.union(
  [
    z.number().int(),
    z
      .string()
      .regex(/^-?[0-9]{1,9}$/)
      .check(SAFE_TEXT_CHECKS.singleLine)
      .transform(Number),
  ],
  { error: 'must be an integer' },
);

/** `attributes` / `excludedAttributes`: comma-separated attribute names. */
const AttributeListSchema = text({ max: 2000 });

const ReadOptions = {
  attributes: AttributeListSchema.optional(),
  excludedAttributes: AttributeListSchema.optional(),
};

/**
 * The query of a list (RFC 7644 §3.4.2): a filter, 1-based `startIndex`, `count`.
 * Other parameters (`sortBy`, `sortOrder`: sorting is not supported) are ignored, as
 * SCIM clients expect, rather than refused.
 */
export const ScimListQuerySchema = z.object({
  filter: text({ max: 4000 }).optional(),
  startIndex: ScimIntegerSchema.optional(),
  count: ScimIntegerSchema.optional(),
  ...ReadOptions,
});
export const ScimReadQuerySchema = z.object(ReadOptions);

const Authenticated = { token: ScimTokenSchema };
const OneResource = { ...Authenticated, id: ScimIdSchema };

export const ScimCreateRequestSchema = strictObject({ ...Authenticated, body: ScimBodySchema });
export const ScimGetRequestSchema = strictObject({ ...OneResource, ...ReadOptions });
export const ScimListRequestSchema = strictObject({
  ...Authenticated,
  ...ScimListQuerySchema.shape,
});
export const ScimWriteRequestSchema = strictObject({ ...OneResource, body: ScimBodySchema });
export const ScimDeleteRequestSchema = strictObject(OneResource);

export const ScimListResponseSchema = z.object({
  schemas: z.tuple([z.literal(ScimSchemas.listResponse)]),
  totalResults: z.number().int(),
  startIndex: z.number().int(),
  itemsPerPage: z.number().int(),
  Resources: z.array(ScimResourceSchema),
});
export type ScimListResponse = z.infer<typeof ScimListResponseSchema>;

export const SCIM_DISCOVERY_DOCUMENTS = [
  'ServiceProviderConfig',
  'Schemas',
  'ResourceTypes',
] as const;
export const ScimDiscoveryRequestSchema = strictObject({
  document: z.enum(SCIM_DISCOVERY_DOCUMENTS),
  /** One schema (its URN) or resource type (`User`, `Group`); the whole list when absent. */
  id: text({ min: 1, max: 200 }).optional(),
});

const Deleted = z.object({ deleted: z.literal(true) });

/** One RPC per SCIM operation; every one but `discovery` carries the bearer token. */
export const ScimRpc = {
  createUser: defineRpc('identity.scim-users.create', ScimCreateRequestSchema, ScimResourceSchema),
  getUser: defineRpc('identity.scim-users.get', ScimGetRequestSchema, ScimResourceSchema),
  listUsers: defineRpc('identity.scim-users.list', ScimListRequestSchema, ScimListResponseSchema),
  replaceUser: defineRpc('identity.scim-users.replace', ScimWriteRequestSchema, ScimResourceSchema),
  patchUser: defineRpc('identity.scim-users.patch', ScimWriteRequestSchema, ScimResourceSchema),
  deleteUser: defineRpc('identity.scim-users.delete', ScimDeleteRequestSchema, Deleted),
  createGroup: defineRpc(
    'identity.scim-groups.create',
    ScimCreateRequestSchema,
    ScimResourceSchema,
  ),
  getGroup: defineRpc('identity.scim-groups.get', ScimGetRequestSchema, ScimResourceSchema),
  listGroups: defineRpc('identity.scim-groups.list', ScimListRequestSchema, ScimListResponseSchema),
  replaceGroup: defineRpc(
    'identity.scim-groups.replace',
    ScimWriteRequestSchema,
    ScimResourceSchema,
  ),
  patchGroup: defineRpc('identity.scim-groups.patch', ScimWriteRequestSchema, ScimResourceSchema),
  deleteGroup: defineRpc('identity.scim-groups.delete', ScimDeleteRequestSchema, Deleted),
  /** ServiceProviderConfig, Schemas, ResourceTypes: static, public documents. */
  discovery: defineRpc('identity.scim.discovery', ScimDiscoveryRequestSchema, ScimResourceSchema),
};
