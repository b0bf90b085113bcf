import { z } from 'zod';
import { defineRpc } from '../common/rpc.js';
import { integer, strictObject, UuidSchema } from '../common/primitives.js';

/** A tenant's authentication rules (the platform's own under PLATFORM_TENANT_ID). */
export const AuthSettingsSchema = z.object({
  tenantId: UuidSchema,
  passwordMinLength: z.number().int(),
  /** How many previous passwords may not be reused. */
  passwordHistory: z.number().int(),
  /** Days after which a password must be changed; null: never. */
  passwordMaxAgeDays: z.number().int().nullable(),
  /** Failed logins within the window that lock the account. */
  lockoutThreshold: z.number().int(),
  lockoutWindowSeconds: z.number().int(),
  lockoutDurationSeconds: z.number().int(),
  /** Login asks every user for a second factor (enrolling one first if they have none). */
  mfaRequired: z.boolean(),
  accessTokenTtlSeconds: z.number().int(),
  refreshTokenTtlSeconds: z.number().int(),
});
export type AuthSettings = z.infer<typeof AuthSettingsSchema>;

export const DEFAULT_AUTH_SETTINGS: Omit<AuthSettings, 'tenantId'> = {
  passwordMinLength: 12,
  passwordHistory: 5,
  passwordMaxAgeDays: null,
  lockoutThreshold: 5,
  lockoutWindowSeconds: 15 * 60,
  lockoutDurationSeconds: 15 * 60,
  mfaRequired: false,
  accessTokenTtlSeconds: 10 * 60,
  refreshTokenTtlSeconds: 30 * 24 * 3600,
};

export const UpdateAuthSettingsBodySchema = strictObject({
  passwordMinLength: integer(8, 128).optional(),
  passwordHistory: integer(0, 24).optional(),
  passwordMaxAgeDays: z.union([integer(1, 3650), z.null()]).optional(),
  lockoutThreshold: integer(3, 100).optional(),
  lockoutWindowSeconds: integer(60, 86_400).optional(),
  lockoutDurationSeconds: integer(60, 86_400).optional(),
  mfaRequired: z.boolean({ error: 'must be true or false' }).optional(),
  /** Access tokens live 5 to 15 minutes. */
  accessTokenTtlSeconds: integer(300, 900).optional(),
  refreshTokenTtlSeconds: integer(3600, 90 * 86_400).optional(),
});

export const AuthSettingsRpc = {
  get: defineRpc(
    'identity.auth-settings.get',
    strictObject({ tenantId: UuidSchema }),
    AuthSettingsSchema,
  ),
  update: defineRpc(
    'identity.auth-settings.update',
    strictObject({ tenantId: UuidSchema, ...UpdateAuthSettingsBodySchema.shape }),
    AuthSettingsSchema,
  ),
};
