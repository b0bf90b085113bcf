import { z } from 'zod';
import { TimestampSchema, UuidSchema } from '../common/primitives.js';
import { token } from '../common/text.js';

/**
 * The platform "tenant": platform operators and platform API keys live under this id in
 * identity's tables, so the same row-level security covers them. It is never a real tenant.
 */
export const PLATFORM_TENANT_ID = '00000000-0000-0000-0000-000000000000';

/** Roles known to the platform until the policy service gives roles their full meaning. */
export const Roles = {
  /** Runs the whole installation: may act on any tenant (audited as cross-tenant). */
  platformOperator: 'platform-operator',
  /** Manages a tenant's users, keys and settings. */
  tenantAdmin: 'tenant-admin',
  /** A user of a tenant without administrative rights. */
  member: 'member',
} as const;

export const ROLE_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
export const RoleSchema = token(
  ROLE_PATTERN,
  'must be a role name: lowercase letters, digits and -',
  63,
);

/** A permission as an API key's scope: `resource:action`, `*` allowed on either side. */
export const SCOPE_PATTERN = /^(\*|[a-z][a-z0-9-]*):(\*|[a-z][a-z0-9-]*)$/;
export const ScopeSchema = token(
  SCOPE_PATTERN,
  'must be a scope `resource:action` (lowercase, `*` allowed on either side), e.g. `audit:read`',
  100,
);

export const PRINCIPAL_KINDS = ['user', 'operator', 'api_key'] as const;
export type PrincipalKind = (typeof PRINCIPAL_KINDS)[number];

/**
 * Who is calling, as the gateway established it: a platform operator, a user of one tenant,
 * or an API key (of one tenant, or of the platform: tenantId null). Every request the
 * gateway forwards carries it (the Tenantry-Actor header), so services know the real actor.
 */
export const PrincipalSchema = z.object({
  kind: z.enum(PRINCIPAL_KINDS),
  /** User id, operator (user) id, or API key id. */
  id: UuidSchema,
  /** The tenant the principal belongs to; null for operators and platform API keys. */
  tenantId: UuidSchema.nullable(),
  roles: z.array(z.string()),
  /** API keys only: the permissions the key was given. */
  scopes: z.array(z.string()),
  /** Users and operators: the session the access token belongs to. */
  sessionId: UuidSchema.optional(),
  /** Users and operators: how they authenticated (`pwd`, `otp`, ...). */
  amr: z.array(z.string()).optional(),
  authTime: TimestampSchema.optional(),
  /** API keys: when the key stops working (its expiry, or the end of a rotation's overlap). */
  expiresAt: TimestampSchema.nullable().optional(),
});
export type Principal = z.infer<typeof PrincipalSchema>;

/**
 * The `Tenantry-Actor` header: `<kind>:<id>` (`user:…`, `operator:…`, `api_key:…`, or
 * `service:<name>` for a service acting on its own). Services take it as the audit actor.
 */
export function actorOf(principal: Pick<Principal, 'kind' | 'id'>): string {
  return `${principal.kind}:${principal.id}`;
}

export const ACTOR_TYPES = ['user', 'operator', 'api_key', 'service', 'system'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

/** The actor of a `Tenantry-Actor` header; undefined when it is missing or not of that shape. */
export function parseActor(
  header: string | undefined,
): { type: ActorType; id: string } | undefined {
  if (!header) return undefined;
  const at = header.indexOf(':');
  const type = header.slice(0, at) as ActorType;
  const id = header.slice(at + 1);
  return at > 0 && id && (ACTOR_TYPES as readonly string[]).includes(type)
    ? { type, id }
    : undefined;
}
