import { Inject, Injectable } from '@nestjs/common';
import {
  ErrorCode,
  PLATFORM_TENANT_ID,
  TenantRpc,
  type Tenant,
  type TenantStatus,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';

/**
 * The statuses in which a tenant without a policy gets the default one from this service (a
 * tenant created before the provisioning pipeline). A `provisioning` tenant's policy is made
 * by the pipeline's policy-bootstrap step (with its plan's roles); `deprovisioning`,
 * `deleted` and `failed` tenants get none.
 */
export const DEFAULT_POLICY_STATUSES: readonly TenantStatus[] = ['active', 'suspended'];

/** The tenants service, asked over NATS (TenantRpc): a tenant's status, and every tenant. */
@Injectable()
export class TenantDirectory {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  /**
   * The tenant's status; null when the tenants service does not know it; other failures
   * throw. The platform tenant is always `active`.
   */
  async status(tenantId: string): Promise<TenantStatus | null> {
    if (tenantId === PLATFORM_TENANT_ID) return 'active';
    try {
      return (await this.rpc.request(TenantRpc.get, { id: tenantId })).status;
    } catch (error) {
      if ((error as { code?: string }).code === ErrorCode.NotFound) return null;
      throw error;
    }
  }

  /** Every tenant the tenants service has, a page at a time (the platform tenant is not one). */
  async *all(): AsyncGenerator<Tenant> {
    let cursor: string | undefined;
    do {
      const page = await this.rpc.request(TenantRpc.list, { limit: 500, cursor });
      yield* page.items;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
}
