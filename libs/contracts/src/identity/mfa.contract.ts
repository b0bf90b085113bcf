import { z } from 'zod';
import { defineRpc } from '../common/rpc.js';
import { strictObject, UuidSchema } from '../common/primitives.js';
import { text } from '../common/text.js';

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

/** During login, when the tenant requires MFA and the user has none: enrol with the challenge. */
export const MfaChallengeEnrolRpc = defineRpc(
  'identity.auth.enrol-mfa',
  strictObject({ challengeToken: text({ min: 1, max: 512 }) }),
  TotpEnrolmentSchema,
);
