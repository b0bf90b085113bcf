import { z } from 'zod';
import { ObligationSchema } from '../common/errors.js';
import { strictObject, TimestampSchema } from '../common/primitives.js';
import { text, token } from '../common/text.js';

/**
 * `POST /v1/authz/check` and `POST /v1/authz/explain`: a product asks the gateway whether a
 * principal may do something, decided there with the tenant's policy (the same decisions the
 * gateway makes on its own routes). By default about the caller; with `principal`, about another
 * principal of the caller's tenant, which takes the permission `authz:check`.
 */

/** An action: `read`, `approve` (lowercase letters, digits and -, starting with a letter). */
export const AuthzActionSchema = token(
  /^[a-z][a-z0-9-]{0,63}$/,
  'must be an action: lowercase letters, digits and -, starting with a letter (e.g. read), at most 64',
  64,
);

/** A resource path: a type, then ids or names (`invoices`, `projects/42/tasks/7`). */
export const AuthzResourceSchema = token(
  /^[a-z][a-z0-9-]{0,63}(\/[A-Za-z0-9._~@-]{1,128}){0,15}$/,
  'must be a resource path: a type (lowercase letters, digits and -), then up to 15 segments of A-Z a-z 0-9 . _ ~ @ - after a / (e.g. projects/42/tasks/7)',
  512,
);

export const AuthzCheckSchema = strictObject({
  action: AuthzActionSchema,
  resource: AuthzResourceSchema,
});
export type AuthzCheck = z.output<typeof AuthzCheckSchema>;

export const AUTHZ_PRINCIPAL_KINDS = ['user', 'api_key', 'service_account'] as const;

/** Another principal of the caller's tenant, as the tenant's policy knows it. */
export const AuthzPrincipalSchema = strictObject({
  kind: z.enum(AUTHZ_PRINCIPAL_KINDS, { error: 'must be one of user, api_key, service_account' }),
  id: text({ min: 1, max: 200 }),
  /** Its groups (SSO/SCIM, or `tenantry:role:<role>` for an identity role): their bindings apply. */
  groups: z
    .array(text({ min: 1, max: 200 }))
    .max(100, { error: 'must list at most 100 groups' })
    .optional(),
});

const ATTRIBUTE_KEY = /^[A-Za-z][A-Za-z0-9._-]{0,99}$/;
export const AUTHZ_DEVICE_TRUST_LEVELS = ['none', 'registered', 'managed', 'compliant'] as const;

/**
 * What the policy's conditions look at. About the caller, the gateway's own facts win: the
 * client's IP and the caller's last MFA come from the request, whatever the body says.
 */
export const AuthzContextSchema = strictObject({
  /** The client's IPv4 or IPv6 address. */
  ip: token(/^[0-9A-Fa-f:.]{2,45}$/, 'must be an IPv4 or IPv6 address', 45).optional(),
  /** When the principal last did MFA. */
  mfaAt: TimestampSchema.optional(),
  /** ISO 3166-1 alpha-2, upper case (`FR`). */
  country: token(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 country code, e.g. FR', 2).optional(),
  deviceTrust: z
    .enum(AUTHZ_DEVICE_TRUST_LEVELS, {
      error: 'must be one of none, registered, managed, compliant',
    })
    .optional(),
  /** Attributes of the request or the resource (`resource.owner`), for attribute conditions. */
  attributes: z
    .record(
      token(ATTRIBUTE_KEY, 'must be an attribute name: letters, digits, . _ -, at most 100', 100),
      z.union([text({ max: 500 }), z.number(), z.boolean()], {
        error: 'must be a string, a number or a boolean',
      }),
    )
    .refine((value) => Object.keys(value).length <= 50, {
      error: 'must have at most 50 attributes',
    })
    .optional(),
});
export type AuthzContext = z.output<typeof AuthzContextSchema>;

/** One check, or a batch (`checks`, up to 100) for the same principal and context. */
export const AuthzCheckRequestSchema = strictObject({
  action: AuthzActionSchema.optional(),
  resource: AuthzResourceSchema.optional(),
  checks: z
    .array(AuthzCheckSchema)
    .min(1, { error: 'must list at least one check' })
    .max(100, { error: 'must list at most 100 checks' })
    .optional(),
  principal: AuthzPrincipalSchema.optional(),
  context: AuthzContextSchema.optional(),
}).superRefine((value, ctx) => {
  const single = value.action !== undefined || value.resource !== undefined;
  if (value.checks && single) {
    ctx.addIssue({
      code: 'custom',
      path: ['checks'],
      message: 'give either action and resource, or checks, not both',
    });
  } else if (!value.checks) {
    if (value.action === undefined)
      ctx.addIssue({ code: 'custom', path: ['action'], message: 'is required (or give checks)' });
    if (value.resource === undefined)
      ctx.addIssue({ code: 'custom', path: ['resource'], message: 'is required (or give checks)' });
  }
});
export type AuthzCheckRequest = z.output<typeof AuthzCheckRequestSchema>;

export const AuthzExplainRequestSchema = strictObject({
  action: AuthzActionSchema,
  resource: AuthzResourceSchema,
  principal: AuthzPrincipalSchema.optional(),
  context: AuthzContextSchema.optional(),
});
export type AuthzExplainRequest = z.output<typeof AuthzExplainRequestSchema>;

/** Why a decision is what it is (`@tenantry/policy-engine`'s reason kinds). */
export const AUTHZ_REASON_KINDS = [
  'granted',
  'deny-rule',
  'step-up-required',
  'condition-failed',
  'binding-expired',
  'no-grant',
  'outside-api-key-scopes',
  'cross-tenant',
  'invalid-request',
  'policy-unavailable',
  'evaluation-error',
] as const;

export const AuthzReasonSchema = z.object({
  kind: z.enum(AUTHZ_REASON_KINDS),
  /** One sentence for a tenant admin. */
  message: z.string(),
  bindingId: z.string().optional(),
  roleId: z.string().optional(),
  permission: z.string().optional(),
  ruleId: z.string().optional(),
  condition: z.string().optional(),
});

export const AuthzDecisionSchema = z.object({
  allowed: z.boolean(),
  reason: AuthzReasonSchema,
  /** What would make a denied request allowed: `step-up` (MFA within `mfaWithinMinutes`). */
  obligations: z.array(ObligationSchema),
  /** The version of the tenant's policy that decided; null when none was available. */
  policyVersion: z.number().int().nullable(),
});
export type AuthzDecision = z.output<typeof AuthzDecisionSchema>;

/** The answer to a batch: one decision per check, in the same order. */
export const AuthzDecisionsSchema = z.object({ results: z.array(AuthzDecisionSchema) });

export const AuthzExplanationSchema = z.object({
  decision: AuthzDecisionSchema,
  /** Every step that led to it, in words. */
  steps: z.array(z.string()),
});
