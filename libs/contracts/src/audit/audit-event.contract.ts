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

// ---- Reading the ledger: search and export (issue 9) ----

/** A SHA-256 hash as 64 lowercase hex digits. */
const HashHexSchema = z
  .string()
  .regex(/^[0-9a-f]{64}$/, { error: 'must be 64 lowercase hex digits' });

/** An event as the ledger stores it: its place in the tenant's chain and its hashes. */
export const StoredAuditEventSchema = AuditEventV1Schema.extend({
  recordedAt: TimestampSchema,
  /** Its position in the tenant's chain: 1, 2, 3… without gaps. */
  seq: z.number().int().positive(),
  /** As stored (`info` when the publisher gave none). */
  severity: z.enum(AUDIT_SEVERITIES),
  /** SHA-256 of the canonical entry and `prevHash` (hex). */
  hash: HashHexSchema,
  /** The previous entry's `hash`; 64 zeros for seq 1. */
  prevHash: HashHexSchema,
});
export type StoredAuditEvent = z.infer<typeof StoredAuditEventSchema>;

/** An action prefix: `user` finds `user.created`, `user.updated`… (case-sensitive, as actions are). */
const ACTION_PREFIX_PATTERN = /^[a-z][a-z0-9_.-]*$/;

/** The search's filters, all optional, combined with AND (query parameters of the search route). */
const AUDIT_SEARCH_FILTERS = {
  /** occurredAt at or after this instant. */
  from: TimestampSchema.optional(),
  /** occurredAt before this instant (exclusive). */
  to: TimestampSchema.optional(),
  category: token(
    AUDIT_CATEGORY_PATTERN,
    'must be a category: lowercase letters, digits, _ or -, starting with a letter',
    63,
  ).optional(),
  /** A prefix of the action (`user.` or `user.created`). */
  action: token(
    ACTION_PREFIX_PATTERN,
    'must be an action or its beginning: lowercase letters, digits, _, - and dots, e.g. "user."',
    200,
  ).optional(),
  actorType: z
    .enum(['user', 'operator', 'service', 'api_key', 'system'], {
      error: 'must be one of user, operator, service, api_key, system',
    })
    .optional(),
  actorId: text({ min: 1, max: 200 }).optional(),
  targetType: text({ min: 1, max: 100 }).optional(),
  targetId: text({ min: 1, max: 200 }).optional(),
  outcome: z.enum(['success', 'failure'], { error: 'must be success or failure' }).optional(),
  severity: z
    .enum(AUDIT_SEVERITIES, { error: 'must be one of info, notice, warning, critical' })
    .optional(),
  /** Free text, matched case-insensitively anywhere in the action or the data (JSON text). */
  q: text({ min: 2, max: 200 }).optional(),
};

/** `to` must not be before `from`: one error naming `to`. */
function rangeInOrder(value: { from?: string; to?: string }, ctx: z.RefinementCtx): void {
  if (value.from && value.to && Date.parse(value.to) < Date.parse(value.from))
    ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
}

/**
 * Who reads the audit log, as the gateway saw the HTTP request (never from the client's
 * input): recorded in the `audit.read` / `audit.exported` event's actor.
 */
export const AuditReaderSchema = z.object({
  ip: text({ max: 64 }).optional(),
  userAgent: text({ max: 512 }).optional(),
  sessionId: text({ max: 200 }).optional(),
});
export type AuditReader = z.infer<typeof AuditReaderSchema>;

/** The search route's query: page, cursor and filters. */
export const ListAuditEventsQuerySchema = strictObject({
  ...PageQuerySchema.shape,
  ...AUDIT_SEARCH_FILTERS,
}).superRefine(rangeInOrder);
export type ListAuditEventsQuery = z.output<typeof ListAuditEventsQuerySchema>;

export const ListAuditEventsRequestSchema = strictObject({
  ...PageQuerySchema.shape,
  ...AUDIT_SEARCH_FILTERS,
  tenantId: UuidSchema,
  reader: AuditReaderSchema.optional(),
}).superRefine(rangeInOrder);
export type ListAuditEventsRequest = z.output<typeof ListAuditEventsRequestSchema>;
export const AuditEventPageSchema = pageOf(StoredAuditEventSchema);

/** The largest seq an export may name (JavaScript's safe integers go further; no chain will). */
export const AUDIT_MAX_SEQ = 1_000_000_000_000;

export const AUDIT_EXPORT_FORMATS = ['ndjson', 'csv'] as const;
export type AuditExportFormat = (typeof AUDIT_EXPORT_FORMATS)[number];

function seqRangeInOrder(value: { fromSeq?: number; toSeq?: number }, ctx: z.RefinementCtx): void {
  if (value.fromSeq !== undefined && value.toSeq !== undefined && value.toSeq < value.fromSeq)
    ctx.addIssue({ code: 'custom', path: ['toSeq'], message: 'must not be below fromSeq' });
}

const AUDIT_EXPORT_RANGE = {
  format: z.enum(AUDIT_EXPORT_FORMATS, { error: 'must be ndjson or csv' }).default('ndjson'),
  /** The first entry to export; default: the oldest one still kept. */
  fromSeq: integer(1, AUDIT_MAX_SEQ).optional(),
  /** The last entry to export; default: the newest one now. */
  toSeq: integer(1, AUDIT_MAX_SEQ).optional(),
};

/** The export route's query. */
export const ExportAuditEventsQuerySchema =
  strictObject(AUDIT_EXPORT_RANGE).superRefine(seqRangeInOrder);
export type ExportAuditEventsQuery = z.output<typeof ExportAuditEventsQuerySchema>;

/** Starts an export: resolves the range and records `audit.exported` in the tenant's chain. */
export const BeginAuditExportRequestSchema = strictObject({
  ...AUDIT_EXPORT_RANGE,
  tenantId: UuidSchema,
  reader: AuditReaderSchema.optional(),
}).superRefine(seqRangeInOrder);

/** The range an export covers, as the audit service resolved it. */
export const AuditExportRangeSchema = z.object({
  tenantId: UuidSchema,
  fromSeq: z.number().int().positive(),
  toSeq: z.number().int().positive(),
  exportedAt: TimestampSchema,
});
export type AuditExportRange = z.infer<typeof AuditExportRangeSchema>;

/**
 * One entry of a tenant's chain exactly as it was hashed (`LedgerEntry` of
 * `@tenantry/audit-ledger`): the export's `entry` lines.
 */
export const LedgerEntrySchema = z.object({
  tenantId: UuidSchema,
  seq: z.number().int().positive(),
  id: UuidSchema,
  schemaVersion: z.number().int(),
  occurredAt: z.string(),
  recordedAt: z.string(),
  category: z.string(),
  action: z.string(),
  outcome: z.string(),
  severity: z.string(),
  actor: z.object({
    type: z.string(),
    id: z.string(),
    name: z.string().nullish(),
    ip: z.string().nullish(),
    userAgent: z.string().nullish(),
    sessionId: z.string().nullish(),
  }),
  onBehalfOf: z.object({ type: z.string(), id: z.string() }).nullish(),
  target: z.object({ type: z.string(), id: z.string() }).nullish(),
  requestId: z.string().nullish(),
  traceId: z.string().nullish(),
  reason: z.string().nullish(),
  dataText: z.string().nullable(),
  changesText: z.string().nullable(),
  prevHash: HashHexSchema,
  hash: HashHexSchema,
});
export type LedgerEntryMessage = z.infer<typeof LedgerEntrySchema>;

/** Entries per export page at most; a page also stops at about 512 KiB (NATS carries 1 MB). */
export const AUDIT_EXPORT_PAGE_MAX = 5_000;

/** A page of an export: entries with afterSeq < seq ≤ toSeq, in seq order. */
export const AuditExportPageRequestSchema = strictObject({
  tenantId: UuidSchema,
  afterSeq: integer(0, AUDIT_MAX_SEQ),
  toSeq: integer(1, AUDIT_MAX_SEQ),
  limit: integer(1, AUDIT_EXPORT_PAGE_MAX).default(2_000),
});
export const AuditExportPageSchema = z.object({ entries: z.array(LedgerEntrySchema) });

/** What proves an export: a signed checkpoint covering toSeq and toSeq's inclusion in it. */
export const AuditExportProofRequestSchema = strictObject({
  tenantId: UuidSchema,
  toSeq: integer(1, AUDIT_MAX_SEQ),
});
export const AuditExportProofSchema = z.object({
  checkpoint: z.object({
    tenantId: UuidSchema,
    treeSize: z.number().int().positive(),
    rootHash: HashHexSchema,
    issuedAt: z.string(),
    keyId: z.string(),
    kind: z.enum(['checkpoint', 'tombstone']),
    prunedThroughSeq: z.number().int().nullable(),
  }),
  /** Ed25519 over the canonical checkpoint, base64url. */
  signature: z.string(),
  /** The public keys that may have signed it. */
  keys: z.array(
    z.object({
      keyId: z.string(),
      publicKey: z.string(),
      notBefore: z.string(),
      notAfter: z.string().nullable(),
    }),
  ),
  inclusion: z.object({
    seq: z.number().int().positive(),
    treeSize: z.number().int().positive(),
    proof: z.array(HashHexSchema),
  }),
});
export type AuditExportProof = z.infer<typeof AuditExportProofSchema>;

export const AuditEventRpc = {
  list: defineRpc('audit.events.list', ListAuditEventsRequestSchema, AuditEventPageSchema),
  /** Resolves an export's range and records `audit.exported`; the gateway then pages. */
  exportBegin: defineRpc(
    'audit.events.export-begin',
    BeginAuditExportRequestSchema,
    AuditExportRangeSchema,
  ),
  exportPage: defineRpc(
    'audit.events.export-page',
    AuditExportPageRequestSchema,
    AuditExportPageSchema,
  ),
  exportProof: defineRpc(
    'audit.events.export-proof',
    AuditExportProofRequestSchema,
    AuditExportProofSchema,
  ),
};
