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
import { PrincipalSchema, ScopeSchema } from './principal.contract.js';

/** `tnty_<prefix>_<secret>`: the prefix (12 characters) identifies the key, the secret proves it. */
export const API_KEY_PATTERN = /^tnty_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/;

export const ApiKeySchema = z.object({
  id: UuidSchema,
  /** null for a platform API key. */
  tenantId: UuidSchema.nullable(),
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(z.string()),
  createdAt: TimestampSchema,
  createdBy: z.string(),
  expiresAt: TimestampSchema.nullable(),
  lastUsedAt: TimestampSchema.nullable(),
  revokedAt: TimestampSchema.nullable(),
  /** The key this one replaced, and until when that one keeps working. */
  rotatedFrom: UuidSchema.nullable(),
});
export type ApiKey = z.infer<typeof ApiKeySchema>;

/** Returned once, at creation and rotation: the secret is never shown again. */
export const CreatedApiKeySchema = ApiKeySchema.extend({ key: z.string() });
export type CreatedApiKey = z.infer<typeof CreatedApiKeySchema>;

export const CreateApiKeyBodySchema = strictObject({
  name: text({ max: 200, name: true }),
  scopes: z
    .array(ScopeSchema)
    .min(1, { error: 'must list at least one scope' })
    .max(50, { error: 'must list at most 50 scopes' }),
  expiresAt: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }).optional(),
});
/** tenantId is PLATFORM_TENANT_ID for platform API keys. */
export const CreateApiKeyRequestSchema = strictObject({
  tenantId: UuidSchema,
  ...CreateApiKeyBodySchema.shape,
});
export const ApiKeyRefSchema = strictObject({ tenantId: UuidSchema, keyId: UuidSchema });
export const ListApiKeysRequestSchema = strictObject({
  tenantId: UuidSchema,
  ...PageQuerySchema.shape,
});
export const RotateApiKeyBodySchema = strictObject({
  /** How long the old key keeps working beside the new one (default 1 hour, at most 7 days). */
  overlapSeconds: integer(0, 7 * 24 * 3600).default(3600),
});
export const RotateApiKeyRequestSchema = strictObject({
  ...ApiKeyRefSchema.shape,
  ...RotateApiKeyBodySchema.shape,
});
export const VerifyApiKeyRequestSchema = strictObject({ key: text({ min: 1, max: 200 }) });
export const ApiKeyPageSchema = pageOf(ApiKeySchema);

export const ApiKeyRpc = {
  create: defineRpc('identity.api-keys.create', CreateApiKeyRequestSchema, CreatedApiKeySchema),
  get: defineRpc('identity.api-keys.get', ApiKeyRefSchema, ApiKeySchema),
  list: defineRpc('identity.api-keys.list', ListApiKeysRequestSchema, ApiKeyPageSchema),
  rotate: defineRpc('identity.api-keys.rotate', RotateApiKeyRequestSchema, CreatedApiKeySchema),
  revoke: defineRpc('identity.api-keys.revoke', ApiKeyRefSchema, ApiKeySchema),
  /** The gateway's check of a presented key: its principal, or UNAUTHENTICATED. */
  verify: defineRpc('identity.api-keys.verify', VerifyApiKeyRequestSchema, PrincipalSchema),
};
