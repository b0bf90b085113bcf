// Bench-only build of the gateway: the same pipeline (routes, authentication, guard, tenant
// check, validation, NATS), except that a route's authorization decision is a constant allow:
// `Authorizer.forRoute` (the principal and resource as the engine's, the decision in the tenant's
// snapshot, its metric and audit sampling) is replaced, and nothing else. The authz benchmark runs
// it beside the real gateway to show what local authorization adds to the gateway's CPU per
// request. `/v1/authz/check` still decides (it calls `decide`, not `forRoute`). Never used
// outside bench/.
import { runService } from '@tenantry/runtime';
import { Authorizer } from '../../apps/gateway/dist/authz/authorizer.js';
import { service } from '../../apps/gateway/dist/app.module.js';

const allow = Object.freeze({
  allowed: true,
  reason: Object.freeze({ kind: 'granted', message: 'bench: route authorization bypassed' }),
  obligations: Object.freeze([]),
  policyVersion: null,
});
Authorizer.prototype.forRoute = () => allow;

await runService(service);
