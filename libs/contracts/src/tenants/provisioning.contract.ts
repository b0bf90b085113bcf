import { z } from 'zod';
import { defineRpc } from '../common/rpc.js';
import { integer, strictObject, TimestampSchema, UuidSchema } from '../common/primitives.js';
import { text, token } from '../common/text.js';
import { CreateTenantRequestSchema } from './tenant.contract.js';

/**
 * A run is one pass of a pipeline over a tenant: `provision` (a new tenant up to `active`) or
 * `deprovision` (export, delete everywhere, certificate). Its state is in PostgreSQL; BullMQ
 * carries the work.
 */
export const RUN_KINDS = ['provision', 'deprovision'] as const;
export const RUN_STATUSES = [
  'pending',
  'running',
  'succeeded',
  'compensating',
  'failed',
  'cancelled',
] as const;
export const STEP_STATUSES = [
  'pending',
  'running',
  'succeeded',
  'failed',
  'compensating',
  'compensated',
  'skipped',
] as const;

export const ProvisioningStepSchema = z.object({
  /** Registered step name, e.g. `validate`, `allocate-storage`, `identity-bootstrap`. */
  name: z.string(),
  /** The service the step drives (`tenants`, `identity`, `policy`, `audit`, `billing`). */
  service: z.string(),
  position: z.number().int(),
  status: z.enum(STEP_STATUSES),
  attempts: z.number().int(),
  startedAt: TimestampSchema.nullable(),
  finishedAt: TimestampSchema.nullable(),
  durationMs: z.number().int().nullable(),
  /** The last error, when an attempt failed. */
  error: z.string().nullable(),
  /** What the step recorded (ids it created, counts it removed), shown to operators. */
  output: z.record(z.string(), z.unknown()).nullable(),
});
export type ProvisioningStep = z.infer<typeof ProvisioningStepSchema>;

export const ProvisioningRunSchema = z.object({
  id: UuidSchema,
  tenantId: UuidSchema,
  kind: z.enum(RUN_KINDS),
  status: z.enum(RUN_STATUSES),
  /** The step that failed, and why, when `failed`. */
  failedStep: z.string().nullable(),
  error: z.string().nullable(),
  steps: z.array(ProvisioningStepSchema),
  /** Times the reconciler re-enqueued it (Redis lost its jobs, a worker vanished). */
  requeues: z.number().int(),
  createdAt: TimestampSchema,
  startedAt: TimestampSchema.nullable(),
  finishedAt: TimestampSchema.nullable(),
  /** For a deprovision run: when it starts (the end of the grace period). */
  notBefore: TimestampSchema.nullable(),
});
export type ProvisioningRun = z.infer<typeof ProvisioningRunSchema>;

export const GetProvisioningRequestSchema = strictObject({ tenantId: UuidSchema });
export const ListRunsRequestSchema = strictObject({ tenantId: UuidSchema });
export const ProvisioningRunListSchema = z.object({ items: z.array(ProvisioningRunSchema) });

export const ProvisioningRpc = {
  /** The tenant's latest run with its steps. */
  get: defineRpc('tenants.provisioning.get', GetProvisioningRequestSchema, ProvisioningRunSchema),
  /** Every run of the tenant, newest first. */
  list: defineRpc('tenants.provisioning.list', ListRunsRequestSchema, ProvisioningRunListSchema),
  /** Starts a new provisioning run for a `failed` tenant. */
  retry: defineRpc(
    'tenants.provisioning.retry',
    GetProvisioningRequestSchema,
    ProvisioningRunSchema,
  ),
};

/** Progress events on EVENTS: `evt.tenants.provisioning.progress`, one per step attempt and run outcome. */
export const ProvisioningProgressSchema = z.object({
  runId: UuidSchema,
  tenantId: UuidSchema,
  kind: z.enum(RUN_KINDS),
  step: z.string().nullable(),
  status: z.string(),
  attempt: z.number().int(),
  error: z.string().nullable(),
  at: TimestampSchema,
});
export const ProvisioningEvents = {
  progress: { subject: 'evt.tenants.provisioning.progress', schema: ProvisioningProgressSchema },
} as const;

/* ----------------------------- bulk operations ----------------------------- */

export const BULK_KINDS = ['tenants.create', 'users.create'] as const;
export const BULK_STATUSES = ['pending', 'running', 'succeeded', 'partial', 'failed'] as const;
export const MAX_BULK_ITEMS = 1000;

export const BulkItemResultSchema = z.object({
  index: z.number().int(),
  status: z.enum(['pending', 'succeeded', 'failed']),
  /** The created thing's id (tenant or user). */
  id: z.string().nullable(),
  error: z
    .object({ code: z.string(), message: z.string(), reason: z.string().optional() })
    .nullable(),
});
export const BulkOperationSchema = z.object({
  id: UuidSchema,
  kind: z.enum(BULK_KINDS),
  /** The tenant the users go into (`users.create`); null for `tenants.create`. */
  tenantId: UuidSchema.nullable(),
  status: z.enum(BULK_STATUSES),
  total: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  items: z.array(BulkItemResultSchema),
  createdAt: TimestampSchema,
  finishedAt: TimestampSchema.nullable(),
});
export type BulkOperation = z.infer<typeof BulkOperationSchema>;

const bulkItems = <T extends z.ZodType>(item: T) =>
  z
    .array(item)
    .min(1, { error: 'must list at least one item' })
    .max(MAX_BULK_ITEMS, { error: `must list at most ${MAX_BULK_ITEMS} items` });

export const BulkCreateTenantsRequestSchema = strictObject({
  tenants: bulkItems(CreateTenantRequestSchema),
});
export const BulkUserItemSchema = strictObject({
  email: text({ min: 3, max: 254 }),
  displayName: text({ max: 200, name: true }).optional(),
  roles: z
    .array(text({ min: 1, max: 64 }))
    .max(20)
    .optional(),
});
export const BulkCreateUsersBodySchema = strictObject({ users: bulkItems(BulkUserItemSchema) });
export const BulkCreateUsersRequestSchema = strictObject({
  tenantId: UuidSchema,
  ...BulkCreateUsersBodySchema.shape,
});
export const GetBulkOperationRequestSchema = strictObject({ id: UuidSchema });

export const BulkOperationRpc = {
  createTenants: defineRpc(
    'tenants.bulk-operations.create-tenants',
    BulkCreateTenantsRequestSchema,
    BulkOperationSchema,
  ),
  createUsers: defineRpc(
    'tenants.bulk-operations.create-users',
    BulkCreateUsersRequestSchema,
    BulkOperationSchema,
  ),
  get: defineRpc('tenants.bulk-operations.get', GetBulkOperationRequestSchema, BulkOperationSchema),
};

/* ----------------------------- operators' queue view ----------------------------- */

export const JOB_STATES = [
  'waiting',
  'active',
  'delayed',
  'completed',
  'failed',
  'waiting-children',
  'prioritized',
] as const;
export const QueueSummarySchema = z.object({
  name: z.string(),
  counts: z.record(z.string(), z.number().int()),
  paused: z.boolean(),
});
export const QueueJobSchema = z.object({
  id: z.string(),
  name: z.string(),
  state: z.string(),
  attemptsMade: z.number().int(),
  data: z.unknown(),
  failedReason: z.string().nullable(),
  timestamp: TimestampSchema,
  processedOn: TimestampSchema.nullable(),
  finishedOn: TimestampSchema.nullable(),
});
const QueueNameSchema = token(/^[a-z][a-z0-9-]{0,62}$/, 'must be a queue name', 63);
export const ListQueueJobsRequestSchema = strictObject({
  queue: QueueNameSchema,
  state: z.enum(JOB_STATES, { error: `must be one of ${JOB_STATES.join(', ')}` }),
  limit: integer(1, 200).default(50),
});
export const QueueJobRefSchema = strictObject({
  queue: QueueNameSchema,
  jobId: text({ min: 1, max: 200 }),
});

export const QueueOpsRpc = {
  summary: defineRpc(
    'tenants.queues.summary',
    strictObject({}),
    z.object({ items: z.array(QueueSummarySchema) }),
  ),
  jobs: defineRpc(
    'tenants.queues.jobs',
    ListQueueJobsRequestSchema,
    z.object({ items: z.array(QueueJobSchema) }),
  ),
  /** Retries a failed job. */
  retry: defineRpc('tenants.queues.retry', QueueJobRefSchema, QueueJobSchema),
};
