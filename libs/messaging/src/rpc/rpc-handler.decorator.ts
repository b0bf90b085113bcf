import { SetMetadata } from '@nestjs/common';
import type { RpcContract, RpcPayload, RpcResponse } from '@tenantry/contracts';
import type { MessageContext } from '../context/message-context.js';

export const RPC_HANDLER = Symbol('tenantry:rpc-handler');

/** The signature of a request handler: the parsed request, and the caller's context. */
export type RpcMethod<C extends RpcContract> = (
  request: RpcPayload<C>,
  context: MessageContext,
) => Promise<RpcResponse<C>> | RpcResponse<C>;

/**
 * Marks a controller method as the handler of a request/reply contract. The RPC
 * server validates the request against `contract.request` before calling it (the
 * method receives the parsed request and the caller's context) and the reply against
 * `contract.response` after. Errors it throws become typed error replies.
 */
export function RpcHandler<C extends RpcContract>(contract: C) {
  return <M extends RpcMethod<C>>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<M>,
  ): void => {
    SetMetadata(RPC_HANDLER, contract)(target, key, descriptor);
  };
}
