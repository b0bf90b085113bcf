import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OutboxModule } from '@tenantry/persistence';
import { TenantDirectory } from '../core/tenant-directory.js';
import { policySettingsProvider } from '../policy.settings.js';
import { PolicyPublisher } from './policy-publisher.js';
import { PolicyReconciler } from './policy-reconciler.js';
import { PolicyPublicationEntity, TenantPolicyEntity } from './tenant-policy.entity.js';
import { TenantPolicyNatsController } from './tenant-policy.nats-controller.js';
import { TenantPolicyRepository } from './tenant-policy.repository.js';
import { TenantPolicyService } from './tenant-policy.service.js';

/**
 * Each tenant's policy document: storage, changes, publication to the snapshot bucket (and
 * its reconciliation), the default policy of tenants from before provisioning (a new tenant's
 * is made by its provisioning run: tenant-lifecycle). The feature modules (roles, templates,
 * bindings, policies) change the document through TenantPolicyService.
 */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([TenantPolicyEntity, PolicyPublicationEntity]), OutboxModule],
  controllers: [TenantPolicyNatsController],
  providers: [
    policySettingsProvider,
    TenantDirectory,
    TenantPolicyRepository,
    PolicyPublisher,
    TenantPolicyService,
    PolicyReconciler,
  ],
  exports: [TenantPolicyService, PolicyPublisher, PolicyReconciler],
})
export class TenantPolicyModule {}
