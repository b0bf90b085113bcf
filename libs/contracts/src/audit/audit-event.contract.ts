import { z } from 'zod';
import { defineRpc } from '../common/rpc.js';
import {
  PageQuerySchema,
  pageOf,
  strictObject,
  TimestampSchema,
  UuidSchema,
} from '../common/primitives.js';
import { jsonObject, text, token } from '../common/text.js';

/**
 * Audit events are a public interface: customers' backends publish them to
 * `audit.<tenantId>.<category>` on JetStream with `Nats-Msg-Id` = `id`, so a
 * publisher may retry freely. Versioned by `schemaVersion`.
 */
export const AUDIT_CATEGORY_PATTERN = /^[a-z][a-z0-9_-]{0,62}$/;
const ACTION_PATTERN = /^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+$/;

export const AuditActorSchema = z.object({
  type: z.enum(['user', 'operator', 'service', 'api_key', 'system'], {
    error: 'must be one of user, operator, service, api_key, system',
  }),
  id: text({ min: 1, max: 200 }),
  name: text({ max: 200 }).optional(),
});

export const AuditTargetSchema = z.object({
  type: text({ min: 1, max: 100 }),
  id: text({ min: 1, max: 200 }),
});

export const AuditEventV1Schema = z.object({
  schemaVersion: z.literal(1, { error: 'must be 1' }),
  id: UuidSchema,
  tenantId: UuidSchema,
  occurredAt: TimestampSchema,
  category: token(
    AUDIT_CATEGORY_PATTERN,
    'must be lowercase letters, digits, _ or -, starting with a letter',
  ),
  action: token(ACTION_PATTERN, 'must be dotted lowercase words, e.g. "tenant.created"'),
  outcome: z.enum(['success', 'failure'], { error: 'must be success or failure' }),
  actor: AuditActorSchema,
  target: AuditTargetSchema.optional(),
  requestId: text({ max: 200 }).optional(),
  data: jsonObject().optional(),
});
export type AuditEventV1 = z.infer<typeof AuditEventV1Schema>;

/** Versions the audit consumer accepts. */
export const AuditEventSchema = z.discriminatedUnion('schemaVersion', [AuditEventV1Schema], {
  error: 'schemaVersion must be 1',
});
export type AuditEvent = z.infer<typeof AuditEventSchema>;

/** `audit.<tenantId>.<category>` (without namespace prefix). */
export function auditSubject(tenantId: string, category: string): string {
  return `audit.${tenantId}.${category}`;
}

/** Parses `audit.<tenantId>.<category>`; null when the subject is not of that shape. */
export function parseAuditSubject(subject: string): { tenantId: string; category: string } | null {
  const parts = subject.split('.');
  if (parts.length !== 3 || parts[0] !== 'audit') return null;
  return { tenantId: parts[1]!, category: parts[2]! };
}

export const StoredAuditEventSchema = AuditEventV1Schema.extend({
  recordedAt: TimestampSchema,
});
export type StoredAuditEvent = z.infer<typeof StoredAuditEventSchema>;

export const ListAuditEventsRequestSchema = strictObject({
  ...PageQuerySchema.shape,
  tenantId: UuidSchema,
});
export const AuditEventPageSchema = pageOf(StoredAuditEventSchema);

export const AuditEventRpc = {
  list: defineRpc('audit.events.list', ListAuditEventsRequestSchema, AuditEventPageSchema),
};
