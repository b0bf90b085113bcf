import { z } from 'zod';
import { defineRpc } from '../common/rpc.js';
import { PageQuerySchema, pageOf, strictObject, TimestampSchema } from '../common/primitives.js';
import { text } from '../common/text.js';
import {
  ConditionOutSchema,
  ConditionsSchema,
  POLICY_SUBJECT_TYPES,
  PolicyIdSchema,
  ResourcePathSchema,
  SubjectInSchema,
  SubjectOutSchema,
  TenantScoped,
} from './policy-parts.js';

/**
 * A role binding: gives a role to a user, a group, an API key or a service account, within a
 * resource path (`scope`) when given, until `expiresAt` when given, while its `conditions`
 * hold.
 */
export const RoleBindingSchema = z.object({
  id: z.string(),
  roleId: z.string(),
  subject: SubjectOutSchema,
  scope: z.string().nullable(),
  expiresAt: z.string().nullable(),
  conditions: z.array(ConditionOutSchema),
});
export type RoleBinding = z.infer<typeof RoleBindingSchema>;

export const CreateRoleBindingBodySchema = strictObject({
  roleId: PolicyIdSchema,
  subject: SubjectInSchema,
  /** A resource path: the role's permissions apply only to it and what is below it. */
  scope: ResourcePathSchema.optional(),
  /** The binding applies strictly before this instant. */
  expiresAt: TimestampSchema.optional(),
  conditions: ConditionsSchema.optional(),
});
export const CreateRoleBindingRequestSchema = strictObject({
  ...TenantScoped,
  ...CreateRoleBindingBodySchema.shape,
});

export const ListRoleBindingsQuerySchema = strictObject({
  ...PageQuerySchema.shape,
  subjectType: z
    .enum(POLICY_SUBJECT_TYPES, { error: 'must be one of user, group, api_key, service_account' })
    .optional(),
  subjectId: text({ min: 1, max: 256 }).optional(),
  roleId: PolicyIdSchema.optional(),
});
export const ListRoleBindingsRequestSchema = strictObject({
  ...TenantScoped,
  ...ListRoleBindingsQuerySchema.shape,
});
export const RoleBindingRefSchema = strictObject({ ...TenantScoped, bindingId: PolicyIdSchema });
export const RoleBindingPageSchema = pageOf(RoleBindingSchema);

export const RoleBindingRpc = {
  create: defineRpc(
    'policy.role-bindings.create',
    CreateRoleBindingRequestSchema,
    RoleBindingSchema,
  ),
  get: defineRpc('policy.role-bindings.get', RoleBindingRefSchema, RoleBindingSchema),
  list: defineRpc(
    'policy.role-bindings.list',
    ListRoleBindingsRequestSchema,
    RoleBindingPageSchema,
  ),
  delete: defineRpc(
    'policy.role-bindings.delete',
    RoleBindingRefSchema,
    z.object({ deleted: z.literal(true) }),
  ),
};
