import { z } from 'zod';
import { defineRpc, type RpcContract } from '../common/rpc.js';
import { strictObject, UuidSchema } from '../common/primitives.js';
import { text } from '../common/text.js';
import { PlanFeatureSchema, PlanKeySchema, QuotasSchema } from './plan.contract.js';
import { TenantAdminSchema, TenantSettingsSchema } from './tenant.contract.js';

/**
 * What the tenants service asks of every other service about a tenant's life, one set of
 * RPCs per participant: `<service>.tenant-lifecycle.<verb>`. Every verb is idempotent (the
 * provisioning pipeline retries it, and runs it again after a crash) and answers what it did,
 * which the run records.
 */
export const TENANT_PARTICIPANTS = ['identity', 'policy', 'audit'] as const;
export type TenantParticipant = (typeof TENANT_PARTICIPANTS)[number];

const TenantOnly = { tenantId: UuidSchema };

/** What a service knows about the tenant it is told to set up or reconfigure. */
export const TenantProfileSchema = strictObject({
  ...TenantOnly,
  slug: text({ max: 63 }),
  name: text({ max: 200 }),
  plan: PlanKeySchema,
  settings: TenantSettingsSchema,
  limits: QuotasSchema,
  features: z.array(PlanFeatureSchema),
  /** The system roles the plan gives the tenant (policy). */
  roles: z.array(text({ max: 64 })),
});
export type TenantProfile = z.infer<typeof TenantProfileSchema>;

export const BootstrapTenantRequestSchema = strictObject({
  ...TenantProfileSchema.shape,
  runId: UuidSchema,
  /** identity: the first admin, invited with the tenant-admin role. */
  admin: TenantAdminSchema.nullable(),
});
export type BootstrapTenantRequest = z.infer<typeof BootstrapTenantRequestSchema>;

/** A step's answer: what it created or removed (recorded on the run, shown to operators). */
export const LifecycleOutputSchema = z.object({ output: z.record(z.string(), z.unknown()) });
export type LifecycleOutput = z.infer<typeof LifecycleOutputSchema>;

/** Current use of the quota'd things the service creates (`users`, `ssoConnections`, `customRoles`). */
export const TenantUsageSchema = z.object({
  usage: z.record(z.string(), z.number().int()),
});
export type TenantUsage = z.infer<typeof TenantUsageSchema>;

/** Rows the service removed for the tenant, by table: the deletion certificate lists them. */
export const TenantRemovalSchema = z.object({
  removed: z.record(z.string(), z.number().int()),
});
export type TenantRemoval = z.infer<typeof TenantRemovalSchema>;

export const TenantExportSchema = z.object({
  /** The tenant's data in this service, by table (secrets and hashes left out). */
  data: z.record(z.string(), z.array(z.record(z.string(), z.unknown()))),
});
export type TenantExport = z.infer<typeof TenantExportSchema>;

export const LifecycleSuspendRequestSchema = strictObject({
  ...TenantOnly,
  reason: text({ max: 500 }),
});

export interface TenantLifecycleRpcs {
  /** Sets the tenant up (identity: auth settings + first admin; policy: the plan's roles; audit: genesis entry). */
  bootstrap: RpcContract<typeof BootstrapTenantRequestSchema, typeof LifecycleOutputSchema>;
  /** Undoes bootstrap (compensation of a failed provisioning): removes what it created. */
  compensate: RpcContract<typeof BootstrapTenantRequestSchema, typeof LifecycleOutputSchema>;
  /** Applies changed settings, limits or features (plan change, settings patch). */
  configure: RpcContract<typeof TenantProfileSchema, typeof LifecycleOutputSchema>;
  /** Checks what bootstrap created is there and healthy (the pipeline's verify step). */
  verify: RpcContract<typeof BootstrapTenantRequestSchema, typeof LifecycleOutputSchema>;
  usage: RpcContract<z.ZodObject<typeof TenantOnly>, typeof TenantUsageSchema>;
  /** identity: revokes every session of the tenant's users. */
  suspend: RpcContract<typeof LifecycleSuspendRequestSchema, typeof LifecycleOutputSchema>;
  export: RpcContract<z.ZodObject<typeof TenantOnly>, typeof TenantExportSchema>;
  /** Deletes every row of the tenant in the service's database. */
  remove: RpcContract<z.ZodObject<typeof TenantOnly>, typeof TenantRemovalSchema>;
}

function lifecycleRpcs(service: TenantParticipant): TenantLifecycleRpcs {
  const subject = (verb: string) => `${service}.tenant-lifecycle.${verb}`;
  const ref = strictObject(TenantOnly);
  return {
    bootstrap: defineRpc(subject('bootstrap'), BootstrapTenantRequestSchema, LifecycleOutputSchema),
    compensate: defineRpc(
      subject('compensate'),
      BootstrapTenantRequestSchema,
      LifecycleOutputSchema,
    ),
    configure: defineRpc(subject('configure'), TenantProfileSchema, LifecycleOutputSchema),
    verify: defineRpc(subject('verify'), BootstrapTenantRequestSchema, LifecycleOutputSchema),
    usage: defineRpc(subject('usage'), ref, TenantUsageSchema),
    suspend: defineRpc(subject('suspend'), LifecycleSuspendRequestSchema, LifecycleOutputSchema),
    export: defineRpc(subject('export'), ref, TenantExportSchema),
    remove: defineRpc(subject('remove'), ref, TenantRemovalSchema),
  };
}

/** `TenantLifecycleRpc.identity.bootstrap`, …: the participants' RPCs. */
export const TenantLifecycleRpc: Readonly<Record<TenantParticipant, TenantLifecycleRpcs>> = {
  identity: lifecycleRpcs('identity'),
  policy: lifecycleRpcs('policy'),
  audit: lifecycleRpcs('audit'),
};

/** Error reason when a quota refuses a creation (the problem's message names the limit). */
export const QUOTA_EXCEEDED = 'QUOTA_EXCEEDED';
