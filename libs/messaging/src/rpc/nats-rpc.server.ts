import { Logger } from '@nestjs/common';
import { CustomTransportStrategy, NatsContext, Server } from '@nestjs/microservices';
import type { Msg, Subscription } from '@nats-io/transport-node';
import {
  ContractValidationError,
  ErrorCode,
  parseContract,
  type ErrorBody,
  type RpcContract,
  type RpcReply,
} from '@tenantry/contracts';
import { lastValueFrom } from 'rxjs';
import { contextFromHeaders, messageContext } from '../context/message-context.js';
import type { NatsService } from '../nats/nats.service.js';
import { rpcMetrics } from './rpc.metrics.js';
import { RPC_CONTRACT_EXTRA } from './rpc-handler.decorator.js';
import { ServiceError } from './service-error.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Nest transport for request/reply over core NATS. Subjects get the namespace
 * prefix, every handler listens in the service's queue group (replicas share the
 * load), requests and replies are validated against their contracts, and each
 * reply is `{ ok: true, data }` or `{ ok: false, error: { code, message, ... } }`.
 */
export class NatsRpcServer extends Server implements CustomTransportStrategy {
  private readonly subscriptions: Subscription[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly log = new Logger('Rpc');

  constructor(
    private readonly nats: NatsService,
    /** Says "a dependency (e.g. the database) is down": answered as SERVICE_UNAVAILABLE, not INTERNAL. */
    private readonly isTransientError: (error: unknown) => boolean = () => false,
  ) {
    super();
  }

  listen(callback: (...optionalParams: unknown[]) => void): void {
    const { namespace, service } = this.nats.options;
    for (const [pattern, handler] of this.messageHandlers) {
      if (handler.isEventHandler) {
        throw new Error(
          `@EventPattern(${pattern}) is not supported: durable events go through JetStream consumers`,
        );
      }
      const subject = namespace.rpcSubject(pattern);
      const sub = this.nats.nc.subscribe(subject, {
        queue: service,
        callback: (error, msg) => {
          if (error) return this.log.error(`subscription ${subject} failed: ${error.message}`);
          const work = this.handle(pattern, msg).finally(() => this.inFlight.delete(work));
          this.inFlight.add(work);
        },
      });
      this.subscriptions.push(sub);
    }
    callback();
  }

  /** Stops taking requests and waits for the ones being handled. */
  async close(): Promise<void> {
    await Promise.all(this.subscriptions.map((s) => s.drain().catch(() => undefined)));
    await Promise.all(this.inFlight);
  }

  on(): void {
    throw new Error('NatsRpcServer does not emit events');
  }

  unwrap<T>(): T {
    return this.nats.nc as T;
  }

  private async handle(pattern: string, msg: Msg): Promise<void> {
    const handler = this.messageHandlers.get(pattern)!;
    const contract = handler.extras?.[RPC_CONTRACT_EXTRA] as RpcContract | undefined;
    const context = contextFromHeaders(msg.headers);
    const stop = rpcMetrics.duration.startTimer({ subject: pattern });
    let reply: RpcReply;
    try {
      const request = this.decodeRequest(msg, contract);
      const data = await messageContext.run(context, async () => {
        const result = await handler(request, new NatsContext([msg.subject, msg.headers]));
        return lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
      });
      reply = { ok: true, data: contract ? parseContract(contract.response, data, 'reply') : data };
    } catch (error) {
      reply = { ok: false, error: this.toErrorBody(error, pattern, context.requestId) };
    }
    stop({ outcome: reply.ok ? 'ok' : reply.error.code });
    if (msg.reply) msg.respond(encoder.encode(JSON.stringify(reply)));
  }

  /** The request as the handler gets it; a malformed one is the caller's error (VALIDATION_FAILED). */
  private decodeRequest(msg: Msg, contract: RpcContract | undefined): unknown {
    let raw: unknown = {};
    if (msg.data.length) {
      try {
        raw = JSON.parse(decoder.decode(msg.data));
      } catch {
        throw new ContractValidationError([{ field: '(root)', message: 'must be valid JSON' }]);
      }
    }
    return contract ? parseContract(contract.request, raw) : raw;
  }

  private toErrorBody(error: unknown, pattern: string, requestId: string): ErrorBody {
    // A reply that breaks its own contract is this service's bug, not the caller's.
    if (error instanceof ContractValidationError && error.what !== 'reply') {
      return { code: error.code, message: error.message, errors: error.errors };
    }
    if (error instanceof ServiceError) return error.toBody();
    // A handler not declared with @RpcHandler goes through Nest's filter, which hands a ServiceError over as its body.
    if (isErrorBody(error)) return error;
    if (this.isTransientError(error)) {
      this.log.warn(`${pattern}: a dependency is unavailable: ${(error as Error).message}`);
      return {
        code: ErrorCode.ServiceUnavailable,
        message: `the ${this.nats.options.service} service cannot reach a dependency right now; retry shortly`,
      };
    }
    this.log.error({ err: error, subject: pattern, requestId }, `handler for ${pattern} failed`);
    return { code: ErrorCode.Internal, message: `internal error (request id ${requestId})` };
  }
}

function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== 'object' || value === null) return false;
  const { code, message } = value as Record<string, unknown>;
  return (
    typeof message === 'string' &&
    typeof code === 'string' &&
    (Object.values(ErrorCode) as string[]).includes(code)
  );
}
