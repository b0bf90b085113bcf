import { RequestError, TimeoutError } from '@nats-io/transport-node';
import {
  ErrorCode,
  parseContract,
  RpcReplySchema,
  type RpcContract,
  type RpcRequest,
  type RpcResponse,
} from '@tenantry/contracts';
import {
  contextToHeaders,
  messageContext,
  newContext,
  type MessageContext,
} from '../context/message-context.js';
import type { NatsService } from '../nats/nats.service.js';
import { rpcMetrics } from './rpc.metrics.js';
import { RpcError } from './service-error.js';

const encoder = new TextEncoder();

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
const decoder = new TextDecoder();

export interface RequestOptions {
  timeoutMs?: number;
  /** Defaults to the context of the message or HTTP request being handled. */
  context?: MessageContext;
}

/** Typed request/reply over NATS: validates both ways, maps transport failures to typed errors. */
export class RpcClient {
  constructor(private readonly nats: NatsService) {}

  async request<C extends RpcContract>(
    contract: C,
    payload: RpcRequest<C>,
    options: RequestOptions = {},
  ): Promise<RpcResponse<C>> {
    const body = parseContract(contract.request, payload);
    const context = options.context ?? messageContext.current() ?? newContext();
    const timeout = options.timeoutMs ?? this.nats.options.requestTimeoutMs;
    const stop = rpcMetrics.clientDuration.startTimer({ subject: contract.subject });
    let raw: Uint8Array;
    try {
      const reply = await this.nats.nc.request(
        this.nats.options.namespace.rpcSubject(contract.subject),
        encoder.encode(JSON.stringify(body)),
        { timeout, headers: contextToHeaders(context) },
      );
      raw = reply.data;
    } catch (error) {
      const failure = this.transportError(error, contract.subject, timeout);
      stop({ outcome: failure.code });
      throw failure;
    }
    const envelope = RpcReplySchema.safeParse(parseJson(decoder.decode(raw)));
    if (envelope.success && !envelope.data.ok) {
      const { code, message, reason, errors } = envelope.data.error;
      stop({ outcome: code });
      throw new RpcError(code, message, contract.subject, reason, errors);
    }
    const data =
      envelope.success && envelope.data.ok
        ? contract.response.safeParse(envelope.data.data)
        : undefined;
    if (!data?.success) {
      // The other side broke the contract: its fault (or a version mismatch), never the caller's.
      stop({ outcome: ErrorCode.Internal });
      throw new RpcError(
        ErrorCode.Internal,
        `malformed reply on ${contract.subject}`,
        contract.subject,
      );
    }
    stop({ outcome: 'ok' });
    return data.data as RpcResponse<C>;
  }

  private transportError(error: unknown, subject: string, timeout: number): RpcError {
    const service = subject.split('.')[0];
    if (error instanceof RequestError && error.isNoResponders()) {
      return new RpcError(
        ErrorCode.ServiceUnavailable,
        `the ${service} service is not available`,
        subject,
      );
    }
    if (
      error instanceof TimeoutError ||
      (error instanceof RequestError && error.cause instanceof TimeoutError)
    ) {
      return new RpcError(
        ErrorCode.Timeout,
        `the ${service} service did not answer within ${timeout} ms`,
        subject,
      );
    }
    return new RpcError(
      ErrorCode.ServiceUnavailable,
      `request to the ${service} service failed: ${(error as Error).message}`,
      subject,
    );
  }
}
