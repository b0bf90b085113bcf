import {
  PolicyDecisionRpc,
  type AuthzDecision,
  type RpcRequest,
  type RpcResponse,
} from '@tenantry/contracts';
import { RpcClient, type NatsService, type RequestOptions } from '@tenantry/messaging';

/**
 * The policy service's decisions over NATS (`PolicyDecisionRpc`), for a backend service that
 * would rather ask than hold the snapshots itself: one round trip per call. The request is
 * validated before it leaves (a bad field is a `VALIDATION_FAILED` naming it); a tenant without
 * a usable policy is a `policy-unavailable` deny, not an error.
 */
export class PolicyDecisionClient {
  constructor(private readonly rpc: RpcClient) {}

  /** Over the platform's NATS connection (in a Nest service: inject `RpcClient` instead). */
  static over(nats: NatsService): PolicyDecisionClient {
    return new PolicyDecisionClient(new RpcClient(nats));
  }

  /** May this principal of the tenant do `action` on `resource`? */
  decide(
    request: RpcRequest<typeof PolicyDecisionRpc.decide>,
    options?: RequestOptions,
  ): Promise<AuthzDecision> {
    return this.rpc.request(PolicyDecisionRpc.decide, request, options);
  }

  /** Up to 100 checks for one principal and context: `{ results }`, in the same order. */
  decideBatch(
    request: RpcRequest<typeof PolicyDecisionRpc.decideBatch>,
    options?: RequestOptions,
  ): Promise<RpcResponse<typeof PolicyDecisionRpc.decideBatch>> {
    return this.rpc.request(PolicyDecisionRpc.decideBatch, request, options);
  }

  /** The decision and every step that led to it, in words. */
  explain(
    request: RpcRequest<typeof PolicyDecisionRpc.explain>,
    options?: RequestOptions,
  ): Promise<RpcResponse<typeof PolicyDecisionRpc.explain>> {
    return this.rpc.request(PolicyDecisionRpc.explain, request, options);
  }
}
