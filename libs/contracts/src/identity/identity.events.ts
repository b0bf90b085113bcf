import { z } from 'zod';
import { TimestampSchema, UuidSchema } from '../common/primitives.js';

/**
 * Events the identity service publishes on the EVENTS stream. Every gateway instance
 * follows them to refuse a revoked session's access token (and a revoked API key) at once,
 * before the token expires, and to pick up a new signing key.
 */
export const IdentityEvents = {
  sessionRevoked: {
    subject: 'evt.identity.session.revoked',
    schema: z.object({
      sessionId: UuidSchema,
      tenantId: UuidSchema,
      userId: UuidSchema,
      /** After this, every access token of the session has expired anyway. */
      until: TimestampSchema,
    }),
  },
  apiKeyRevoked: {
    subject: 'evt.identity.api-key.revoked',
    schema: z.object({ keyId: UuidSchema, tenantId: UuidSchema, prefix: z.string() }),
  },
  signingKeyRotated: {
    subject: 'evt.identity.signing-key.rotated',
    schema: z.object({ kid: z.string() }),
  },
} as const;
