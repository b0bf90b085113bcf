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
  /** The client's IP address, as the gateway saw it. */
  ip: text({ min: 1, max: 64 }).optional(),
  userAgent: text({ max: 512 }).optional(),
  /** The session the actor acted in (users and operators). */
  sessionId: text({ min: 1, max: 200 }).optional(),
});

export const AUDIT_SEVERITIES = ['info', 'notice', 'warning', 'critical'] as const;
export type AuditSeverity = (typeof AUDIT_SEVERITIES)[number];

/** Free-shape JSON in an event (`data`, `changes.before`/`after`) is at most this big. */
export const AUDIT_DATA_MAX_BYTES = 16 * 1024;

/** What stands in for a sensitive value (`redact`): the field is kept, its value is not. */
export const REDACTED = '[redacted]';

/**
 * `value` with every property named in `sensitive` (at any depth, compared ignoring case)
 * replaced by REDACTED: publishers call it on `data` and `changes` before publishing, so
 * secrets never reach the ledger (which can never forget them).
 */
export function redact<T>(value: T, sensitive: readonly string[]): T {
  const names = new Set(sensitive.map((name) => name.toLowerCase()));
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node && typeof node === 'object')
      return Object.fromEntries(
        Object.entries(node).map(([key, inner]) => [
          key,
          names.has(key.toLowerCase()) ? REDACTED : walk(inner),
        ]),
      );
    return node;
  };
  return walk(value) as T;
}

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
  data: jsonObject(AUDIT_DATA_MAX_BYTES).optional(),
  /** Stored as `info` when absent. */
  severity: z
    .enum(AUDIT_SEVERITIES, { error: 'must be one of info, notice, warning, critical' })
    .optional(),
  /** Who the actor acted for: the operator acting in a tenant names the tenant's principal here. */
  onBehalfOf: AuditTargetSchema.optional(),
  /** The W3C trace id of the request (32 hex digits). */
  traceId: token(
    /^[0-9a-f]{32}$/,
    'must be a W3C trace id: 32 lowercase hex digits',
    32,
  ).optional(),
  /** Why a failure or a denial happened, in words. */
  reason: text({ max: 1000 }).optional(),
  /** A change's state before and after, sensitive fields redacted at the source (`redact`). */
  changes: z
    .strictObject(
      {
        before: jsonObject(AUDIT_DATA_MAX_BYTES).optional(),
        after: jsonObject(AUDIT_DATA_MAX_BYTES).optional(),
      },
      { error: 'must be an object with before and/or after' },
    )
    .optional(),
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
