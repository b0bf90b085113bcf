import { Inject, Injectable } from '@nestjs/common';
import { TenantProfileRepository } from './tenant-profile.repository.js';

/**
 * The limits the tenants service set for a tenant, where the policy service enforces them
 * (`customRoles` in RoleService.create). A tenant without a stored profile (created before
 * provisioning, the platform tenant) is unlimited; so is a limit of null.
 */
@Injectable()
export class PolicyQuotas {
  constructor(
    @Inject(TenantProfileRepository) private readonly profiles: TenantProfileRepository,
  ) {}

  /** How many custom roles the tenant may have; null: unlimited. */
  async customRolesLimit(tenantId: string): Promise<number | null> {
    return (await this.profiles.get(tenantId))?.limits.customRoles ?? null;
  }
}
