import { z } from 'zod';
import { defineRpc } from '../common/rpc.js';
import { strictObject, UuidSchema } from '../common/primitives.js';
import { text, token } from '../common/text.js';

export const TotpEnrolmentSchema = z.object({
  /** Base32, for typing into an authenticator app by hand. */
  secret: z.string(),
  otpauthUri: z.string(),
  /** The otpauth URI as a QR code, `data:image/png;base64,...`. */
  qrDataUrl: z.string(),
});

export const RecoveryCodesSchema = z.object({
  /** Shown once; each works once in place of a TOTP code. */
  recoveryCodes: z.array(z.string()),
});

const OneUser = { tenantId: UuidSchema, userId: UuidSchema };
export const MfaCodeBodySchema = strictObject({ code: text({ min: 6, max: 64 }) });

export const MfaRpc = {
  enrolTotp: defineRpc('identity.mfa.enrol-totp', strictObject(OneUser), TotpEnrolmentSchema),
  confirmTotp: defineRpc(
    'identity.mfa.confirm-totp',
    strictObject({ ...OneUser, ...MfaCodeBodySchema.shape }),
    RecoveryCodesSchema,
  ),
  disableTotp: defineRpc(
    'identity.mfa.disable-totp',
    strictObject({ ...OneUser, ...MfaCodeBodySchema.shape }),
    z.object({ disabled: z.literal(true) }),
  ),
};

const base64url = (max: number) =>
  token(/^[A-Za-z0-9_-]*$/, `must be base64url, at most ${max} characters`, max);

/**
 * A passkey's registration, as the browser's `PublicKeyCredential.toJSON()` (or
 * `@simplewebauthn/browser`'s `startRegistration`) gives it; other fields it has are ignored.
 */
export const PasskeyRegistrationSchema = z.object({
  id: base64url(1366),
  rawId: base64url(1366),
  type: z.literal('public-key', { error: 'must be "public-key"' }),
  response: z.object({
    clientDataJSON: base64url(16_384),
    attestationObject: base64url(65_536),
    transports: z
      .array(token(/^[a-z-]{1,32}$/, 'must be a transport such as usb or internal', 32))
      .max(10)
      .optional(),
  }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
});

/** A passkey's answer to a sign-in challenge, as `PublicKeyCredential.toJSON()` gives it. */
export const PasskeyAssertionSchema = z.object({
  id: base64url(1366),
  rawId: base64url(1366),
  type: z.literal('public-key', { error: 'must be "public-key"' }),
  response: z.object({
    clientDataJSON: base64url(16_384),
    authenticatorData: base64url(16_384),
    signature: base64url(2048),
    userHandle: base64url(128).optional(),
  }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
});

/**
 * Options for `navigator.credentials.create()` / `.get()` (`PublicKeyCredential.parseCreationOptionsFromJSON`,
 * or `@simplewebauthn/browser`): the challenge, the relying party, the credentials to allow or exclude.
 */
export const PasskeyOptionsSchema = z
  .object({ challenge: z.string() })
  .loose()
  .describe(
    'WebAuthn options as JSON (PublicKeyCredentialCreationOptionsJSON or …RequestOptionsJSON)',
  );

export const PasskeySchema = z.object({
  id: UuidSchema,
  name: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
});
export type Passkey = z.infer<typeof PasskeySchema>;

export const AddPasskeyBodySchema = strictObject({
  /** A name to tell it apart (e.g. "YubiKey 5", "MacBook"); default "Passkey". */
  name: text({ name: true, max: 64 }).optional(),
  credential: PasskeyRegistrationSchema,
});

/** The passkey added; the first second factor a user sets up also gives them recovery codes (shown once). */
export const AddedPasskeySchema = PasskeySchema.extend({
  recoveryCodes: z.array(z.string()).optional(),
});

export const PasskeyRpc = {
  registrationOptions: defineRpc(
    'identity.mfa.passkey-options',
    strictObject(OneUser),
    PasskeyOptionsSchema,
  ),
  add: defineRpc(
    'identity.mfa.add-passkey',
    strictObject({ ...OneUser, ...AddPasskeyBodySchema.shape }),
    AddedPasskeySchema,
  ),
  list: defineRpc(
    'identity.mfa.list-passkeys',
    strictObject(OneUser),
    z.object({ passkeys: z.array(PasskeySchema) }),
  ),
  remove: defineRpc(
    'identity.mfa.remove-passkey',
    strictObject({ ...OneUser, passkeyId: UuidSchema }),
    z.object({ removed: z.literal(true) }),
  ),
};

/** During login, when the tenant requires MFA and the user has none: enrol with the challenge. */
export const MfaChallengeEnrolRpc = defineRpc(
  'identity.auth.enrol-mfa',
  strictObject({ challengeToken: text({ min: 1, max: 512 }) }),
  TotpEnrolmentSchema,
);
