import { z } from 'zod';
import { AppError, ErrorCode } from '../common/errors.js';
import { defineRpc } from '../common/rpc.js';
import {
  PageQuerySchema,
  pageOf,
  strictObject,
  TimestampSchema,
  UuidSchema,
} from '../common/primitives.js';
import { text, token } from '../common/text.js';

export const TENANT_STATUSES = [
  'provisioning',
  'active',
  'suspended',
  'deleting',
  'deleted',
] as const;

export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export const CreateTenantRequestSchema = strictObject({
  name: text({ max: 200, name: true }),
  slug: token(
    SLUG_PATTERN,
    'must be 1 to 63 lowercase letters, digits or hyphens, starting and ending with a letter or digit',
    63,
  ),
});
export type CreateTenantRequest = z.infer<typeof CreateTenantRequestSchema>;

export const TenantSchema = z.object({
  id: UuidSchema,
  name: z.string(),
  slug: z.string(),
  status: z.enum(TENANT_STATUSES),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
});
export type Tenant = z.infer<typeof TenantSchema>;

export const GetTenantRequestSchema = strictObject({ id: UuidSchema });
export const GetTenantBySlugRequestSchema = strictObject({
  slug: token(SLUG_PATTERN, 'must be a tenant slug', 63),
});

export const TENANT_NOT_FOUND = 'TENANT_NOT_FOUND';

/**
 * The one "no such tenant" answer. The gateway gives exactly this for a tenant that exists
 * but belongs to someone else, so a caller cannot tell the two apart.
 */
export function tenantNotFound(id: string): AppError {
  return new AppError(ErrorCode.NotFound, `tenant ${id} does not exist`, {
    reason: TENANT_NOT_FOUND,
  });
}

export const ListTenantsRequestSchema = PageQuerySchema;
export const TenantPageSchema = pageOf(TenantSchema);
export type TenantPage = z.infer<typeof TenantPageSchema>;

export const TenantRpc = {
  create: defineRpc('tenants.tenants.create', CreateTenantRequestSchema, TenantSchema),
  get: defineRpc('tenants.tenants.get', GetTenantRequestSchema, TenantSchema),
  getBySlug: defineRpc('tenants.tenants.get-by-slug', GetTenantBySlugRequestSchema, TenantSchema),
  list: defineRpc('tenants.tenants.list', ListTenantsRequestSchema, TenantPageSchema),
};

/** Domain events the tenants service publishes on the EVENTS stream. */
export const TenantEvents = {
  created: { subject: 'evt.tenants.tenant.created', schema: TenantSchema },
} as const;
