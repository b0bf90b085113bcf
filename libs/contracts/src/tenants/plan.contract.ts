import { z } from 'zod';
import { defineRpc } from '../common/rpc.js';
import { integer, strictObject, TimestampSchema } from '../common/primitives.js';
import { text } from '../common/text.js';

/** The five plans every installation has; their quotas and features are data (operators edit them). */
export const PLAN_KEYS = ['free', 'starter', 'professional', 'enterprise', 'custom'] as const;
export const PlanKeySchema = z.enum(PLAN_KEYS, {
  error: `must be one of ${PLAN_KEYS.join(', ')}`,
});
export type PlanKey = z.infer<typeof PlanKeySchema>;

/**
 * The limits a plan sets, each a whole number or null for "unlimited". Enforced where the
 * thing is created: `users` by identity (users), `ssoConnections` by identity (SSO
 * connections), `customRoles` by policy (roles that are not system roles),
 * `apiCallsPerMinute` / `apiCallsPerDay` by the gateway, `auditRetentionDays` by audit.
 */
export const QUOTA_KEYS = [
  'users',
  'apiCallsPerMinute',
  'apiCallsPerDay',
  'storageMb',
  'customRoles',
  'ssoConnections',
  'meteredUnitsPerMonth',
  'auditRetentionDays',
] as const;
export type QuotaKey = (typeof QUOTA_KEYS)[number];

const MAX_QUOTA = 1_000_000_000_000;
/** A limit: a whole number from 0, or null for unlimited. */
export const QuotaValueSchema = integer(0, MAX_QUOTA).nullable();

const quotaShape = Object.fromEntries(QUOTA_KEYS.map((k) => [k, QuotaValueSchema])) as Record<
  QuotaKey,
  typeof QuotaValueSchema
>;
export const QuotasSchema = strictObject(quotaShape);
export type Quotas = z.infer<typeof QuotasSchema>;
/** Per-tenant overrides of single limits (the rest come from the plan). */
export const QuotaOverridesSchema = QuotasSchema.partial();
export type QuotaOverrides = z.infer<typeof QuotaOverridesSchema>;

/** Features a plan switches on; the services that offer them check the tenant's list. */
export const PLAN_FEATURES = [
  'sso',
  'scim',
  'mfa',
  'custom-roles',
  'audit-export',
  'audit-sinks',
  'compliance-reports',
  'api-keys',
  'organizations',
  'isolation-schema',
  'isolation-database',
] as const;
export const PlanFeatureSchema = z.enum(PLAN_FEATURES, {
  error: `must be one of ${PLAN_FEATURES.join(', ')}`,
});
export type PlanFeature = z.infer<typeof PlanFeatureSchema>;

export const PlanSchema = z.object({
  key: PlanKeySchema,
  name: z.string(),
  description: z.string(),
  quotas: QuotasSchema,
  features: z.array(PlanFeatureSchema),
  /** The system roles (policy-engine role templates) a tenant on this plan is given. */
  roles: z.array(z.string()),
  updatedAt: TimestampSchema,
});
export type Plan = z.infer<typeof PlanSchema>;

export const GetPlanRequestSchema = strictObject({ key: PlanKeySchema });
export const UpdatePlanBodySchema = strictObject({
  name: text({ max: 100, name: true }).optional(),
  description: text({ max: 1000, multiline: true }).optional(),
  quotas: QuotaOverridesSchema.optional(),
  features: z.array(PlanFeatureSchema).max(PLAN_FEATURES.length).optional(),
});
export const UpdatePlanRequestSchema = strictObject({
  key: PlanKeySchema,
  ...UpdatePlanBodySchema.shape,
});
export const PlanListSchema = z.object({ items: z.array(PlanSchema) });

export const PlanRpc = {
  list: defineRpc('tenants.plans.list', strictObject({}), PlanListSchema),
  get: defineRpc('tenants.plans.get', GetPlanRequestSchema, PlanSchema),
  /** Operators edit a plan's quotas and features; every tenant on it gets the new limits. */
  update: defineRpc('tenants.plans.update', UpdatePlanRequestSchema, PlanSchema),
};
