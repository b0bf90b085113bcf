import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { Msg, Subscription } from '@nats-io/transport-node';
import {
  AppError,
  ContractValidationError,
  ErrorCode,
  parseContract,
  type ErrorBody,
  type RpcContract,
} from '@tenantry/contracts';
import {
  contextFromHeaders,
  messageContext,
  type MessageContext,
} from '../context/message-context.js';
import { NatsService } from '../nats/nats.service.js';
import { RPC_HANDLER } from './rpc-handler.decorator.js';
import { rpcMetrics } from './rpc.metrics.js';
import { PublishBatcher } from './publish-batcher.js';
import { TRANSIENT_ERROR, type TransientErrorTest } from './transient-error.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Route {
  contract: RpcContract;
  invoke: (request: unknown, context: MessageContext) => unknown;
  owner: string;
}

/**
 * Serves every `@RpcHandler` method of the service's controllers over core NATS:
 * subject `[<ns>.]rpc.<contract subject>`, queue group = service name (replicas share
 * the load). Per request: context from headers, the request validated against the
 * contract, the method called directly (no framework pipeline in between), the reply
 * validated, `{ ok: true, data }` or `{ ok: false, error }` sent back. Errors map to
 * codes here, in one place: AppError keeps its code, a dependency outage is
 * SERVICE_UNAVAILABLE, anything else INTERNAL (logged with the request id).
 */
@Injectable()
export class RpcServer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('Rpc');
  private readonly subscriptions: Subscription[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly replies = new PublishBatcher();

  constructor(
    @Inject(NatsService) private readonly nats: NatsService,
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) private readonly scanner: MetadataScanner,
    @Optional() @Inject(TRANSIENT_ERROR) private readonly isTransient?: TransientErrorTest,
  ) {}

  /** Every contract handled by this service, found on its controllers. */
  routes(): Route[] {
    const routes: Route[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance) continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const method = instance[name] as (...args: unknown[]) => unknown;
        const contract = Reflect.getMetadata(RPC_HANDLER, method) as RpcContract | undefined;
        if (!contract) continue;
        routes.push({
          contract,
          invoke: method.bind(instance),
          owner: `${wrapper.name}.${name}`,
        });
      }
    }
    const seen = new Map<string, string>();
    for (const route of routes) {
      const other = seen.get(route.contract.subject);
      if (other)
        throw new Error(
          `${route.contract.subject} is handled twice (${other} and ${route.owner}); one handler per contract`,
        );
      seen.set(route.contract.subject, route.owner);
    }
    return routes;
  }

  onApplicationBootstrap(): void {
    const { namespace, service } = this.nats.options;
    for (const route of this.routes()) {
      const subject = namespace.rpcSubject(route.contract.subject);
      const sub = this.nats.nc.subscribe(subject, {
        queue: service,
        callback: (error, msg) => {
          if (error) return this.log.error(`subscription ${subject} failed: ${error.message}`);
          const work = this.handle(route, msg);
          this.inFlight.add(work);
          void work.finally(() => this.inFlight.delete(work));
        },
      });
      this.subscriptions.push(sub);
    }
  }

  /** Stops taking requests (other replicas get them) and waits for the ones being handled. */
  async onModuleDestroy(): Promise<void> {
    await Promise.all(this.subscriptions.map((s) => s.drain().catch(() => undefined)));
    await Promise.all(this.inFlight);
    this.replies.flush();
  }

  private async handle(route: Route, msg: Msg): Promise<void> {
    const started = performance.now();
    const context = contextFromHeaders(msg.headers);
    let reply: string;
    let outcome: string;
    try {
      const request = decodeRequest(msg, route.contract);
      const result = await messageContext.run(context, () => route.invoke(request, context));
      const data = parseContract(route.contract.response, result, 'reply');
      reply = JSON.stringify({ ok: true, data });
      outcome = 'ok';
    } catch (error) {
      const body = this.toErrorBody(error, route.contract.subject, context.requestId);
      reply = JSON.stringify({ ok: false, error: body });
      outcome = body.code;
    }
    rpcMetrics.server.observe(route.contract.subject, outcome, (performance.now() - started) / 1e3);
    if (!msg.reply) return;
    const data = encoder.encode(reply);
    this.replies.add(() => msg.respond(data));
  }

  private toErrorBody(error: unknown, subject: string, requestId: string): ErrorBody {
    // A reply that breaks its own contract is this service's bug, not the caller's.
    if (error instanceof ContractValidationError && error.what === 'reply') {
      this.log.error({ subject, requestId, errors: error.errors }, `${subject}: ${error.message}`);
      return { code: ErrorCode.Internal, message: `internal error (request id ${requestId})` };
    }
    if (error instanceof AppError) return error.toBody();
    if (this.isTransient?.(error)) {
      this.log.warn(`${subject}: a dependency is unavailable: ${(error as Error).message}`);
      return {
        code: ErrorCode.ServiceUnavailable,
        message: `the ${this.nats.options.service} service cannot reach a dependency right now; retry shortly`,
        retryAfterSeconds: 1,
      };
    }
    this.log.error({ err: error, subject, requestId }, `handler for ${subject} failed`);
    return { code: ErrorCode.Internal, message: `internal error (request id ${requestId})` };
  }
}

/** The request as the handler gets it; a malformed one is the caller's error (VALIDATION_FAILED). */
function decodeRequest(msg: Msg, contract: RpcContract): unknown {
  let raw: unknown = {};
  if (msg.data.length) {
    try {
      raw = JSON.parse(decoder.decode(msg.data));
    } catch {
      throw new ContractValidationError([{ field: '(root)', message: 'must be valid JSON' }]);
    }
  }
  return parseContract(contract.request, raw);
}
