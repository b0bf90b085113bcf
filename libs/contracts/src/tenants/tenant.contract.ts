import { z } from 'zod';
import { AppError, ErrorCode } from '../common/errors.js';
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
import {
  PlanFeatureSchema,
  PlanKeySchema,
  QUOTA_KEYS,
  QuotaOverridesSchema,
  QuotasSchema,
} from './plan.contract.js';

/**
 * A tenant's life: `provisioning` (its pipeline runs) → `active`; `failed` when provisioning
 * gave up (compensated); `suspended` (requests refused, sessions revoked) ⇄ `active`;
 * `deprovisioning` (deletion scheduled, cancellable within the grace period) → `deleted`.
 */
export const TENANT_STATUSES = [
  'provisioning',
  'active',
  'suspended',
  'deprovisioning',
  'deleted',
  'failed',
] as const;
export const TenantStatusSchema = z.enum(TENANT_STATUSES, {
  error: `must be one of ${TENANT_STATUSES.join(', ')}`,
});
export type TenantStatus = z.infer<typeof TenantStatusSchema>;

/** Statuses in which the gateway refuses the tenant's principals (TENANT_SUSPENDED / TENANT_UNAVAILABLE). */
export const BARRED_TENANT_STATUSES: readonly TenantStatus[] = [
  'suspended',
  'deprovisioning',
  'deleted',
  'failed',
];

/** Where the tenant's rows live: shared tables under row-level security (default), or its own schema or database. */
export const ISOLATION_MODES = ['rls', 'schema', 'database'] as const;
export const IsolationModeSchema = z.enum(ISOLATION_MODES, {
  error: `must be one of ${ISOLATION_MODES.join(', ')}`,
});
export type IsolationMode = z.infer<typeof IsolationModeSchema>;

export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const REGION_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
const SlugSchema = token(
  SLUG_PATTERN,
  'must be 1 to 63 lowercase letters, digits or hyphens, starting and ending with a letter or digit',
  63,
);
const RegionSchema = token(
  REGION_PATTERN,
  'must be a region name: 1 to 32 lowercase letters, digits or hyphens',
  32,
);
/** An IPv4 or IPv6 network in CIDR notation (a bare address is a /32 or /128); checked fully by the service. */
const CidrSchema = token(
  /^[0-9A-Fa-f:.]{2,45}(\/[0-9]{1,3})?$/,
  'must be an IP network in CIDR notation, e.g. 203.0.113.0/24 or 2001:db8::/32',
  49,
);
const CountrySchema = token(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 country code, e.g. DE', 2);

export const TenantSettingsSchema = strictObject({
  /** Password sign-in refused for the tenant's users (operators keep break-glass). Applied to identity. */
  ssoRequired: z.boolean({ error: 'must be true or false' }),
  /** Users must enrol and use a second factor. Applied to identity. */
  mfaRequired: z.boolean({ error: 'must be true or false' }),
  /** Idle session lifetime in minutes (refresh tokens end after it). Applied to identity. */
  sessionTimeoutMinutes: integer(5, 43_200),
  /** When not empty, the gateway refuses the tenant's requests from any other network. */
  ipAllowList: z.array(CidrSchema).max(100, { error: 'must list at most 100 networks' }),
  /** Stored for conditional access (policy `country` conditions); the gateway does not geolocate. */
  allowedCountries: z.array(CountrySchema).max(250, { error: 'must list at most 250 countries' }),
  /** Days the audit ledger keeps sealed segments; null keeps them for the plan's retention. */
  auditRetentionDays: integer(1, 36_500).nullable(),
});
export type TenantSettings = z.infer<typeof TenantSettingsSchema>;
export const TenantSettingsPatchSchema = TenantSettingsSchema.partial();
export type TenantSettingsPatch = z.infer<typeof TenantSettingsPatchSchema>;

export const DEFAULT_TENANT_SETTINGS: TenantSettings = Object.freeze({
  ssoRequired: false,
  mfaRequired: false,
  sessionTimeoutMinutes: 7 * 24 * 60,
  ipAllowList: [],
  allowedCountries: [],
  auditRetentionDays: null,
}) as TenantSettings;

export const TenantAdminSchema = strictObject({
  email: text({ min: 3, max: 254 }).regex(/^[^\s@]+@[^\s@]+$/, {
    error: 'must be an email address',
  }),
  displayName: text({ max: 200, name: true }).optional(),
});

export const CreateTenantRequestSchema = strictObject({
  name: text({ max: 200, name: true }),
  slug: SlugSchema,
  plan: PlanKeySchema.default('free'),
  region: RegionSchema.optional(),
  isolation: IsolationModeSchema.default('rls'),
  settings: TenantSettingsPatchSchema.optional(),
  limitOverrides: QuotaOverridesSchema.optional(),
  /** The first admin: invited by email during provisioning, with the tenant-admin role. */
  admin: TenantAdminSchema.optional(),
  trialEndsAt: TimestampSchema.optional(),
});
export type CreateTenantRequest = z.infer<typeof CreateTenantRequestSchema>;

export const PendingPlanChangeSchema = z.object({ plan: PlanKeySchema, at: TimestampSchema });

export const TenantSchema = z.object({
  id: UuidSchema,
  name: z.string(),
  slug: z.string(),
  status: TenantStatusSchema,
  /** Why it is `failed` or `suspended` (the failed step and its error; the suspension reason). */
  statusReason: z.string().nullable(),
  plan: PlanKeySchema,
  region: z.string(),
  isolation: IsolationModeSchema,
  settings: TenantSettingsSchema,
  limitOverrides: QuotaOverridesSchema,
  /** The plan's quotas with the overrides applied: what is enforced. */
  limits: QuotasSchema,
  features: z.array(PlanFeatureSchema),
  pendingPlanChange: PendingPlanChangeSchema.nullable(),
  /** The latest provisioning or lifecycle run (GET /v1/tenants/{id}/provisioning). */
  runId: UuidSchema.nullable(),
  trialEndsAt: TimestampSchema.nullable(),
  /** When a scheduled deletion happens (status `deprovisioning`). */
  deleteAfter: TimestampSchema.nullable(),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
});
export type Tenant = z.infer<typeof TenantSchema>;

/** `POST /v1/tenants` answers 202 with this: the tenant in `provisioning` and its run. */
export const TenantAcceptedSchema = z.object({ tenant: TenantSchema, runId: UuidSchema });
export type TenantAccepted = z.infer<typeof TenantAcceptedSchema>;

export const GetTenantRequestSchema = strictObject({ id: UuidSchema });
export const GetTenantBySlugRequestSchema = strictObject({
  slug: token(SLUG_PATTERN, 'must be a tenant slug', 63),
});

export const UpdateTenantBodySchema = strictObject({
  name: text({ max: 200, name: true }).optional(),
  settings: TenantSettingsPatchSchema.optional(),
  /** Set a limit (a number or null for unlimited); omit it to leave it; the key with the plan's value removes nothing. */
  limitOverrides: QuotaOverridesSchema.optional(),
  /** Limits whose override is removed (the plan's value applies again). */
  clearOverrides: z
    .array(z.enum(QUOTA_KEYS, { error: `must be one of ${QUOTA_KEYS.join(', ')}` }))
    .optional(),
  trialEndsAt: TimestampSchema.nullable().optional(),
});
export const UpdateTenantRequestSchema = strictObject({
  id: UuidSchema,
  ...UpdateTenantBodySchema.shape,
});

export const ChangePlanBodySchema = strictObject({
  plan: PlanKeySchema,
  /** `now` (refused when current usage exceeds a new limit) or `period-end` (applied at `effectiveAt`). */
  when: z.enum(['now', 'period-end'], { error: 'must be now or period-end' }).default('now'),
  /** For `period-end`: when the period ends (defaults to the first day of next month, UTC). */
  effectiveAt: TimestampSchema.optional(),
});
export const ChangePlanRequestSchema = strictObject({
  id: UuidSchema,
  ...ChangePlanBodySchema.shape,
});

export const SuspendTenantBodySchema = strictObject({
  reason: text({ max: 500, name: true }),
});
export const SuspendTenantRequestSchema = strictObject({
  id: UuidSchema,
  ...SuspendTenantBodySchema.shape,
});
export const DeprovisionTenantBodySchema = strictObject({
  /** Hours before the deletion runs (0 = at once); cancellable until then. Default: the tenants service's TENANT_DEPROVISION_GRACE_HOURS (72). */
  graceHours: integer(0, 90 * 24).optional(),
  reason: text({ max: 500, name: true }).optional(),
});
export const DeprovisionTenantRequestSchema = strictObject({
  id: UuidSchema,
  ...DeprovisionTenantBodySchema.shape,
});

export const TENANT_NOT_FOUND = 'TENANT_NOT_FOUND';

/**
 * The one "no such tenant" answer. The gateway gives exactly this for a tenant that exists
 * but belongs to someone else, so a caller cannot tell the two apart.
 */
export function tenantNotFound(id: string): AppError {
  return new AppError(ErrorCode.NotFound, `tenant ${id} does not exist`, {
    reason: TENANT_NOT_FOUND,
  });
}

export const ListTenantsRequestSchema = strictObject({
  ...PageQuerySchema.shape,
  status: TenantStatusSchema.optional(),
  plan: PlanKeySchema.optional(),
  region: RegionSchema.optional(),
  /** Case-insensitive substring of the name or slug. */
  q: text({ max: 100 }).optional(),
});
export const TenantPageSchema = pageOf(TenantSchema);
export type TenantPage = z.infer<typeof TenantPageSchema>;

const TenantRef = strictObject({ id: UuidSchema });

export const TenantRpc = {
  /** Stores the tenant as `provisioning` and starts its provisioning run. */
  create: defineRpc('tenants.tenants.create', CreateTenantRequestSchema, TenantAcceptedSchema),
  get: defineRpc('tenants.tenants.get', GetTenantRequestSchema, TenantSchema),
  getBySlug: defineRpc('tenants.tenants.get-by-slug', GetTenantBySlugRequestSchema, TenantSchema),
  list: defineRpc('tenants.tenants.list', ListTenantsRequestSchema, TenantPageSchema),
  update: defineRpc('tenants.tenants.update', UpdateTenantRequestSchema, TenantSchema),
  changePlan: defineRpc('tenants.tenants.change-plan', ChangePlanRequestSchema, TenantSchema),
  suspend: defineRpc('tenants.tenants.suspend', SuspendTenantRequestSchema, TenantSchema),
  reactivate: defineRpc('tenants.tenants.reactivate', TenantRef, TenantSchema),
  /** Schedules deletion after the grace period (a delayed job); the tenant is refused meanwhile. */
  deprovision: defineRpc(
    'tenants.tenants.deprovision',
    DeprovisionTenantRequestSchema,
    TenantSchema,
  ),
  cancelDeprovision: defineRpc('tenants.tenants.cancel-deprovision', TenantRef, TenantSchema),
};

/** Domain events the tenants service publishes on the EVENTS stream (payload: the tenant). */
export const TenantEvents = {
  created: { subject: 'evt.tenants.tenant.created', schema: TenantSchema },
  activated: { subject: 'evt.tenants.tenant.activated', schema: TenantSchema },
  updated: { subject: 'evt.tenants.tenant.updated', schema: TenantSchema },
  suspended: { subject: 'evt.tenants.tenant.suspended', schema: TenantSchema },
  reactivated: { subject: 'evt.tenants.tenant.reactivated', schema: TenantSchema },
  failed: { subject: 'evt.tenants.tenant.failed', schema: TenantSchema },
  deprovisioning: { subject: 'evt.tenants.tenant.deprovisioning', schema: TenantSchema },
  deleted: { subject: 'evt.tenants.tenant.deleted', schema: TenantSchema },
} as const;

/**
 * The NATS KV bucket where the tenants service keeps each tenant's access state, so the
 * gateway decides locally whether a principal's tenant may call (status, IP allow-list). Key:
 * the tenant id; value: TenantAccessSchema as JSON. Written on every status or settings change.
 */
export const TENANT_ACCESS_BUCKET = 'TENANT_ACCESS';
export const TenantAccessSchema = z.object({
  tenantId: UuidSchema,
  status: TenantStatusSchema,
  statusReason: z.string().nullable(),
  ipAllowList: z.array(z.string()),
  apiCallsPerMinute: z.number().int().nullable(),
  apiCallsPerDay: z.number().int().nullable(),
  updatedAt: TimestampSchema,
});
export type TenantAccess = z.infer<typeof TenantAccessSchema>;
