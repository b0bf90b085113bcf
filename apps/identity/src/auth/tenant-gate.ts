import { Inject, Injectable } from '@nestjs/common';
import { AppError, BARRED_TENANT_STATUSES, ErrorCode } from '@tenantry/contracts';
import { TenantDirectory } from '../core/tenant-directory.js';
import { AuthErrors } from './auth.errors.js';

/**
 * Whether a tenant's users may sign in and refresh: not while the tenant is barred
 * (BARRED_TENANT_STATUSES: suspended, deprovisioning, deleted, failed), nor when the
 * tenants service does not know it. Asked through the TenantDirectory's cache, which the
 * tenants service's events keep fresh; the platform tenant (operators) is always open.
 */
@Injectable()
export class TenantGate {
  constructor(@Inject(TenantDirectory) private readonly tenants: TenantDirectory) {}

  /** Throws 403 TENANT_SUSPENDED / TENANT_UNAVAILABLE when the tenant's users may not sign in. */
  async assertOpen(tenantId: string): Promise<void> {
    const refusal = await this.refusal(tenantId);
    if (refusal) throw refusal;
  }

  /** The refusal for a barred tenant's users, or null when they may sign in. */
  async refusal(tenantId: string): Promise<AppError | null> {
    let tenant;
    try {
      tenant = await this.tenants.byId(tenantId);
    } catch (error) {
      if (error instanceof AppError && error.code === ErrorCode.NotFound)
        return AuthErrors.tenantBarred({ id: tenantId, status: null });
      throw error;
    }
    return BARRED_TENANT_STATUSES.includes(tenant.status) ? AuthErrors.tenantBarred(tenant) : null;
  }
}
