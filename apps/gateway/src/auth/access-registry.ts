import { Inject, Injectable, RequestMethod, type Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { HealthPaths } from '@tenantry/contracts';
import { ACCESS_METADATA, type Access, type PermissionRequirement } from './access.decorators.js';

/** One route of a Nest controller and who may call it. */
export interface RouteAccess {
  method: string;
  /** As Nest registers it: `/v1/tenants/:tenantId/users`. */
  path: string;
  /** `TenantController.get`, for messages. */
  name: string;
  /** Undefined when the route declares nothing: the gateway refuses to start. */
  access?: Access;
  /** Probes and metrics (the runtime's controllers): open, as a scraper or kubelet calls them. */
  infrastructure: boolean;
}

/** What the guard needs per handler, worked out once. */
export interface CompiledAccess {
  kind: Access['kind'];
  /** @Permission routes. */
  requirement?: PermissionRequirement;
  /** The path parameter naming the route's tenant, if any. */
  tenantParam?: string;
  /** `POST /v1/tenants/:tenantId/users`, for the audit log. */
  route: string;
}

/**
 * Routes Nest does not declare but the gateway serves without credentials: the runtime's
 * probes and metrics (on every service's port, for kubelets and Prometheus).
 */
const INFRASTRUCTURE = new Set(Object.values(HealthPaths).map((path) => `GET ${path}`));

/**
 * Routes served by Fastify itself rather than a Nest controller: the OpenAPI document and
 * Swagger UI (SwaggerModule.setup). Public; anything else outside Nest refuses the start.
 */
export const FRAMEWORK_PUBLIC_ROUTES = [/^\/openapi\.(json|yaml)$/, /^\/docs(\/.*)?$/] as const;

export class UndeclaredRoutesError extends Error {
  constructor(readonly routes: string[]) {
    super(
      `${routes.length} route(s) declare no access rule: ${routes.join('; ')}. ` +
        "Give each @Permission('<resource>:<action>') (or @Public(), or @Authenticated() for a route that authorizes by itself; apps/gateway/src/auth/access.decorators.ts); the gateway does not start until every route says who may call it.",
    );
    this.name = 'UndeclaredRoutesError';
  }
}

function joinPath(...parts: string[]): string {
  const path = `/${parts.join('/')}`.replace(/\/+/g, '/');
  return path.length > 1 ? path.replace(/\/$/, '') : path;
}

/**
 * Every controller route and its @Public/@Authenticated/@Permission declaration, found through Nest's
 * discovery. The guard looks rules up by handler (one map lookup); the start-up check and
 * the OpenAPI document use the list.
 */
@Injectable()
export class AccessRegistry {
  private scanned?: RouteAccess[];
  private readonly byHandler = new Map<unknown, CompiledAccess>();

  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) private readonly scanner: MetadataScanner,
  ) {}

  routes(): readonly RouteAccess[] {
    this.scanned ??= this.scan();
    return this.scanned;
  }

  /** The handler's compiled rule; undefined for a handler that is not a declared route. */
  forHandler(handler: unknown): CompiledAccess | undefined {
    if (!this.scanned) this.routes();
    return this.byHandler.get(handler);
  }

  /**
   * Throws UndeclaredRoutesError naming every route without a declaration, and every
   * route Fastify serves (`fastifyRoutes`: method and URL) that is neither a Nest route
   * nor a known public framework route.
   */
  assertEveryRouteDeclared(fastifyRoutes: readonly { method: string; url: string }[] = []): void {
    const routes = this.routes();
    const missing = routes
      .filter((r) => !r.access && !r.infrastructure)
      .map((r) => `${r.method} ${r.path} (${r.name})`);
    const known = new Set(routes.map((r) => `${r.method} ${r.path}`));
    for (const { method, url } of fastifyRoutes) {
      const m = method.toUpperCase();
      if (m === 'HEAD' || m === 'OPTIONS') continue;
      const path = url.length > 1 ? url.replace(/\/$/, '') : url;
      if (known.has(`${m} ${path}`)) continue;
      if (FRAMEWORK_PUBLIC_ROUTES.some((pattern) => pattern.test(url))) continue;
      missing.push(`${m} ${url} (registered on Fastify directly)`);
    }
    for (const route of routes) {
      const access = route.access;
      const named =
        access?.kind === 'permission'
          ? [access.requirement.tenantParam, ...access.requirement.params]
          : [];
      const segments = route.path.split('/');
      for (const param of named) {
        if (param && !segments.includes(`:${param}`))
          missing.push(`${route.method} ${route.path} (${route.name}: no :${param} parameter)`);
      }
    }
    if (missing.length) throw new UndeclaredRoutesError([...new Set(missing)]);
  }

  private scan(): RouteAccess[] {
    const routes: RouteAccess[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const { instance, metatype } = wrapper;
      if (!instance || !metatype) continue;
      const controller = metatype as Type;
      const prefixes = [Reflect.getMetadata(PATH_METADATA, controller) ?? '/'].flat() as string[];
      const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[methodName];
        if (typeof handler !== 'function') continue;
        const paths = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        if (paths === undefined) continue;
        const requestMethod = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod;
        const method = RequestMethod[requestMethod] ?? String(requestMethod);
        const access = (Reflect.getMetadata(ACCESS_METADATA, handler) ??
          Reflect.getMetadata(ACCESS_METADATA, controller)) as Access | undefined;
        for (const prefix of prefixes) {
          for (const sub of [paths].flat()) {
            const path = joinPath(prefix, sub);
            const infrastructure = !access && INFRASTRUCTURE.has(`${method} ${path}`);
            routes.push({
              method,
              path,
              name: `${controller.name}.${methodName}`,
              access,
              infrastructure,
            });
            if ((access || infrastructure) && !this.byHandler.has(handler))
              this.byHandler.set(handler, compile(access, method, path));
          }
        }
      }
    }
    return routes;
  }
}

function compile(access: Access | undefined, method: string, path: string): CompiledAccess {
  const route = `${method} ${path}`;
  if (!access || access.kind === 'public') return { kind: 'public', route };
  const declared = access.kind === 'permission' ? access.requirement.tenantParam : undefined;
  const tenantParam = declared ?? (path.split('/').includes(':tenantId') ? 'tenantId' : undefined);
  return {
    kind: access.kind,
    route,
    tenantParam,
    ...(access.kind === 'permission' ? { requirement: access.requirement } : {}),
  };
}
