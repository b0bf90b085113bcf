import { MessagePattern } from '@nestjs/microservices';
import type { RpcContract } from '@tenantry/contracts';

export const RPC_CONTRACT_EXTRA = 'tenantryContract';

/**
 * Marks a NATS request handler for a contract. The transport validates the request
 * against `contract.request` before the handler runs and the reply against
 * `contract.response` after; the handler receives the parsed request as its payload.
 */
export function RpcHandler(contract: RpcContract): MethodDecorator {
  return MessagePattern(contract.subject, { [RPC_CONTRACT_EXTRA]: contract });
}
