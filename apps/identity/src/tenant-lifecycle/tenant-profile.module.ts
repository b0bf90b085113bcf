import { Module } from '@nestjs/common';
import { TenantProfileRepository } from './tenant-profile.repository.js';
import { TenantQuotas } from './tenant-quotas.js';

/**
 * The tenant profiles identity keeps (plan, limits, features, settings) and the quotas
 * checked from them: imported by the features that create what a limit counts (users,
 * SCIM, SSO, SSO connections) and by the tenant lifecycle.
 */
@Module({
  providers: [TenantProfileRepository, TenantQuotas],
  exports: [TenantProfileRepository, TenantQuotas],
})
export class TenantProfileModule {}
