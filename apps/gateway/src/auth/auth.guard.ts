import {
  Inject,
  Injectable,
  type CanActivate,
  type ExecutionContext,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { PLATFORM_TENANT_ID, tenantNotFound, type Principal } from '@tenantry/contracts';
import { messageContext } from '@tenantry/messaging';
import type { FastifyRequest } from 'fastify';
import { Authorizer } from '../authz/authorizer.js';
import { AuthzErrors } from '../authz/authz.errors.js';
import { RouteTable } from '../http/route-table.js';
import { TenantAccessGate } from '../tenant-access/tenant-access.gate.js';
import { AccessRegistry, type CompiledAccess } from './access-registry.js';
import type { Authenticated } from './access-token.verifier.js';
import { AuthErrors } from './auth.errors.js';
import { Authenticator } from './authenticator.js';
import { TenantDirectory } from './tenant-directory.js';

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * The gateway's one access check, on every route (APP_GUARD): authenticates the caller,
 * puts the principal on the request and in the message context (so every NATS hop carries
 * the actor and tenant), refuses a principal whose tenant is barred or whose address is
 * outside the tenant's IP allow list (`TenantAccessGate`), then authorizes by the route's
 * @Permission, decided here with the policy of the caller's tenant (`Authorizer`), and
 * finally counts an allowed request against its tenant's API call limits. A route of another
 * tenant is the tenant-not-found 404, made here and only here, before any decision; a route
 * of a tenant that does not exist the same 404. At start-up it refuses to let the gateway
 * run while a route declares nothing.
 */
@Injectable()
export class AuthGuard implements CanActivate, OnApplicationBootstrap {
  constructor(
    @Inject(AccessRegistry) private readonly registry: AccessRegistry,
    @Inject(Authenticator) private readonly authenticator: Authenticator,
    @Inject(TenantDirectory) private readonly tenants: TenantDirectory,
    @Inject(Authorizer) private readonly authorizer: Authorizer,
    @Inject(TenantAccessGate) private readonly access: TenantAccessGate,
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
  ) {}

  onApplicationBootstrap(): void {
    const table = this.moduleRef.get(RouteTable, { strict: false });
    this.registry.assertEveryRouteDeclared(table.entries());
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const route = this.registry.forHandler(context.getHandler());
    if (!route) throw AuthErrors.routeUndeclared();
    if (route.kind === 'public') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const authenticated = this.authenticator.authenticate(request.headers);
    return authenticated instanceof Promise
      ? authenticated.then((a) => this.authorize(route, request, a))
      : this.authorize(route, request, authenticated);
  }

  private authorize(
    route: CompiledAccess,
    request: FastifyRequest,
    { principal, actor }: Authenticated,
  ): boolean | Promise<boolean> {
    request.principal = principal;
    const param = route.tenantParam
      ? (request.params as Record<string, string | undefined>)[route.tenantParam]
      : undefined;
    // Not a UUID: no tenant's; the route's validation answers it (400) as for anyone.
    const routeTenant = param !== undefined && UUID.test(param) ? param : undefined;
    const context = messageContext.current();
    if (context) {
      context.actor = actor;
      context.tenantId = principal.tenantId ?? routeTenant?.toLowerCase();
    }
    // The caller's tenant first: barred, or the client outside its allow list, is refused
    // whatever the route. Operators and platform API keys belong to no tenant: never refused.
    const limited = this.access.admit(principal, request.ip);
    const allowed = this.decide(route, request, principal, param, routeTenant);
    if (!limited) return allowed;
    return allowed instanceof Promise
      ? allowed.then((ok) => this.access.count(limited).then(() => ok))
      : this.access.count(limited).then(() => allowed);
  }

  private decide(
    route: CompiledAccess,
    request: FastifyRequest,
    principal: Principal,
    param: string | undefined,
    routeTenant: string | undefined,
  ): boolean | Promise<boolean> {
    if (routeTenant !== undefined && isOtherTenant(principal, routeTenant))
      throw tenantNotFound(param!);
    const ofNoTenant = routeTenant !== undefined && principal.tenantId === null;
    // @Authenticated: the route decides what the caller may see.
    if (route.kind !== 'permission')
      return ofNoTenant ? this.tenantExists(routeTenant!, param!) : true;
    const requirement = route.requirement!;
    if (requirement.principals && !requirement.principals.includes(principal.kind))
      throw AuthzErrors.principalKindRefused(
        principal.kind,
        requirement.principals,
        requirement.permission,
      );
    const decision = this.authorizer.forRoute(
      requirement,
      principal,
      { ip: request.ip, params: request.params as Record<string, string | undefined> },
      route.route,
      routeTenant?.toLowerCase(),
    );
    if (!decision.allowed) throw AuthzErrors.fromDecision(decision, requirement.permission);
    // Operators and platform API keys belong to no tenant: the route's must exist.
    return ofNoTenant ? this.tenantExists(routeTenant!, param!) : true;
  }

  private tenantExists(routeTenant: string, param: string): boolean | Promise<boolean> {
    if (this.tenants.isKnown(routeTenant)) return true;
    return this.tenants.exists(routeTenant).then((exists) => {
      if (!exists) throw tenantNotFound(param);
      return true;
    });
  }
}

/**
 * Another tenant's route, for this principal: any tenant but its own, and the platform's id
 * (never a tenant) for everyone. Answered with exactly the 404 of a tenant that does not exist.
 */
function isOtherTenant(principal: Principal, routeTenant: string): boolean {
  if (routeTenant === PLATFORM_TENANT_ID) return true;
  const own = principal.tenantId;
  return own !== null && routeTenant !== own && routeTenant.toLowerCase() !== own.toLowerCase();
}
