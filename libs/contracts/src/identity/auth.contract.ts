import { z } from 'zod';
import { defineRpc } from '../common/rpc.js';
import { strictObject, UuidSchema } from '../common/primitives.js';
import { text } from '../common/text.js';
import { SLUG_PATTERN } from '../tenants/tenant.contract.js';
import { token } from '../common/text.js';
import {
  AddPasskeyBodySchema,
  PasskeyAssertionSchema,
  PasskeyOptionsSchema,
} from './mfa.contract.js';
import { PrincipalSchema } from './principal.contract.js';

export const EmailSchema = text({ min: 3, max: 254 }).regex(/^[^\s@]+@[^\s@]+$/, {
  error: 'must be an email address',
});
/** A password as typed: any characters but control characters, 1 to 1,024 (policy checks come later). */
export const PasswordInputSchema = text({ min: 1, max: 1024, multiline: false });

/** Filled in by the gateway from the HTTP request, never by the client: for audit and throttling. */
export const ClientInfoSchema = z.object({
  ip: text({ max: 64 }),
  userAgent: text({ max: 512 }).optional(),
});
export type ClientInfo = z.infer<typeof ClientInfoSchema>;

export const LoginBodySchema = strictObject({
  email: EmailSchema,
  password: PasswordInputSchema,
  /** The tenant's slug, needed when the same email exists in several tenants. */
  tenant: token(SLUG_PATTERN, 'must be a tenant slug', 63).optional(),
});
export const LoginRequestSchema = strictObject({
  ...LoginBodySchema.shape,
  client: ClientInfoSchema,
});

export const TokenSetSchema = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  expiresIn: z.number().int(),
  tokenType: z.literal('Bearer'),
});
export type TokenSet = z.infer<typeof TokenSetSchema>;

export const MfaChallengeSchema = z.object({
  mfaRequired: z.literal(true),
  /** Send it back with the code to POST /v1/auth/mfa/verify; valid for a few minutes, once. */
  challengeToken: z.string(),
  /**
   * How to answer it: `totp` (a code from the authenticator app), `recovery_code`, `webauthn`
   * (a passkey: POST /v1/auth/mfa/passkey-options). With `enrolmentRequired`, what may be
   * enrolled: `totp` (POST /v1/auth/mfa/enrol) or `webauthn` (POST /v1/auth/mfa/passkey-enrol/options).
   */
  methods: z.array(z.enum(['totp', 'recovery_code', 'webauthn'])),
  /** Set when the tenant requires MFA and the user has none yet: enrol before going on. */
  enrolmentRequired: z.boolean(),
  expiresIn: z.number().int(),
});
export type MfaChallenge = z.infer<typeof MfaChallengeSchema>;

export const LoginResultSchema = z.union([TokenSetSchema, MfaChallengeSchema]);
export type LoginResult = z.infer<typeof LoginResultSchema>;

/**
 * The tokens of a completed MFA sign-in. When the sign-in completed an enrolment the
 * tenant required, also the new recovery codes: shown this once, never again.
 */
export const MfaVerifyResultSchema = TokenSetSchema.extend({
  recoveryCodes: z.array(z.string()).optional(),
});

/** Exactly one of `code` and `passkey`. */
function oneSecondFactor(value: { code?: string; passkey?: unknown }, ctx: z.RefinementCtx): void {
  if (value.code !== undefined && value.passkey !== undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['passkey'],
      message: 'give either code or passkey, not both',
    });
  else if (value.code === undefined && value.passkey === undefined)
    ctx.addIssue({ code: 'custom', path: ['code'], message: 'is required (or give passkey)' });
}

const MfaVerifyFields = {
  challengeToken: text({ min: 1, max: 512 }),
  /** A 6-digit TOTP code, or a recovery code. */
  code: text({ min: 6, max: 64 }).optional(),
  /** Or a passkey's answer to the options of POST /v1/auth/mfa/passkey-options. */
  passkey: PasskeyAssertionSchema.optional(),
};
export const MfaVerifyBodySchema = strictObject(MfaVerifyFields).superRefine(oneSecondFactor);
export const MfaVerifyRequestSchema = strictObject({
  ...MfaVerifyFields,
  client: ClientInfoSchema,
}).superRefine(oneSecondFactor);

/** During login, when the user has passkeys: ask for the options to answer the challenge with one. */
export const MfaPasskeyOptionsBodySchema = strictObject({
  challengeToken: text({ min: 1, max: 512 }),
});

/** During a challenge that requires enrolment: a new passkey (answering POST /v1/auth/mfa/passkey-enrol/options). */
export const MfaPasskeyEnrolBodySchema = strictObject({
  challengeToken: text({ min: 1, max: 512 }),
  ...AddPasskeyBodySchema.shape,
});

/** A sign-in with a passkey alone: its answer to the options of POST /v1/auth/passkey/options. */
export const PasskeyLoginBodySchema = strictObject({ passkey: PasskeyAssertionSchema });

export const RefreshBodySchema = strictObject({
  /** Omit when the refresh token travels in the HttpOnly cookie. */
  refreshToken: text({ min: 1, max: 512 }).optional(),
});
export const RefreshRequestSchema = strictObject({
  refreshToken: text({ min: 1, max: 512 }),
  client: ClientInfoSchema,
});

export const LogoutRequestSchema = strictObject({ sessionId: UuidSchema, tenantId: UuidSchema });

export const AcceptInvitationBodySchema = strictObject({
  token: text({ min: 1, max: 512 }),
  password: PasswordInputSchema,
  displayName: text({ max: 200, name: true }).optional(),
});
export const AcceptInvitationRequestSchema = strictObject({
  ...AcceptInvitationBodySchema.shape,
  client: ClientInfoSchema,
});

export const PasswordResetRequestBodySchema = strictObject({
  email: EmailSchema,
  tenant: token(SLUG_PATTERN, 'must be a tenant slug', 63).optional(),
});
export const PasswordResetRequestSchema = strictObject({
  ...PasswordResetRequestBodySchema.shape,
  client: ClientInfoSchema,
});

export const PasswordResetCompleteBodySchema = strictObject({
  token: text({ min: 1, max: 512 }),
  password: PasswordInputSchema,
});
export const PasswordResetCompleteRequestSchema = strictObject({
  ...PasswordResetCompleteBodySchema.shape,
  client: ClientInfoSchema,
});

export const AcceptedSchema = z.object({ accepted: z.literal(true) });

export const AuthRpc = {
  login: defineRpc('identity.auth.login', LoginRequestSchema, LoginResultSchema),
  verifyMfa: defineRpc('identity.auth.verify-mfa', MfaVerifyRequestSchema, MfaVerifyResultSchema),
  passkeyLoginOptions: defineRpc(
    'identity.auth.passkey-login-options',
    strictObject({ client: ClientInfoSchema }),
    PasskeyOptionsSchema,
  ),
  passkeyLogin: defineRpc(
    'identity.auth.passkey-login',
    strictObject({ ...PasskeyLoginBodySchema.shape, client: ClientInfoSchema }),
    TokenSetSchema,
  ),
  passkeyEnrolOptions: defineRpc(
    'identity.auth.passkey-enrol-options',
    strictObject({ ...MfaPasskeyOptionsBodySchema.shape, client: ClientInfoSchema }),
    PasskeyOptionsSchema,
  ),
  enrolPasskey: defineRpc(
    'identity.auth.enrol-passkey',
    strictObject({ ...MfaPasskeyEnrolBodySchema.shape, client: ClientInfoSchema }),
    MfaVerifyResultSchema,
  ),
  passkeyOptions: defineRpc(
    'identity.auth.passkey-options',
    strictObject({ ...MfaPasskeyOptionsBodySchema.shape, client: ClientInfoSchema }),
    PasskeyOptionsSchema,
  ),
  refresh: defineRpc('identity.auth.refresh', RefreshRequestSchema, TokenSetSchema),
  logout: defineRpc('identity.auth.logout', LogoutRequestSchema, AcceptedSchema),
  /** Tokens; or, where the tenant requires MFA, the challenge that enrols a second factor. */
  acceptInvitation: defineRpc(
    'identity.auth.accept-invitation',
    AcceptInvitationRequestSchema,
    LoginResultSchema,
  ),
  requestPasswordReset: defineRpc(
    'identity.auth.request-password-reset',
    PasswordResetRequestSchema,
    AcceptedSchema,
  ),
  completePasswordReset: defineRpc(
    'identity.auth.complete-password-reset',
    PasswordResetCompleteRequestSchema,
    AcceptedSchema,
  ),
};

/** `GET /v1/me`: the caller as the gateway sees it. */
export const MeSchema = PrincipalSchema.extend({
  email: z.string().optional(),
  displayName: z.string().optional(),
});
