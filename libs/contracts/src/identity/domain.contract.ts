import { z } from 'zod';
import { defineRpc } from '../common/rpc.js';
import {
  PageQuerySchema,
  pageOf,
  strictObject,
  TimestampSchema,
  UuidSchema,
} from '../common/primitives.js';
import { text } from '../common/text.js';

export const DOMAIN_STATUSES = ['pending', 'verified'] as const;
export type DomainStatus = (typeof DOMAIN_STATUSES)[number];

/** The TXT record that proves control of `<domain>` lives at `<this>.<domain>`. */
export const DOMAIN_VERIFICATION_LABEL = '_tenantry-verification';
/** The TXT record's value: this, then the domain's token. */
export const DOMAIN_VERIFICATION_VALUE_PREFIX = 'tenantry-domain-verification=';

/**
 * An email domain a tenant claims. Once verified (a TXT record proves the tenant controls
 * its DNS), sign-ins of that domain can be sent to the tenant's SSO; a domain is verified
 * by at most one tenant at a time.
 */
export const DomainSchema = z.object({
  id: UuidSchema,
  tenantId: UuidSchema,
  /** Lowercase, internationalized names in punycode (`xn--…`). */
  domain: z.string(),
  status: z.enum(DOMAIN_STATUSES),
  /** The DNS record to create at the domain's DNS provider, then POST …/verify. */
  verification: z.object({
    type: z.literal('TXT'),
    /** `_tenantry-verification.<domain>` */
    name: z.string(),
    /** `tenantry-domain-verification=<token>` */
    value: z.string(),
  }),
  verifiedAt: TimestampSchema.nullable(),
  createdAt: TimestampSchema,
});
export type Domain = z.infer<typeof DomainSchema>;

export const CreateDomainBodySchema = strictObject({
  /** A host name such as `example.com` (no scheme, port, wildcard or trailing dot). */
  domain: text({ min: 1, max: 253 }),
});
export const CreateDomainRequestSchema = strictObject({
  tenantId: UuidSchema,
  ...CreateDomainBodySchema.shape,
});
export const DomainRefSchema = strictObject({ tenantId: UuidSchema, domainId: UuidSchema });
export const ListDomainsRequestSchema = strictObject({
  tenantId: UuidSchema,
  ...PageQuerySchema.shape,
});
export const DomainPageSchema = pageOf(DomainSchema);

export const DomainRpc = {
  create: defineRpc('identity.domains.create', CreateDomainRequestSchema, DomainSchema),
  get: defineRpc('identity.domains.get', DomainRefSchema, DomainSchema),
  list: defineRpc('identity.domains.list', ListDomainsRequestSchema, DomainPageSchema),
  /** Looks the TXT record up now: the domain verified, or an error saying what was found. */
  verify: defineRpc('identity.domains.verify', DomainRefSchema, DomainSchema),
  delete: defineRpc(
    'identity.domains.delete',
    DomainRefSchema,
    z.object({ deleted: z.literal(true) }),
  ),
};
