import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import { type Principal, type PrincipalKind } from '@tenantry/contracts';
import { parsePattern } from '@tenantry/policy-engine';
import type { FastifyRequest } from 'fastify';
import { AuthErrors } from './auth.errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling, as the gateway established it; set on every route but the public ones. */
    principal?: Principal;
  }
}

export interface PermissionOptions {
  /**
   * The path parameter that names the route's tenant, when it is not `:tenantId`
   * (`GET /v1/tenants/:id`). A principal of another tenant gets the tenant-not-found 404.
   */
  tenantParam?: string;
  /**
   * Platform administration (tenants, signing keys, the platform's settings and keys): decided
   * by the platform tenant's policy, where only operators and platform API keys can be granted
   * anything. Without it the decision is the caller's own tenant's (operators' and platform API
   * keys': the platform's).
   */
  platform?: boolean;
  /**
   * The kinds of principal the route serves at all, before any policy: `['user', 'operator']`
   * for a route about the caller's own account (an API key has no profile, password or session).
   * Every kind when absent.
   */
  principals?: readonly PrincipalKind[];
}

/**
 * Routes about the caller's own account (profile, password, MFA, sessions, sign-out): users and
 * operators, with `profile:read` / `profile:write` (the default `member` role grants `profile:*`);
 * not API keys, which have no user, session or password.
 */
export const OWN_ACCOUNT = {
  principals: ['user', 'operator'],
} as const satisfies PermissionOptions;

/**
 * Platform administration (tenants, signing keys, the platform's settings and API keys): decided
 * by the platform tenant's policy, where the default binds `platform-operator` (`*:*`) to
 * operators; for operators only, as before the policy service (a platform API key could otherwise
 * be given these by its scopes).
 */
export const PLATFORM_ADMINISTRATION = {
  platform: true,
  principals: ['operator'],
} as const satisfies PermissionOptions;

/** A route's @Permission, parsed once when the code loads. */
export interface PermissionRequirement extends PermissionOptions {
  /** As written: `users:write`, `projects/{projectId}:write`. */
  permission: string;
  action: string;
  /** The resource path, with `{param}` where a route parameter goes. */
  resource: string;
  /** The route parameters the resource names, in order. */
  params: string[];
}

/**
 * A bearer credential that a public route's service verifies itself on every call, not one
 * of the gateway's (an access token or API key): a SCIM directory's token, an SSO setup
 * session. Documented in the OpenAPI document as the route's security.
 */
export type OwnCredential = 'scimToken' | 'setupSession';

export type Access =
  | { kind: 'public'; credential?: OwnCredential }
  | { kind: 'authenticated' }
  | { kind: 'permission'; requirement: PermissionRequirement };

export const ACCESS_METADATA = 'tenantry:access';

/** Anyone may call the route, without credentials (login, health, the JWKS). */
export const Public = (options: { credential?: OwnCredential } = {}) =>
  SetMetadata(ACCESS_METADATA, { kind: 'public', ...options } satisfies Access);

/**
 * Any authenticated caller may call the route; the route itself decides what the caller may
 * see (`/v1/authz/*`: answers about the caller, and about others only with `authz:check`).
 */
export const Authenticated = () =>
  SetMetadata(ACCESS_METADATA, { kind: 'authenticated' } satisfies Access);

const PARAM = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Parses `resource:action`, where the resource may name route parameters as whole path segments
 * below its type (`projects/{projectId}:write`). Throws, naming the problem, on anything else.
 */
export function parsePermission(
  permission: string,
  options: PermissionOptions = {},
): PermissionRequirement {
  const fail = (why: string) => new Error(`@Permission('${permission}'): ${why}`);
  const params = [...permission.matchAll(PARAM)].map((m) => m[1]!);
  const parsed = parsePattern(permission.replace(PARAM, 'x'));
  if (typeof parsed === 'string') throw fail(`not a permission: it ${parsed}`);
  if (parsed.action === '*' || parsed.resource === '*' || parsed.below)
    throw fail('a route needs one action on one resource: no *');
  const segments = permission.slice(0, permission.lastIndexOf(':')).split('/');
  if (segments[0]!.includes('{')) throw fail('the resource type cannot be a route parameter');
  for (const segment of segments.slice(1)) {
    if (segment.includes('{') && !/^\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(segment))
      throw fail(`"${segment}": a route parameter must be a whole path segment`);
  }
  if (new Set(params).size !== params.length) throw fail('a route parameter is named twice');
  if (options.principals && options.principals.length === 0)
    throw fail('principals must name at least one kind');
  return {
    ...options,
    permission,
    action: parsed.action,
    resource: permission.slice(0, permission.lastIndexOf(':')),
    params,
  };
}

/**
 * The permission the caller needs, decided by the caller's tenant's policy (`@tenantry/policy-engine`):
 * `@Permission('users:write')`, `@Permission('tenants:read', { tenantParam: 'id' })`,
 * `@Permission('projects/{projectId}:write')`. Every route has @Public(), @Authenticated() or
 * @Permission(); the gateway refuses to start when one has none.
 */
export function Permission(permission: string, options: PermissionOptions = {}) {
  const requirement = parsePermission(permission, options);
  return SetMetadata(ACCESS_METADATA, { kind: 'permission', requirement } satisfies Access);
}

/** The route's caller (any route but the public ones). */
export const Caller = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const principal = context.switchToHttp().getRequest<FastifyRequest>().principal;
  if (!principal) throw AuthErrors.routeUndeclared();
  return principal;
});
