import {
  ErrorBodySchema,
  ErrorCode,
  parseContract,
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
import { RpcError } from './rpc-error.js';
import { NoReplyError, RpcInbox } from './rpc-inbox.js';

const encoder = new TextEncoder();

export interface RequestOptions {
  timeoutMs?: number;
  /** Defaults to the context of the message or HTTP request being handled. */
  context?: MessageContext;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Typed request/reply over NATS. The request is validated before it leaves (a caller
 * bug is a VALIDATION_FAILED here, not a round trip), the reply against the
 * contract when it arrives (the other side breaking its contract is INTERNAL, never
 * the caller's fault); no responder is SERVICE_UNAVAILABLE, no answer in time TIMEOUT.
 */
export class RpcClient {
  private readonly inbox: RpcInbox;

  constructor(private readonly nats: NatsService) {
    this.inbox = new RpcInbox(nats.nc);
  }

  async request<C extends RpcContract>(
    contract: C,
    payload: RpcRequest<C>,
    options: RequestOptions = {},
  ): Promise<RpcResponse<C>> {
    const body = parseContract(contract.request, payload);
    const context = options.context ?? messageContext.current() ?? newContext();
    const timeout = options.timeoutMs ?? this.nats.options.requestTimeoutMs;
    const started = performance.now();
    let outcome = 'ok';
    try {
      let text: string;
      try {
        const reply = await this.inbox.request(
          this.nats.options.namespace.rpcSubject(contract.subject),
          encoder.encode(JSON.stringify(body)),
          contextToHeaders(context),
          timeout,
        );
        text = reply.string();
      } catch (error) {
        throw this.transportError(error, contract.subject, timeout);
      }
      return this.decodeReply(contract, text);
    } catch (error) {
      outcome = error instanceof RpcError ? error.code : ErrorCode.Internal;
      throw error;
    } finally {
      rpcMetrics.client.observe(contract.subject, outcome, (performance.now() - started) / 1e3);
    }
  }

  private decodeReply<C extends RpcContract>(contract: C, text: string): RpcResponse<C> {
    const envelope = parseJson(text) as
      { ok?: unknown; data?: unknown; error?: unknown } | undefined;
    if (envelope?.ok === true) {
      const data = contract.response.safeParse(envelope.data);
      if (data.success) return data.data as RpcResponse<C>;
    } else if (envelope?.ok === false) {
      const error = ErrorBodySchema.safeParse(envelope.error);
      if (error.success) {
        const { code, message, ...rest } = error.data;
        throw new RpcError(code, message, contract.subject, rest);
      }
    }
    // The other side broke the contract: its fault (or a version mismatch), never the caller's.
    throw new RpcError(
      ErrorCode.Internal,
      `malformed reply on ${contract.subject}`,
      contract.subject,
    );
  }

  private transportError(error: unknown, subject: string, timeout: number): RpcError {
    const service = subject.split('.')[0];
    if (error instanceof NoReplyError && error.why === 'no-responders') {
      return new RpcError(
        ErrorCode.ServiceUnavailable,
        `the ${service} service is not available`,
        subject,
        { retryAfterSeconds: 1 },
      );
    }
    if (error instanceof NoReplyError && error.why === 'disconnected') {
      return new RpcError(
        ErrorCode.ServiceUnavailable,
        `the ${service} service cannot be reached: the NATS connection is closed`,
        subject,
        { retryAfterSeconds: 1 },
      );
    }
    if (error instanceof NoReplyError) {
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
      { retryAfterSeconds: 1 },
    );
  }
}
