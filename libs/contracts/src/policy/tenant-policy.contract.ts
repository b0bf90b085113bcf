import { z } from 'zod';
import { defineRpc } from '../common/rpc.js';
import { strictObject, TimestampSchema } from '../common/primitives.js';
import { TenantScoped } from './policy-parts.js';

/**
 * A tenant's whole current policy: the document the policy service publishes
 * (`PolicySnapshots`; `PolicyDocument` of `@tenantry/policy-engine`), its version, and
 * which version the snapshot bucket has.
 */
export const TenantPolicySchema = z.object({
  tenantId: z.string(),
  version: z.number().int(),
  /** The version last published to the snapshot bucket (behind `version` while NATS is away). */
  publishedVersion: z.number().int(),
  updatedAt: TimestampSchema,
  document: z.record(z.string(), z.unknown()),
});
export type TenantPolicy = z.infer<typeof TenantPolicySchema>;

export const TenantPolicyRefSchema = strictObject(TenantScoped);

export const TenantPolicyRpc = {
  get: defineRpc('policy.tenant-policies.get', TenantPolicyRefSchema, TenantPolicySchema),
};
