import { APP_FILTER } from '@nestjs/core';
import { ServiceModule, type ServiceDefinition } from '@tenantry/runtime';
import { AuditApiModule } from './audit/audit-api.module.js';
import { AuthModule } from './auth/auth.module.js';
import { AuthzModule } from './authz/authz.module.js';
import { GatewaySettingsSchema } from './gateway.settings.js';
import { clientErrorHandler, frameworkErrors, installHttpEdge } from './http/http-edge.js';
import { setupOpenApi } from './http/openapi.js';
import { ProblemDetailsFilter } from './http/problem-details.filter.js';
import { RouteTable } from './http/route-table.js';
import { IdentityApiModule } from './identity/identity-api.module.js';
import { PlatformHealthModule } from './platform-health/platform-health.module.js';
import { PolicyApiModule } from './policy/policy-api.module.js';
import { TenantsApiModule } from './tenants/tenants-api.module.js';

/**
 * The gateway: the one HTTP front door; authentication (AuthModule) and authorization with the
 * tenants' policies (AuthzModule) for every route, and one module per service it fronts.
 */
export const service: ServiceDefinition = {
  name: 'gateway',
  needs: { redis: true, settings: GatewaySettingsSchema },
  fastify: {
    // Errors Node's parser and Fastify's router answer before any hook runs: problem documents too.
    clientErrorHandler,
    frameworkErrors,
    // A request (headers and body) not received within a minute is a 408 problem, not a
    // connection held open forever (Fastify's default is no limit).
    requestTimeout: 60_000,
  },
  module: (config) =>
    ServiceModule.forRoot(config, {
      // EVENTS: every instance follows identity's revocations in it (made sure of here, so
      // the gateway does not depend on identity having started first). AUDIT: it records
      // authorization decisions there.
      streams: ['EVENTS', 'AUDIT'],
      serveRpc: false,
      features: [
        AuthzModule,
        AuthModule,
        PlatformHealthModule,
        TenantsApiModule,
        AuditApiModule,
        IdentityApiModule,
        PolicyApiModule,
      ],
      providers: [RouteTable, { provide: APP_FILTER, useClass: ProblemDetailsFilter }],
    }),
  configure: (app) => {
    installHttpEdge(app);
    setupOpenApi(app);
  },
};
