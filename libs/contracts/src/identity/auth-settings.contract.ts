import { z } from 'zod';
import { defineRpc } from '../common/rpc.js';
import { integer, strictObject, UuidSchema } from '../common/primitives.js';
import { text } from '../common/text.js';

/** Hosts where an http:// origin is allowed (a developer's machine); anything else must be https. */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Whether `value` is an origin a redirect may go to: `scheme://host[:port]` with no
 * credentials, path, query or fragment; https, or http on localhost / 127.0.0.1 / [::1].
 */
function originProblem(value: string): string | null {
  if (!URL.canParse(value)) return 'must be an origin such as https://app.example.com';
  const url = new URL(value);
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return 'must be an https:// origin (http:// only for localhost or 127.0.0.1)';
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname))
    return 'must use https:// (http:// is allowed only for localhost or 127.0.0.1)';
  if (url.username || url.password) return 'must not contain a user name or password';
  if (url.pathname !== '/' || url.search || url.hash || /[?#]/.test(value))
    return 'must be an origin only (scheme://host[:port]), without a path, query or fragment';
  return null;
}

/** An origin SSO `returnTo` URLs and RelayState may go to, normalized (`new URL(x).origin`). */
export const RedirectOriginSchema = text({ min: 1, max: 2048 })
  .superRefine((value, ctx) => {
    const problem = originProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((value) => new URL(value).origin);

export const MAX_REDIRECT_ORIGINS = 20;

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
  /**
   * Idle session lifetime: a session whose refresh token was not used for this long ends
   * (its next refresh is refused); null: only refreshTokenTtlSeconds ends it. Set from the
   * tenant's `sessionTimeoutMinutes` when the tenants service provisions or configures it.
   */
  sessionIdleTimeoutSeconds: z.number().int().nullable(),
  /**
   * The tenant's users may not sign in with a password (only through SSO). Never true
   * for the platform tenant: operators keep password sign-in as the break-glass path.
   */
  ssoRequired: z.boolean(),
  /** Origins (`scheme://host[:port]`) that SSO `returnTo` URLs and RelayState may go to. */
  redirectOrigins: z.array(z.string()),
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
  sessionIdleTimeoutSeconds: null,
  ssoRequired: false,
  redirectOrigins: [],
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
  /** 5 minutes to 90 days, or null for no idle limit. */
  sessionIdleTimeoutSeconds: z.union([integer(300, 90 * 86_400), z.null()]).optional(),
  /** Refused for the platform tenant. */
  ssoRequired: z.boolean({ error: 'must be true or false' }).optional(),
  /** Replaces the list; duplicates (after normalization) are kept once. */
  redirectOrigins: z
    .array(RedirectOriginSchema, { error: 'must be a list of origins' })
    .max(MAX_REDIRECT_ORIGINS, {
      error: `must list at most ${MAX_REDIRECT_ORIGINS} origins`,
    })
    .transform((origins) => [...new Set(origins)])
    .optional(),
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
