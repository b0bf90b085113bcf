import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode, PLATFORM_TENANT_ID, TenantRpc, type Tenant } from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';

/** The tenants service, asked over NATS (TenantRpc): whether a tenant exists, and every tenant. */
@Injectable()
export class TenantDirectory {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  /** True when the tenant exists, false when the tenants service does not know it; other failures throw. */
  async exists(tenantId: string): Promise<boolean> {
    if (tenantId === PLATFORM_TENANT_ID) return true;
    try {
      await this.rpc.request(TenantRpc.get, { id: tenantId });
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === ErrorCode.NotFound) return false;
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
