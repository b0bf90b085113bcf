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
import { text, token } from '../common/text.js';
import { AUDIT_CATEGORY_PATTERN, StoredAuditEventSchema } from './audit-event.contract.js';

/**
 * SIEM delivery: a tenant's audit sinks. The audit service reads each tenant's ledger in
 * `seq` order and POSTs it, in batches, to every enabled sink of the tenant:
 *
 * - `webhook`: `POST <url>` with the JSON body `{ sinkId, tenantId, events: [...] }` and the
 *   headers `Tenantry-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`,
 *   `Tenantry-Delivery-Id` (a new UUID per attempt) and `content-type: application/json`.
 *   To verify: split the header at `,` into `t` and `v1`; recompute the HMAC over the
 *   timestamp, a `.` and the raw request body exactly as received (before any JSON parsing)
 *   with the sink's secret (its UTF-8 bytes) as the key; compare in constant time; refuse
 *   a `t` more than 5 minutes away from your clock (replay window).
 * - `splunk-hec`: `POST <url>/services/collector/event` with `Authorization: Splunk <token>`
 *   and one `{ time, host: "tenantry", source: "tenantry:audit", sourcetype: "tenantry:audit",
 *   event }` object per entry, one per line (HEC batch format).
 *
 * Delivery is at least once: a batch may arrive again (after a timeout whose answer was
 * lost, a restart, a replay). Receivers deduplicate by `tenantId` + `seq`.
 */
export const AUDIT_SINK_TYPES = ['webhook', 'splunk-hec'] as const;
export type AuditSinkType = (typeof AUDIT_SINK_TYPES)[number];

/** Entries per request, unless the sink says otherwise (`batchSize`). */
export const AUDIT_SINK_DEFAULT_BATCH_SIZE = 100;
/** Attempts at one batch before it goes to the dead-letter list (`maxAttempts`). */
export const AUDIT_SINK_DEFAULT_MAX_ATTEMPTS = 8;
/** A receiver should refuse a `Tenantry-Signature` whose `t` is further than this from its clock. */
export const AUDIT_WEBHOOK_TOLERANCE_SECONDS = 300;
/** The headers of a webhook delivery. */
export const AuditWebhookHeaders = {
  signature: 'Tenantry-Signature',
  deliveryId: 'Tenantry-Delivery-Id',
} as const;

const SinkUrlSchema = text({ min: 1, max: 2048 }).superRefine((value, ctx) => {
  if (!URL.canParse(value)) {
    ctx.addIssue({ code: 'custom', message: 'must be an absolute https:// URL' });
    return;
  }
  const url = new URL(value);
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    ctx.addIssue({ code: 'custom', message: 'must be an absolute https:// URL' });
  else if (url.username || url.password)
    ctx.addIssue({
      code: 'custom',
      message: 'must not carry a user name or password (use secret or token)',
    });
  else if (url.hash) ctx.addIssue({ code: 'custom', message: 'must not have a #fragment' });
});

/** The webhook's HMAC key: 32 to 256 printable characters without spaces. */
const SecretSchema = token(
  /^[\x21-\x7e]{32,256}$/,
  'must be 32 to 256 printable ASCII characters without spaces',
  256,
);
/** A Splunk HEC token (usually a GUID). */
const HecTokenSchema = token(
  /^[\x21-\x7e]{1,256}$/,
  'must be 1 to 256 printable ASCII characters without spaces',
  256,
);
const CategoriesSchema = z
  .array(
    token(AUDIT_CATEGORY_PATTERN, 'must be an audit category (lowercase letters, digits, _ or -)'),
  )
  .max(50, { error: 'must list at most 50 categories' })
  .transform((list) => [...new Set(list)]);

/** How a sink is doing: its cursor in the ledger, the last success and the last failure. */
export const AuditSinkStatusSchema = z.object({
  /** Every entry up to this `seq` has been delivered (or dead-lettered, or filtered out). */
  deliveredThroughSeq: z.number().int(),
  /** The tenant's last `seq`. */
  headSeq: z.number().int(),
  /** headSeq − deliveredThroughSeq: entries not yet delivered. */
  lag: z.number().int(),
  lastSuccessAt: TimestampSchema.nullable(),
  lastErrorAt: TimestampSchema.nullable(),
  lastError: z.string().nullable(),
  /** Failed attempts since the last success (0: healthy). */
  consecutiveFailures: z.number().int(),
  /** When the next attempt is due (null: disabled). */
  nextAttemptAt: TimestampSchema.nullable(),
  /** Batches in the dead-letter list. */
  deadLetters: z.number().int(),
});

export const AuditSinkSchema = z.object({
  id: UuidSchema,
  tenantId: UuidSchema,
  name: z.string(),
  type: z.enum(AUDIT_SINK_TYPES),
  url: z.string(),
  /** Only entries of these categories are delivered; empty: all. */
  categories: z.array(z.string()),
  enabled: z.boolean(),
  batchSize: z.number().int(),
  maxAttempts: z.number().int(),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
  status: AuditSinkStatusSchema,
});
export type AuditSink = z.infer<typeof AuditSinkSchema>;

/**
 * The answer to create: a webhook's signing secret, shown this once (generated when the
 * request gave none); null for a Splunk HEC sink, whose token the caller already has.
 */
export const CreatedAuditSinkSchema = AuditSinkSchema.extend({ secret: z.string().nullable() });
export type CreatedAuditSink = z.infer<typeof CreatedAuditSinkSchema>;

export const CreateAuditSinkBodySchema = strictObject({
  name: text({ max: 200, name: true }),
  type: z.enum(AUDIT_SINK_TYPES, { error: 'must be webhook or splunk-hec' }),
  /** https:// (http:// and private addresses only for origins in AUDIT_SINK_ALLOW_HTTP). */
  url: SinkUrlSchema,
  /** webhook: the HMAC key (generated when absent, and shown once). */
  secret: SecretSchema.optional(),
  /** splunk-hec: the HEC token (required). */
  token: HecTokenSchema.optional(),
  categories: CategoriesSchema.optional(),
  enabled: z.boolean({ error: 'must be true or false' }).default(true),
  batchSize: integer(1, 500).default(AUDIT_SINK_DEFAULT_BATCH_SIZE),
  maxAttempts: integer(1, 20).default(AUDIT_SINK_DEFAULT_MAX_ATTEMPTS),
  /** `now` (default): entries appended from now on; `beginning`: the whole ledger first. */
  startFrom: z.enum(['now', 'beginning'], { error: 'must be now or beginning' }).default('now'),
});
export const CreateAuditSinkRequestSchema = strictObject({
  tenantId: UuidSchema,
  ...CreateAuditSinkBodySchema.shape,
});

/** Only the fields sent change; `secret` / `token` replace the stored one (not shown again). */
export const UpdateAuditSinkBodySchema = strictObject({
  name: text({ max: 200, name: true }).optional(),
  url: SinkUrlSchema.optional(),
  secret: SecretSchema.optional(),
  token: HecTokenSchema.optional(),
  categories: CategoriesSchema.optional(),
  enabled: z.boolean({ error: 'must be true or false' }).optional(),
  batchSize: integer(1, 500).optional(),
  maxAttempts: integer(1, 20).optional(),
});
export const AuditSinkRefSchema = strictObject({ tenantId: UuidSchema, sinkId: UuidSchema });
export const UpdateAuditSinkRequestSchema = strictObject({
  ...AuditSinkRefSchema.shape,
  ...UpdateAuditSinkBodySchema.shape,
});
export const ListAuditSinksRequestSchema = strictObject({
  tenantId: UuidSchema,
  ...PageQuerySchema.shape,
});
export const AuditSinkPageSchema = pageOf(AuditSinkSchema);

/** A batch that could not be delivered: the range of `seq` it held, and why. */
export const AuditSinkDeadLetterSchema = z.object({
  id: UuidSchema,
  tenantId: UuidSchema,
  sinkId: UuidSchema,
  firstSeq: z.number().int(),
  lastSeq: z.number().int(),
  /** Entries in the batch (those of the sink's categories between firstSeq and lastSeq). */
  events: z.number().int(),
  attempts: z.number().int(),
  lastError: z.string(),
  /** The receiver's HTTP status, when it answered. */
  lastStatus: z.number().int().nullable(),
  createdAt: TimestampSchema,
});
export type AuditSinkDeadLetter = z.infer<typeof AuditSinkDeadLetterSchema>;
export const ListAuditSinkDeadLettersRequestSchema = strictObject({
  ...AuditSinkRefSchema.shape,
  ...PageQuerySchema.shape,
});
export const AuditSinkDeadLetterPageSchema = pageOf(AuditSinkDeadLetterSchema);
export const AuditSinkDeadLetterRefSchema = strictObject({
  ...AuditSinkRefSchema.shape,
  deadLetterId: UuidSchema,
});

/** What one request to the receiver gave (test and replay). */
export const AuditSinkDeliverySchema = z.object({
  delivered: z.boolean(),
  /** The receiver's HTTP status; null when it did not answer (network error, timeout). */
  status: z.number().int().nullable(),
  error: z.string().nullable(),
  events: z.number().int(),
  deliveryId: z.string(),
});
export type AuditSinkDelivery = z.infer<typeof AuditSinkDeliverySchema>;

/**
 * One ledger entry as delivered: the public event with its place in the chain (`seq`,
 * `hash`, `prevHash`). The synthetic event of a test delivery has seq 0 and zero hashes.
 */
export const AuditSinkEntrySchema = StoredAuditEventSchema.extend({
  seq: z.number().int().min(0),
});
export type AuditSinkEntry = z.infer<typeof AuditSinkEntrySchema>;

/** The body of a webhook delivery (`test: true` for the synthetic event of `.../test`). */
export const AuditWebhookPayloadSchema = z.object({
  sinkId: UuidSchema,
  tenantId: UuidSchema,
  events: z.array(AuditSinkEntrySchema),
  test: z.literal(true).optional(),
});
export type AuditWebhookPayload = z.infer<typeof AuditWebhookPayloadSchema>;

const DeletedSchema = z.object({ deleted: z.literal(true) });

export const AuditSinkRpc = {
  create: defineRpc('audit.sinks.create', CreateAuditSinkRequestSchema, CreatedAuditSinkSchema),
  list: defineRpc('audit.sinks.list', ListAuditSinksRequestSchema, AuditSinkPageSchema),
  get: defineRpc('audit.sinks.get', AuditSinkRefSchema, AuditSinkSchema),
  update: defineRpc('audit.sinks.update', UpdateAuditSinkRequestSchema, AuditSinkSchema),
  delete: defineRpc('audit.sinks.delete', AuditSinkRefSchema, DeletedSchema),
  /** Sends one synthetic event (not in the ledger) to the sink now. */
  test: defineRpc('audit.sinks.test', AuditSinkRefSchema, AuditSinkDeliverySchema),
  deadLetters: defineRpc(
    'audit.sinks.dead-letters',
    ListAuditSinkDeadLettersRequestSchema,
    AuditSinkDeadLetterPageSchema,
  ),
  /** Re-sends a dead letter's range now; removed from the list when the receiver takes it. */
  replay: defineRpc('audit.sinks.replay', AuditSinkDeadLetterRefSchema, AuditSinkDeliverySchema),
};
