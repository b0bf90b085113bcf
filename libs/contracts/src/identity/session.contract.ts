import { z } from 'zod';
import { defineRpc } from '../common/rpc.js';
import { strictObject, TimestampSchema, UuidSchema } from '../common/primitives.js';

export const SessionSchema = z.object({
  id: UuidSchema,
  tenantId: UuidSchema,
  userId: UuidSchema,
  createdAt: TimestampSchema,
  lastUsedAt: TimestampSchema,
  expiresAt: TimestampSchema,
  revokedAt: TimestampSchema.nullable(),
  amr: z.array(z.string()),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
});
export type Session = z.infer<typeof SessionSchema>;

export const ListSessionsRequestSchema = strictObject({ tenantId: UuidSchema, userId: UuidSchema });
export const RevokeSessionRequestSchema = strictObject({
  tenantId: UuidSchema,
  userId: UuidSchema,
  sessionId: UuidSchema,
});
export const RevokeAllSessionsRequestSchema = strictObject({
  tenantId: UuidSchema,
  userId: UuidSchema,
  /** Keep this one (sign out everywhere else). */
  exceptSessionId: UuidSchema.optional(),
});

export const SessionRpc = {
  list: defineRpc(
    'identity.sessions.list',
    ListSessionsRequestSchema,
    z.object({
      items: z.array(SessionSchema),
    }),
  ),
  revoke: defineRpc('identity.sessions.revoke', RevokeSessionRequestSchema, SessionSchema),
  revokeAll: defineRpc(
    'identity.sessions.revoke-all',
    RevokeAllSessionsRequestSchema,
    z.object({ revoked: z.number().int() }),
  ),
};
