import { Inject, Injectable } from '@nestjs/common';
import type { RpcContract, RpcRequest, RpcResponse } from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import { InjectTenantsSettings, type TenantsSettings } from '../tenants.settings.js';

/**
 * The pipeline's calls into the other services (`TenantLifecycleRpc.<service>.<verb>`,
 * identity's users for bulk operations), with the pipeline's own timeout, in the context of
 * the run (its actor and request id).
 */
@Injectable()
export class ParticipantClient {
  constructor(
    @Inject(RpcClient) private readonly rpc: RpcClient,
    @InjectTenantsSettings() private readonly settings: TenantsSettings,
  ) {}

  call<C extends RpcContract>(contract: C, payload: RpcRequest<C>): Promise<RpcResponse<C>> {
    return this.rpc.request(contract, payload, {
      timeoutMs: this.settings.provisioning.rpcTimeoutMs,
    });
  }
}
