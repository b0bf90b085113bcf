import { backendService } from '@tenantry/persistence';
import { BulkOperationModule } from './bulk-operations/bulk-operation.module.js';
import { migrations } from './database/migrations/index.js';
import { LifecycleModule } from './lifecycle/lifecycle.module.js';
import { OrganizationModule } from './organizations/organization.module.js';
import { PlanModule } from './plans/plan.module.js';
import { ProvisioningModule } from './provisioning/provisioning.module.js';
import { QueueModule } from './queues/queue.module.js';
import { TemplateModule } from './templates/template.module.js';
import { TenantModule } from './tenants/tenant.module.js';
import { TenantsSettingsModule, TenantsSettingsSchema } from './tenants.settings.js';

/**
 * The tenants service: the tenant registry (plans and limits, settings, status, the access
 * state the gateway follows), organizations inside tenants, tenant templates, and the
 * provisioning pipeline that brings tenants up and down across every service.
 */
export const service = backendService({
  name: 'tenants',
  streams: ['AUDIT', 'EVENTS'],
  migrations,
  // BullMQ (provisioning, lifecycle, bulk operations) makes its own connections from REDIS_URL.
  redis: true,
  // The whole environment: the registry's and provisioning's.
  settings: TenantsSettingsSchema,
  features: [
    TenantsSettingsModule,
    TenantModule,
    PlanModule,
    TemplateModule,
    OrganizationModule,
    QueueModule,
    ProvisioningModule,
    LifecycleModule,
    BulkOperationModule,
  ],
});
