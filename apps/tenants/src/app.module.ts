import { backendService } from '@tenantry/persistence';
import { migrations } from './database/migrations/index.js';
import { TenantModule } from './tenants/tenant.module.js';

/** The tenants service: the tenant registry, and (later) plans, organizations and provisioning. */
export const service = backendService({
  name: 'tenants',
  streams: ['AUDIT', 'EVENTS'],
  migrations,
  features: [TenantModule],
});
