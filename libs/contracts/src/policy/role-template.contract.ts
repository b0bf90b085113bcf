import { z } from 'zod';
import { defineRpc } from '../common/rpc.js';
import { PageQuerySchema, pageOf, strictObject } from '../common/primitives.js';
import { token } from '../common/text.js';
import {
  ConditionOutSchema,
  ConditionsSchema,
  KebabIdSchema,
  PolicyDescriptionSchema,
  PolicyIdSchema,
  PolicyNameSchema,
  TenantScoped,
} from './policy-parts.js';
import { VariableNameSchema } from './role.contract.js';

/** A template's permission or inherited role: may hold `{variable}` placeholders. */
const TemplateTextSchema = token(
  /^[\x21-\x7E]{1,512}$/,
  'must be printable ASCII without spaces; `{variable}` stands for a variable',
  512,
);

/**
 * A role template: a role with `{variables}` in its name, description, permissions and
 * inherits, which roles instantiate (`template` and `variables` of a role). System templates
 * (`system: true`) are built in and read-only; a tenant adds its own.
 */
export const RoleTemplateSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  system: z.boolean(),
  variables: z.array(z.string()),
  permissions: z.array(z.string()),
  inherits: z.array(z.string()),
  conditions: z.array(ConditionOutSchema),
});
export type RoleTemplate = z.infer<typeof RoleTemplateSchema>;

export const CreateRoleTemplateBodySchema = strictObject({
  id: KebabIdSchema,
  /** May use the variables: `Reader of {department}`. */
  name: PolicyNameSchema,
  description: PolicyDescriptionSchema.optional(),
  variables: z
    .array(VariableNameSchema)
    .max(10, { error: 'must list at most 10 variables' })
    .optional(),
  permissions: z
    .array(TemplateTextSchema)
    .min(1, { error: 'must list at least one permission' })
    .max(1000, { error: 'must list at most 1000 permissions' }),
  inherits: z
    .array(TemplateTextSchema)
    .max(100, { error: 'must list at most 100 roles' })
    .optional(),
  conditions: ConditionsSchema.optional(),
});
export const CreateRoleTemplateRequestSchema = strictObject({
  ...TenantScoped,
  ...CreateRoleTemplateBodySchema.shape,
});

export const RoleTemplateRefSchema = strictObject({ ...TenantScoped, templateId: PolicyIdSchema });
export const ListRoleTemplatesRequestSchema = strictObject({
  ...TenantScoped,
  ...PageQuerySchema.shape,
});
export const RoleTemplatePageSchema = pageOf(RoleTemplateSchema);

export const RoleTemplateRpc = {
  create: defineRpc(
    'policy.role-templates.create',
    CreateRoleTemplateRequestSchema,
    RoleTemplateSchema,
  ),
  get: defineRpc('policy.role-templates.get', RoleTemplateRefSchema, RoleTemplateSchema),
  list: defineRpc(
    'policy.role-templates.list',
    ListRoleTemplatesRequestSchema,
    RoleTemplatePageSchema,
  ),
  delete: defineRpc(
    'policy.role-templates.delete',
    RoleTemplateRefSchema,
    z.object({ deleted: z.literal(true) }),
  ),
};
