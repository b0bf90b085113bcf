import { z } from 'zod';
import { defineRpc } from '../common/rpc.js';
import { PageQuerySchema, pageOf, strictObject } from '../common/primitives.js';
import { text, token } from '../common/text.js';
import {
  ConditionOutSchema,
  ConditionsSchema,
  KebabIdSchema,
  PermissionsSchema,
  PolicyDescriptionSchema,
  PolicyIdSchema,
  PolicyNameSchema,
  TenantScoped,
} from './policy-parts.js';

/** A template variable's name: `{department}` in a template is the variable `department`. */
export const VariableNameSchema = token(
  /^[a-z][a-zA-Z0-9_]{0,31}$/,
  'must be a variable name: a lowercase letter, then letters, digits or _ (at most 32)',
  32,
);
/** Values of a template's variables: path segments or paths (`finance`, `emea/paris`). */
export const VariablesSchema = z.record(VariableNameSchema, text({ min: 1, max: 256 }));
const InheritsSchema = z.array(PolicyIdSchema).max(100, { error: 'must list at most 100 roles' });

/**
 * A role of a tenant: a system role (`system: true`, from the built-in template of the same
 * id; read-only) or a custom one. `permissions`, `inherits` and `conditions` are the role's
 * own; `effectivePermissions` is everything it grants: its template's permissions and those
 * of every role it inherits, transitively.
 */
export const TenantRoleSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  system: z.boolean(),
  /** The template it instantiates (a system template or one of the tenant's), if any. */
  template: z.string().nullable(),
  variables: z.record(z.string(), z.string()).nullable(),
  permissions: z.array(z.string()),
  inherits: z.array(z.string()),
  conditions: z.array(ConditionOutSchema),
  effectivePermissions: z.array(z.string()),
});
export type TenantRole = z.infer<typeof TenantRoleSchema>;

/**
 * A custom role: its own permissions, or a template's (`template` with `variables`), plus
 * roles it inherits and conditions guarding everything it grants. The id is the client's
 * choice: kebab-case, unique in the tenant, not a system role's.
 */
export const CreateRoleBodySchema = strictObject({
  id: KebabIdSchema,
  /** Required unless the role instantiates a template (then the template's name by default). */
  name: PolicyNameSchema.optional(),
  description: PolicyDescriptionSchema.optional(),
  template: PolicyIdSchema.optional(),
  variables: VariablesSchema.optional(),
  permissions: PermissionsSchema.optional(),
  inherits: InheritsSchema.optional(),
  conditions: ConditionsSchema.optional(),
});
export const CreateRoleRequestSchema = strictObject({
  ...TenantScoped,
  ...CreateRoleBodySchema.shape,
});

/** Changes the given fields; `null` removes an optional one (description, template, variables). */
export const UpdateRoleBodySchema = strictObject({
  name: PolicyNameSchema.optional(),
  description: PolicyDescriptionSchema.nullable().optional(),
  template: PolicyIdSchema.nullable().optional(),
  variables: VariablesSchema.nullable().optional(),
  permissions: PermissionsSchema.optional(),
  inherits: InheritsSchema.optional(),
  conditions: ConditionsSchema.optional(),
});
export const UpdateRoleRequestSchema = strictObject({
  ...TenantScoped,
  roleId: PolicyIdSchema,
  ...UpdateRoleBodySchema.shape,
});

export const RoleRefSchema = strictObject({ ...TenantScoped, roleId: PolicyIdSchema });
export const ListRolesRequestSchema = strictObject({ ...TenantScoped, ...PageQuerySchema.shape });
export const RolePageSchema = pageOf(TenantRoleSchema);

export const RoleRpc = {
  create: defineRpc('policy.roles.create', CreateRoleRequestSchema, TenantRoleSchema),
  get: defineRpc('policy.roles.get', RoleRefSchema, TenantRoleSchema),
  list: defineRpc('policy.roles.list', ListRolesRequestSchema, RolePageSchema),
  update: defineRpc('policy.roles.update', UpdateRoleRequestSchema, TenantRoleSchema),
  delete: defineRpc('policy.roles.delete', RoleRefSchema, z.object({ deleted: z.literal(true) })),
};
