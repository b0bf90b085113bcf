import { backendService } from '@tenantry/persistence';
import { migrations } from './database/migrations/index.js';
import { DecisionModule } from './decisions/decision.module.js';
import { PolicyModule } from './policies/policy.module.js';
import { PolicySettingsSchema } from './policy.settings.js';
import { RoleBindingModule } from './role-bindings/role-binding.module.js';
import { RoleTemplateModule } from './role-templates/role-template.module.js';
import { RoleModule } from './roles/role.module.js';
import { TenantLifecycleModule } from './tenant-lifecycle/tenant-lifecycle.module.js';
import { TenantPolicyModule } from './tenant-policies/tenant-policy.module.js';

/**
 * The policy service: each tenant's authorization data (roles, templates, bindings, deny
 * rules) as one versioned policy document, published to the snapshot bucket; and decisions
 * over NATS for backend services, made with the snapshots it follows from that bucket.
 */
export const service = backendService({
  name: 'policy',
  streams: ['AUDIT', 'EVENTS'],
  migrations,
  settings: PolicySettingsSchema,
  features: [
    TenantPolicyModule,
    RoleModule,
    RoleTemplateModule,
    RoleBindingModule,
    PolicyModule,
    DecisionModule,
    TenantLifecycleModule,
  ],
});
