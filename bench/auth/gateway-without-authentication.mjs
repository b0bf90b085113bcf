// Bench-only build of the gateway: the same pipeline (routes, guard, authorization, tenant
// check, validation, NATS), except that authentication is a constant: every request is the
// platform operator below, whatever credentials it carries. The auth benchmark runs it beside
// the real gateway to show what authentication costs. Never used outside bench/.
import { runService } from '@tenantry/runtime';
import { Authenticator } from '../../apps/gateway/dist/auth/authenticator.js';
import { service } from '../../apps/gateway/dist/app.module.js';

const operator = {
  kind: 'operator',
  id: process.env.BENCH_OPERATOR_ID,
  tenantId: null,
  roles: ['platform-operator'],
  scopes: [],
};
const authenticated = { principal: operator, actor: `operator:${operator.id}` };
Authenticator.prototype.authenticate = () => authenticated;

await runService(service);
