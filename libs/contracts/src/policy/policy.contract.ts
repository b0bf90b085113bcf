import { z } from 'zod';
import { defineRpc } from '../common/rpc.js';
import { PageQuerySchema, pageOf, strictObject } from '../common/primitives.js';
import { text } from '../common/text.js';
import {
  ConditionOutSchema,
  ConditionsSchema,
  PermissionSchema,
  POLICY_SUBJECT_TYPES,
  PolicyDescriptionSchema,
  PolicyIdSchema,
  PolicyNameSchema,
  ResourcePathSchema,
  TenantScoped,
} from './policy-parts.js';

/** Whom a deny rule targets: a user, group, API key or service account, or whoever holds a role. */
export const DENY_SUBJECT_TYPES = [...POLICY_SUBJECT_TYPES, 'role'] as const;

const DenySubjectInSchema = strictObject({
  type: z.enum(DENY_SUBJECT_TYPES, {
    error: 'must be one of user, group, api_key, service_account, role',
  }),
  id: text({ min: 1, max: 256 }),
});

/**
 * A policy: an explicit deny rule (the policy engine's `DenyRule`). It applies to a request
 * one of its `permissions` covers, within its `scope`, for its `subjects` (everyone when
 * absent), while all its `conditions` hold, unless all of its `unless` conditions hold; an
 * applying rule overrides every allow.
 */
export const PolicySchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  permissions: z.array(z.string()),
  subjects: z.array(z.object({ type: z.enum(DENY_SUBJECT_TYPES), id: z.string() })).nullable(),
  scope: z.string().nullable(),
  conditions: z.array(ConditionOutSchema),
  unless: z.array(ConditionOutSchema),
});
export type Policy = z.infer<typeof PolicySchema>;

const Subjects = z
  .array(DenySubjectInSchema)
  .min(1, { error: 'must list at least one subject (leave it out for everyone)' })
  .max(1000, { error: 'must list at most 1000 subjects' });
const Permissions = z
  .array(PermissionSchema)
  .min(1, { error: 'must list at least one permission' })
  .max(1000, { error: 'must list at most 1000 permissions' });

export const CreatePolicyBodySchema = strictObject({
  name: PolicyNameSchema,
  description: PolicyDescriptionSchema.optional(),
  permissions: Permissions,
  subjects: Subjects.optional(),
  scope: ResourcePathSchema.optional(),
  conditions: ConditionsSchema.optional(),
  unless: ConditionsSchema.optional(),
});
export const CreatePolicyRequestSchema = strictObject({
  ...TenantScoped,
  ...CreatePolicyBodySchema.shape,
});

/** Changes the given fields; `null` removes an optional one (description, subjects, scope). */
export const UpdatePolicyBodySchema = strictObject({
  name: PolicyNameSchema.optional(),
  description: PolicyDescriptionSchema.nullable().optional(),
  permissions: Permissions.optional(),
  subjects: Subjects.nullable().optional(),
  scope: ResourcePathSchema.nullable().optional(),
  conditions: ConditionsSchema.optional(),
  unless: ConditionsSchema.optional(),
});
export const UpdatePolicyRequestSchema = strictObject({
  ...TenantScoped,
  policyId: PolicyIdSchema,
  ...UpdatePolicyBodySchema.shape,
});

export const PolicyRefSchema = strictObject({ ...TenantScoped, policyId: PolicyIdSchema });
export const ListPoliciesRequestSchema = strictObject({
  ...TenantScoped,
  ...PageQuerySchema.shape,
});
export const PolicyPageSchema = pageOf(PolicySchema);

export const PolicyRpc = {
  create: defineRpc('policy.policies.create', CreatePolicyRequestSchema, PolicySchema),
  get: defineRpc('policy.policies.get', PolicyRefSchema, PolicySchema),
  list: defineRpc('policy.policies.list', ListPoliciesRequestSchema, PolicyPageSchema),
  update: defineRpc('policy.policies.update', UpdatePolicyRequestSchema, PolicySchema),
  delete: defineRpc(
    'policy.policies.delete',
    PolicyRefSchema,
    z.object({ deleted: z.literal(true) }),
  ),
};
