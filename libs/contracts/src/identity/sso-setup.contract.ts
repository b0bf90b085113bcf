import { z } from 'zod';
import { defineRpc } from '../common/rpc.js';
import {
  integer,
  PageQuerySchema,
  pageOf,
  strictObject,
  TimestampSchema,
  UuidSchema,
} from '../common/primitives.js';
import { text } from '../common/text.js';
import { ClientInfoSchema } from './auth.contract.js';
import {
  CreatedScimDirectorySchema,
  CreateScimDirectoryBodySchema,
  ScimDirectoryPageSchema,
} from './scim.contract.js';
import {
  CreateSsoConnectionBodySchema,
  SsoConnectionPageSchema,
  SsoConnectionSchema,
  UpdateSsoConnectionBodySchema,
} from './sso-connection.contract.js';

/**
 * Self-service SSO setup (what WorkOS calls the admin portal): a tenant's admin makes a
 * one-time, expiring *setup link* and hands it to their IT department. Opening it (once)
 * gives a *setup session* that can manage the tenant's SSO connections and SCIM
 * directories, and nothing else, without a Tenantry account.
 */

/** A link's hours of validity when the admin names none (3 days). */
export const SSO_SETUP_LINK_DEFAULT_HOURS = 72;
/** The longest a link may be valid (7 days). */
export const SSO_SETUP_LINK_MAX_HOURS = 168;
/** The longest a setup session lasts (it also ends when its link expires). */
export const SSO_SETUP_SESSION_MAX_SECONDS = 3600;

/**
 * What a setup session may do: exactly these permissions of the tenant, on the routes
 * under /v1/sso-setup (no users, domains, settings or keys).
 */
export const SSO_SETUP_ALLOWED = [
  'sso-connections:read',
  'sso-connections:write',
  'scim-directories:read',
  'scim-directories:write',
] as const;

/**
 * `pending`: not opened yet and still valid; `opened`: exchanged for its (one) setup
 * session; `expired`: never opened, too late now; `revoked`: an admin revoked it (its
 * session, if any, ended then).
 */
export const SSO_SETUP_LINK_STATUSES = ['pending', 'opened', 'expired', 'revoked'] as const;
export type SsoSetupLinkStatus = (typeof SSO_SETUP_LINK_STATUSES)[number];

/** Reasons a setup link or session is refused (`reason` in the problem). */
export enum SsoSetupErrorReason {
  NotFound = 'SSO_SETUP_LINK_NOT_FOUND',
  /** Malformed, unknown, or a wrong secret: one answer. */
  LinkInvalid = 'SSO_SETUP_LINK_INVALID',
  LinkUsed = 'SSO_SETUP_LINK_USED',
  LinkExpired = 'SSO_SETUP_LINK_EXPIRED',
  LinkRevoked = 'SSO_SETUP_LINK_REVOKED',
  /** Missing, unknown or expired setup session token, or its link was revoked. */
  SessionInvalid = 'SSO_SETUP_SESSION_INVALID',
}

export const SsoSetupLinkSchema = z.object({
  id: UuidSchema,
  tenantId: UuidSchema,
  status: z.enum(SSO_SETUP_LINK_STATUSES),
  /** The actor who made it (`<kind>:<id>`). */
  createdBy: z.string(),
  createdAt: TimestampSchema,
  expiresAt: TimestampSchema,
  openedAt: TimestampSchema.nullable(),
  revokedAt: TimestampSchema.nullable(),
});
export type SsoSetupLink = z.infer<typeof SsoSetupLinkSchema>;

/** Returned once, at creation: the token (and the URL carrying it) is never shown again. */
export const CreatedSsoSetupLinkSchema = SsoSetupLinkSchema.extend({
  token: z.string(),
  /** `<TENANTRY_APP_URL>/sso-setup#token=<token>`: the fragment never reaches a server's log. */
  url: z.string(),
});
export type CreatedSsoSetupLink = z.infer<typeof CreatedSsoSetupLinkSchema>;

export const CreateSsoSetupLinkBodySchema = strictObject({
  /** How long the link may be opened: 1 to 168 hours, default 72. */
  expiresInHours: integer(1, SSO_SETUP_LINK_MAX_HOURS).optional(),
});

const TenantScoped = { tenantId: UuidSchema };

export const CreateSsoSetupLinkRequestSchema = strictObject({
  ...TenantScoped,
  ...CreateSsoSetupLinkBodySchema.shape,
});
export const SsoSetupLinkRefSchema = strictObject({ ...TenantScoped, linkId: UuidSchema });
export const ListSsoSetupLinksRequestSchema = strictObject({
  ...TenantScoped,
  ...PageQuerySchema.shape,
});
export const SsoSetupLinkPageSchema = pageOf(SsoSetupLinkSchema);

/** The tenant's admin routes (/v1/tenants/:tenantId/sso-setup-links). */
export const SsoSetupLinkRpc = {
  create: defineRpc(
    'identity.sso-setup-links.create',
    CreateSsoSetupLinkRequestSchema,
    CreatedSsoSetupLinkSchema,
  ),
  get: defineRpc('identity.sso-setup-links.get', SsoSetupLinkRefSchema, SsoSetupLinkSchema),
  list: defineRpc(
    'identity.sso-setup-links.list',
    ListSsoSetupLinksRequestSchema,
    SsoSetupLinkPageSchema,
  ),
  /** Revokes the link; its setup session, if it was opened, ends at once. */
  revoke: defineRpc('identity.sso-setup-links.revoke', SsoSetupLinkRefSchema, SsoSetupLinkSchema),
};

// ---------------------------------------------------------------------------------------
// The setup session (/v1/sso-setup/...), for the IT department holding the link
// ---------------------------------------------------------------------------------------

/** The link's token, from the URL's fragment. */
export const OpenSsoSetupSessionBodySchema = strictObject({
  token: text({ min: 1, max: 200 }),
});
export const OpenSsoSetupSessionRequestSchema = strictObject({
  ...OpenSsoSetupSessionBodySchema.shape,
  client: ClientInfoSchema,
});

export const SsoSetupSessionSchema = z.object({
  /** `Authorization: Bearer <sessionToken>` on the /v1/sso-setup routes; shown once. */
  sessionToken: z.string(),
  /** Seconds until the session ends: one hour, or the link's expiry when that comes first. */
  expiresIn: z.number().int(),
  expiresAt: TimestampSchema,
  linkId: UuidSchema,
  tenant: z.object({ id: UuidSchema, name: z.string(), slug: z.string() }),
  /** The permissions the session has in the tenant (SSO_SETUP_ALLOWED). */
  allowed: z.array(z.string()),
});
export type SsoSetupSession = z.infer<typeof SsoSetupSessionSchema>;

/**
 * The setup session token of every setup request (the tenant comes from the session). Up
 * to 4,096 characters, so that anything sent in its place (an access token) gets the
 * session's 401, not a validation error.
 */
const Session = { sessionToken: text({ min: 1, max: 4096 }) };

export const SsoSetupListRequestSchema = strictObject({ ...Session, ...PageQuerySchema.shape });
export const SsoSetupCreateConnectionRequestSchema = z.intersection(
  strictObject(Session),
  CreateSsoConnectionBodySchema,
);
export const SsoSetupConnectionRefSchema = strictObject({ ...Session, connectionId: UuidSchema });
export const SsoSetupUpdateConnectionRequestSchema = strictObject({
  ...Session,
  connectionId: UuidSchema,
  ...UpdateSsoConnectionBodySchema.shape,
});
export const SsoSetupCreateScimDirectoryRequestSchema = strictObject({
  ...Session,
  ...CreateScimDirectoryBodySchema.shape,
});
export const SsoSetupScimDirectoryRefSchema = strictObject({ ...Session, directoryId: UuidSchema });

/** What a setup session can do; every request is checked against its session token. */
export const SsoSetupRpc = {
  /** Exchanges a link's token, once, for a setup session. */
  openSession: defineRpc(
    'identity.sso-setup.open-session',
    OpenSsoSetupSessionRequestSchema,
    SsoSetupSessionSchema,
  ),
  /** Whether a session token is good (the gateway asks before reading a request's body). */
  checkSession: defineRpc(
    'identity.sso-setup.check-session',
    strictObject(Session),
    z.object({ tenantId: UuidSchema, linkId: UuidSchema }),
  ),
  listConnections: defineRpc(
    'identity.sso-setup.list-connections',
    SsoSetupListRequestSchema,
    SsoConnectionPageSchema,
  ),
  createConnection: defineRpc(
    'identity.sso-setup.create-connection',
    SsoSetupCreateConnectionRequestSchema,
    SsoConnectionSchema,
  ),
  getConnection: defineRpc(
    'identity.sso-setup.get-connection',
    SsoSetupConnectionRefSchema,
    SsoConnectionSchema,
  ),
  updateConnection: defineRpc(
    'identity.sso-setup.update-connection',
    SsoSetupUpdateConnectionRequestSchema,
    SsoConnectionSchema,
  ),
  deleteConnection: defineRpc(
    'identity.sso-setup.delete-connection',
    SsoSetupConnectionRefSchema,
    z.object({ deleted: z.literal(true) }),
  ),
  listScimDirectories: defineRpc(
    'identity.sso-setup.list-scim-directories',
    SsoSetupListRequestSchema,
    ScimDirectoryPageSchema,
  ),
  createScimDirectory: defineRpc(
    'identity.sso-setup.create-scim-directory',
    SsoSetupCreateScimDirectoryRequestSchema,
    CreatedScimDirectorySchema,
  ),
  rotateScimToken: defineRpc(
    'identity.sso-setup.rotate-scim-token',
    SsoSetupScimDirectoryRefSchema,
    CreatedScimDirectorySchema,
  ),
};
