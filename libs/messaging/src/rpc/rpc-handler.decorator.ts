import { applyDecorators, UseFilters } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import type { RpcContract } from '@tenantry/contracts';
import { RpcPassThroughFilter } from './rpc-pass-through.filter.js';

export const RPC_CONTRACT_EXTRA = 'tenantryContract';

/**
 * Marks a NATS request handler for a contract. The transport validates the request
 * against `contract.request` before the handler runs and the reply against
 * `contract.response` after; the handler receives the parsed request as its payload.
 * Exceptions reach the transport unchanged, which maps them to typed error replies.
 */
export function RpcHandler(contract: RpcContract): MethodDecorator {
  return applyDecorators(
    MessagePattern(contract.subject, { [RPC_CONTRACT_EXTRA]: contract }),
    UseFilters(RpcPassThroughFilter),
  );
}
