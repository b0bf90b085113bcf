import { z } from 'zod';
import { defineRpc } from '../common/rpc.js';
import {
  PageQuerySchema,
  pageOf,
  strictObject,
  TimestampSchema,
  UuidSchema,
} from '../common/primitives.js';
import { jsonObject, text, token } from '../common/text.js';

const OrgSlugSchema = token(
  /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
  'must be 1 to 63 lowercase letters, digits or hyphens, starting and ending with a letter or digit',
  63,
);

/** Organizations are at most this deep (a root is depth 1). */
export const MAX_ORGANIZATION_DEPTH = 10;

/**
 * A unit inside a tenant (a company's divisions, departments, teams): a tree. `settings` are
 * its own; `effectiveSettings` are its ancestors' merged down to it (a child's key wins).
 * `resourcePath` (`orgs/<slug>/<slug>…`) is the policy engine's resource path of the
 * organization: a role binding with this `scope` applies to it and every organization below.
 */
export const OrganizationSchema = z.object({
  id: UuidSchema,
  tenantId: UuidSchema,
  parentId: UuidSchema.nullable(),
  slug: z.string(),
  name: z.string(),
  depth: z.number().int(),
  resourcePath: z.string(),
  settings: z.record(z.string(), z.unknown()),
  effectiveSettings: z.record(z.string(), z.unknown()),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
});
export type Organization = z.infer<typeof OrganizationSchema>;

export const CreateOrganizationBodySchema = strictObject({
  name: text({ max: 200, name: true }),
  slug: OrgSlugSchema,
  parentId: UuidSchema.nullable().default(null),
  settings: jsonObject(16 * 1024).default({}),
});
const InTenant = { tenantId: UuidSchema };
const OneOrganization = { tenantId: UuidSchema, id: UuidSchema };
export const CreateOrganizationRequestSchema = strictObject({
  ...InTenant,
  ...CreateOrganizationBodySchema.shape,
});
export const UpdateOrganizationBodySchema = strictObject({
  name: text({ max: 200, name: true }).optional(),
  /** Replaces the organization's own settings. */
  settings: jsonObject(16 * 1024).optional(),
});
export const UpdateOrganizationRequestSchema = strictObject({
  ...OneOrganization,
  ...UpdateOrganizationBodySchema.shape,
});
/** Moves an organization (and its subtree) under another, or to the root with null; a cycle is refused. */
export const MoveOrganizationBodySchema = strictObject({ parentId: UuidSchema.nullable() });
export const MoveOrganizationRequestSchema = strictObject({
  ...OneOrganization,
  ...MoveOrganizationBodySchema.shape,
});
export const OrganizationRefSchema = strictObject(OneOrganization);
export const ListOrganizationsQuerySchema = strictObject({
  ...PageQuerySchema.shape,
  /** Only the direct children of this organization (`root` for the top level). */
  parentId: z.union([UuidSchema, z.literal('root')]).optional(),
  /** The whole subtree below this organization. */
  under: UuidSchema.optional(),
});
export const ListOrganizationsRequestSchema = strictObject({
  ...InTenant,
  ...ListOrganizationsQuerySchema.shape,
});
export const OrganizationPageSchema = pageOf(OrganizationSchema);

export const OrganizationRpc = {
  create: defineRpc(
    'tenants.organizations.create',
    CreateOrganizationRequestSchema,
    OrganizationSchema,
  ),
  get: defineRpc('tenants.organizations.get', OrganizationRefSchema, OrganizationSchema),
  list: defineRpc(
    'tenants.organizations.list',
    ListOrganizationsRequestSchema,
    OrganizationPageSchema,
  ),
  update: defineRpc(
    'tenants.organizations.update',
    UpdateOrganizationRequestSchema,
    OrganizationSchema,
  ),
  move: defineRpc('tenants.organizations.move', MoveOrganizationRequestSchema, OrganizationSchema),
  /** Deletes a leaf organization (one with children is refused). */
  delete: defineRpc(
    'tenants.organizations.delete',
    OrganizationRefSchema,
    z.object({ deleted: z.literal(true) }),
  ),
};
