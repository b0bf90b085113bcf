import { z } from 'zod';
import { defineRpc } from '../common/rpc.js';
import { strictObject, TimestampSchema, UuidSchema } from '../common/primitives.js';
import { jsonObject, text, token } from '../common/text.js';
import { TenantAcceptedSchema } from './tenant.contract.js';

const TemplateKeySchema = token(
  /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
  'must be a template key: 1 to 63 lowercase letters, digits or hyphens',
  63,
);
const VariableNameSchema = token(
  /^[a-zA-Z][a-zA-Z0-9_]{0,62}$/,
  'must be a variable name: a letter, then letters, digits or underscores',
  63,
);

export const TEMPLATE_VARIABLE_TYPES = ['string', 'number', 'boolean', 'timestamp'] as const;
export const TemplateVariableSchema = strictObject({
  name: VariableNameSchema,
  type: z.enum(TEMPLATE_VARIABLE_TYPES, {
    error: `must be one of ${TEMPLATE_VARIABLE_TYPES.join(', ')}`,
  }),
  required: z.boolean().default(true),
  default: z.union([text({ max: 1000 }), z.number(), z.boolean()]).optional(),
  description: text({ max: 500 }).optional(),
});

/**
 * A recipe for tenants: `body` is a CreateTenantRequest in which any string may hold
 * `{{variable}}` placeholders (a string that is exactly one placeholder takes the variable's
 * type: `"{{seats}}"` becomes a number). Rendering substitutes the variables, applies the
 * request's `overrides` by dotted path (`settings.mfaRequired`), then validates the result as
 * a CreateTenantRequest: an error names its path in the rendered request.
 */
export const TenantTemplateSchema = z.object({
  id: UuidSchema,
  key: z.string(),
  name: z.string(),
  description: z.string(),
  variables: z.array(TemplateVariableSchema),
  body: z.record(z.string(), z.unknown()),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
});
export type TenantTemplate = z.infer<typeof TenantTemplateSchema>;

export const CreateTemplateRequestSchema = strictObject({
  key: TemplateKeySchema,
  name: text({ max: 200, name: true }),
  description: text({ max: 1000, multiline: true }).default(''),
  variables: z.array(TemplateVariableSchema).max(50, { error: 'must list at most 50 variables' }),
  body: jsonObject(32 * 1024),
});
export const UpdateTemplateBodySchema = strictObject({
  name: text({ max: 200, name: true }).optional(),
  description: text({ max: 1000, multiline: true }).optional(),
  variables: z
    .array(TemplateVariableSchema)
    .max(50, { error: 'must list at most 50 variables' })
    .optional(),
  body: jsonObject(32 * 1024).optional(),
});
export const UpdateTemplateRequestSchema = strictObject({
  key: TemplateKeySchema,
  ...UpdateTemplateBodySchema.shape,
});
export const TemplateRefSchema = strictObject({ key: TemplateKeySchema });

export const TemplateVariablesSchema = z.record(
  VariableNameSchema,
  z.union([text({ max: 1000 }), z.number(), z.boolean()], {
    error: 'must be a string, number or boolean',
  }),
);
/** Dotted paths into the rendered request (`settings.mfaRequired`, `limitOverrides.users`) and their values. */
export const TemplateOverridesSchema = z.record(
  token(
    /^[a-zA-Z][a-zA-Z0-9]*(\.[a-zA-Z][a-zA-Z0-9]*)*$/,
    'must be a dotted path such as settings.mfaRequired',
    200,
  ),
  z.unknown(),
);
export const CreateTenantFromTemplateBodySchema = strictObject({
  variables: TemplateVariablesSchema.default({}),
  overrides: TemplateOverridesSchema.default({}),
});
export const CreateTenantFromTemplateRequestSchema = strictObject({
  key: TemplateKeySchema,
  ...CreateTenantFromTemplateBodySchema.shape,
});
/** What a template renders to with these variables and overrides (no tenant is created). */
export const RenderedTemplateSchema = z.object({ request: z.record(z.string(), z.unknown()) });

export const TemplateRpc = {
  create: defineRpc('tenants.templates.create', CreateTemplateRequestSchema, TenantTemplateSchema),
  get: defineRpc('tenants.templates.get', TemplateRefSchema, TenantTemplateSchema),
  list: defineRpc(
    'tenants.templates.list',
    strictObject({}),
    z.object({ items: z.array(TenantTemplateSchema) }),
  ),
  update: defineRpc('tenants.templates.update', UpdateTemplateRequestSchema, TenantTemplateSchema),
  delete: defineRpc(
    'tenants.templates.delete',
    TemplateRefSchema,
    z.object({ deleted: z.literal(true) }),
  ),
  /** Creates a tenant from the template (202, as `POST /v1/tenants`). */
  instantiate: defineRpc(
    'tenants.templates.instantiate',
    CreateTenantFromTemplateRequestSchema,
    TenantAcceptedSchema,
  ),
  render: defineRpc(
    'tenants.templates.render',
    CreateTenantFromTemplateRequestSchema,
    RenderedTemplateSchema,
  ),
};
