import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import { SCOPE_PATTERN, type Principal } from '@tenantry/contracts';
import type { FastifyRequest } from 'fastify';
import { AuthErrors } from './auth.errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling, as the gateway established it; set on every route but the public ones. */
    principal?: Principal;
  }
}

/** Who may call a route. Each kind of principal is allowed only by its own field. */
export interface AccessRule {
  /** Platform operators. */
  operator?: boolean;
  /** Users of a tenant: any signed-in user ('*'), or one with one of these roles. */
  tenantRoles?: readonly string[] | '*';
  /** API keys that have every one of these scopes (`resource:action`). */
  scopes?: readonly string[];
  /**
   * The path parameter that names the route's tenant, when it is not `:tenantId`
   * (`GET /v1/tenants/:id`). A principal of another tenant gets the tenant-not-found 404.
   */
  tenantParam?: string;
}

export type Access = { public: true } | { public: false; rule: AccessRule };

export const ACCESS_METADATA = 'tenantry:access';

/** Anyone may call the route, without credentials (login, health, the JWKS). */
export const Public = () => SetMetadata(ACCESS_METADATA, { public: true } satisfies Access);

/**
 * Who may call the route: operators, tenant users with a role, API keys with scopes. Every
 * route has @Public() or @Allow(); the gateway refuses to start when one has neither.
 */
export function Allow(rule: AccessRule) {
  if (!rule.operator && !rule.tenantRoles && !rule.scopes?.length) {
    throw new Error('@Allow() must allow someone: operator, tenantRoles or scopes');
  }
  for (const scope of rule.scopes ?? []) {
    if (!SCOPE_PATTERN.test(scope)) throw new Error(`@Allow(): "${scope}" is not a scope`);
  }
  return SetMetadata(ACCESS_METADATA, { public: false, rule } satisfies Access);
}

/** The route's caller (any route with @Allow). */
export const Caller = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const principal = context.switchToHttp().getRequest<FastifyRequest>().principal;
  if (!principal) throw AuthErrors.routeUndeclared();
  return principal;
});
