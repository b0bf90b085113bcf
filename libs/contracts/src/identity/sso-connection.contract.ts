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
import { RoleSchema } from './principal.contract.js';

export const SSO_PROTOCOLS = ['saml', 'oidc'] as const;
export type SsoProtocol = (typeof SSO_PROTOCOLS)[number];

/** An absolute http(s) URL, at most 2,048 characters. */
export const HttpUrlSchema = text({ min: 1, max: 2048 }).refine(
  (value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol),
  { error: 'must be an absolute http:// or https:// URL' },
);

/** The name of an IdP attribute (SAML) or claim (OIDC). */
const AttributeNameSchema = text({ min: 1, max: 256 });

/**
 * Which IdP attribute (SAML) or claim (OIDC) holds what. The email falls back to the
 * NameID (SAML, when it is an email address) or the `email` claim (OIDC).
 */
export const AttributeMappingSchema = strictObject({
  email: AttributeNameSchema.optional(),
  displayName: AttributeNameSchema.optional(),
  firstName: AttributeNameSchema.optional(),
  lastName: AttributeNameSchema.optional(),
  /** The attribute or claim listing the user's groups (for `groupRoles`). */
  groups: AttributeNameSchema.optional(),
});
export type AttributeMapping = z.infer<typeof AttributeMappingSchema>;

/** Members of the IdP group `group` get `roles` (on top of the connection's default role). */
export const GroupRoleSchema = strictObject({
  group: text({ min: 1, max: 256 }),
  roles: z
    .array(RoleSchema)
    .min(1, { error: 'must list 1 to 20 roles' })
    .max(20, { error: 'must list 1 to 20 roles' }),
});
export type GroupRole = z.infer<typeof GroupRoleSchema>;
const GroupRolesSchema = z
  .array(GroupRoleSchema)
  .max(200, { error: 'must list at most 200 group mappings' });

/** A PEM certificate, or its base64 DER body as IdP metadata carries it. */
export const CertificateSchema = text({ min: 64, max: 16_384, multiline: true });
const CertificatesSchema = z
  .array(CertificateSchema)
  .min(1, { error: 'must list 1 to 5 certificates' })
  .max(5, { error: 'must list 1 to 5 certificates' });

/** The IdP as this connection knows it (from its metadata, or given field by field). */
export const SamlIdpSchema = z.object({
  entityId: z.string(),
  /** Where AuthnRequests go (HTTP-Redirect binding). */
  ssoUrl: z.string(),
  /** Signing certificates (PEM): an assertion signed by any of them is accepted (rotation). */
  certificates: z.array(z.string()),
});

/** This SP (Tenantry) as the IdP must be told of it; also in the SP metadata. */
export const SamlSpSchema = z.object({
  entityId: z.string(),
  acsUrl: z.string(),
  metadataUrl: z.string(),
  /** The SP's signing and encryption certificate (PEM), generated per connection. */
  certificate: z.string(),
});

export const SamlSettingsSchema = z.object({
  idp: SamlIdpSchema,
  sp: SamlSpSchema,
  /** Accept responses the IdP sends unasked (no InResponseTo). Off unless turned on. */
  allowIdpInitiated: z.boolean(),
  /** Refuse assertions that are not encrypted to the SP's certificate. */
  requireEncryptedAssertions: z.boolean(),
  /** Tolerance on NotBefore / NotOnOrAfter. */
  clockSkewSeconds: z.number().int(),
});

export const OidcSettingsSchema = z.object({
  issuer: z.string(),
  clientId: z.string(),
  /** The secret itself is never returned. */
  clientSecretSet: z.boolean(),
  scopes: z.array(z.string()),
  /** The redirect URI to register at the provider. */
  redirectUri: z.string(),
});

export const SsoConnectionSchema = z.object({
  id: UuidSchema,
  tenantId: UuidSchema,
  name: z.string(),
  protocol: z.enum(SSO_PROTOCOLS),
  enabled: z.boolean(),
  /** Create unknown users at their first sign-in (just-in-time provisioning). */
  jit: z.boolean(),
  /** Every user signing in through this connection gets it (null: none). */
  defaultRole: z.string().nullable(),
  attributeMapping: AttributeMappingSchema,
  groupRoles: z.array(GroupRoleSchema),
  /** Starts a sign-in through this connection (GET; `returnTo` an allowed URL). */
  loginUrl: z.string(),
  saml: SamlSettingsSchema.nullable(),
  oidc: OidcSettingsSchema.nullable(),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
});
export type SsoConnection = z.infer<typeof SsoConnectionSchema>;

const clockSkew = () => integer(0, 600);

/**
 * The IdP of a SAML connection: its metadata XML (uploaded), a URL to fetch it from once,
 * or the three fields given by hand. Exactly one of the three forms.
 */
export const SamlIdpInputSchema = strictObject({
  metadataXml: text({ min: 1, max: 512 * 1024, multiline: true }).optional(),
  metadataUrl: HttpUrlSchema.optional(),
  entityId: text({ min: 1, max: 1024 }).optional(),
  ssoUrl: HttpUrlSchema.optional(),
  certificates: CertificatesSchema.optional(),
});

export const CreateSamlBodySchema = strictObject({
  idp: SamlIdpInputSchema,
  allowIdpInitiated: z.boolean({ error: 'must be true or false' }).optional(),
  requireEncryptedAssertions: z.boolean({ error: 'must be true or false' }).optional(),
  clockSkewSeconds: clockSkew().optional(),
});

export const CreateOidcBodySchema = strictObject({
  /** The issuer; its `/.well-known/openid-configuration` is read at sign-in. */
  issuer: HttpUrlSchema,
  clientId: text({ min: 1, max: 512 }),
  clientSecret: text({ min: 1, max: 1024 }),
  scopes: z
    .array(text({ min: 1, max: 128 }))
    .max(20, { error: 'must list at most 20 scopes' })
    .optional(),
});

const CommonBody = {
  name: text({ max: 200, name: true }),
  enabled: z.boolean({ error: 'must be true or false' }).optional(),
  jit: z.boolean({ error: 'must be true or false' }).optional(),
  defaultRole: z.union([RoleSchema, z.null()]).optional(),
  attributeMapping: AttributeMappingSchema.optional(),
  groupRoles: GroupRolesSchema.optional(),
};

export const CreateSsoConnectionBodySchema = z.discriminatedUnion(
  'protocol',
  [
    strictObject({
      ...CommonBody,
      protocol: z.literal('saml'),
      saml: CreateSamlBodySchema,
    }),
    strictObject({
      ...CommonBody,
      protocol: z.literal('oidc'),
      oidc: CreateOidcBodySchema,
    }),
  ],
  { error: 'protocol must be saml or oidc' },
);
export type CreateSsoConnectionBody = z.output<typeof CreateSsoConnectionBodySchema>;

const TenantScoped = { tenantId: UuidSchema };
const OneConnection = { ...TenantScoped, connectionId: UuidSchema };

export const CreateSsoConnectionRequestSchema = z.intersection(
  strictObject(TenantScoped),
  CreateSsoConnectionBodySchema,
);

/** Changes to a connection; `saml.idp` replaces the IdP (e.g. new metadata, rotated certificates). */
export const UpdateSsoConnectionBodySchema = strictObject({
  name: text({ max: 200, name: true }).optional(),
  enabled: CommonBody.enabled,
  jit: CommonBody.jit,
  defaultRole: CommonBody.defaultRole,
  attributeMapping: CommonBody.attributeMapping,
  groupRoles: CommonBody.groupRoles,
  saml: strictObject({
    idp: SamlIdpInputSchema.optional(),
    allowIdpInitiated: CreateSamlBodySchema.shape.allowIdpInitiated,
    requireEncryptedAssertions: CreateSamlBodySchema.shape.requireEncryptedAssertions,
    clockSkewSeconds: CreateSamlBodySchema.shape.clockSkewSeconds,
  }).optional(),
  oidc: strictObject({
    issuer: HttpUrlSchema.optional(),
    clientId: text({ min: 1, max: 512 }).optional(),
    clientSecret: text({ min: 1, max: 1024 }).optional(),
    scopes: CreateOidcBodySchema.shape.scopes,
  }).optional(),
});
export const UpdateSsoConnectionRequestSchema = strictObject({
  ...OneConnection,
  ...UpdateSsoConnectionBodySchema.shape,
});

export const SsoConnectionRefSchema = strictObject(OneConnection);
export const ListSsoConnectionsRequestSchema = strictObject({
  ...TenantScoped,
  ...PageQuerySchema.shape,
});
export const SsoConnectionPageSchema = pageOf(SsoConnectionSchema);

/** The SP metadata of a SAML connection: public, by connection id alone. */
export const SpMetadataSchema = z.object({ xml: z.string() });

export const SsoConnectionRpc = {
  create: defineRpc(
    'identity.sso-connections.create',
    CreateSsoConnectionRequestSchema,
    SsoConnectionSchema,
  ),
  get: defineRpc('identity.sso-connections.get', SsoConnectionRefSchema, SsoConnectionSchema),
  list: defineRpc(
    'identity.sso-connections.list',
    ListSsoConnectionsRequestSchema,
    SsoConnectionPageSchema,
  ),
  update: defineRpc(
    'identity.sso-connections.update',
    UpdateSsoConnectionRequestSchema,
    SsoConnectionSchema,
  ),
  delete: defineRpc(
    'identity.sso-connections.delete',
    SsoConnectionRefSchema,
    z.object({ deleted: z.literal(true) }),
  ),
  spMetadata: defineRpc(
    'identity.sso-connections.sp-metadata',
    strictObject({ connectionId: UuidSchema }),
    SpMetadataSchema,
  ),
};
