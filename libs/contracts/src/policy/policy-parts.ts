/**
 * The pieces the policy service's contracts share: ids, permissions, resource paths,
 * subjects and conditions as a client sends them. These check shape and size only; the
 * policy engine (`@tenantry/policy-engine`, which contracts may not import) validates the
 * meaning when the service compiles the changed document, and its errors name the same
 * fields (`permissions.0: permission …`, `inherits.0: unknown role "x"`).
 */
import { z } from 'zod';
import { strictObject, UuidSchema } from '../common/primitives.js';
import { jsonObject, text, token } from '../common/text.js';

/** Subjects a role can be bound to. */
export const POLICY_SUBJECT_TYPES = ['user', 'group', 'api_key', 'service_account'] as const;
export type PolicySubjectType = (typeof POLICY_SUBJECT_TYPES)[number];

/** A role or template id a client chooses: kebab-case. */
export const KEBAB_ID_PATTERN = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
export const KebabIdSchema = token(
  KEBAB_ID_PATTERN,
  'must be kebab-case: lowercase letters and digits in words joined by -, starting with a letter (at most 64 characters)',
  64,
);

/** Any id of a policy document (roles, templates, bindings, rules): what a path names. */
export const POLICY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
export const PolicyIdSchema = token(
  POLICY_ID_PATTERN,
  'must be an id: letters, digits and . _ : @ - (at most 128, starting with a letter or digit)',
  128,
);

/** `resource:action`; the engine checks the syntax (`invoices:read`, `projects/42:*`, `*:read`). */
export const PermissionSchema = token(
  /^[\x21-\x7E]{1,512}$/,
  'must be a permission `resource:action` (printable ASCII, no spaces), e.g. `invoices:read`',
  512,
);
export const PermissionsSchema = z
  .array(PermissionSchema)
  .max(1000, { error: 'must list at most 1000 permissions' });

/** A resource path (`projects/42`); the engine checks its segments. */
export const ResourcePathSchema = token(
  /^[\x21-\x7E]{1,512}$/,
  'must be a resource path (printable ASCII, no spaces), e.g. `projects/42`',
  512,
);

export const PolicyNameSchema = text({ max: 200, name: true });
export const PolicyDescriptionSchema = text({ max: 2000, multiline: true });

/**
 * Conditions (`cidr`, `time-window`, `mfa-within`, `country`, `device-trust`, `attribute`;
 * see the policy engine's README): JSON objects, validated by the engine.
 */
export const ConditionsSchema = z
  .array(jsonObject(16 * 1024))
  .max(20, { error: 'must list at most 20 conditions' });
/** A condition as the service answers it. */
export const ConditionOutSchema = z.record(z.string(), z.unknown());

export const SubjectInSchema = strictObject({
  type: z.enum(POLICY_SUBJECT_TYPES, {
    error: 'must be one of user, group, api_key, service_account',
  }),
  /** A user, API key or service account id, or a group name (SSO/SCIM). */
  id: text({ min: 1, max: 256 }),
});
export const SubjectOutSchema = z.object({
  type: z.enum(POLICY_SUBJECT_TYPES),
  id: z.string(),
});

export const TenantScoped = { tenantId: UuidSchema };
