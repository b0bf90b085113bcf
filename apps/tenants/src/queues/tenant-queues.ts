import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { AppError, ErrorCode } from '@tenantry/contracts';
import { SERVICE_CONFIG, type ServiceConfig } from '@tenantry/runtime';
import {
  FlowProducer,
  Queue,
  Worker,
  type FlowJob,
  type Processor,
  type WorkerOptions,
} from 'bullmq';
import { Redis } from 'ioredis';

/**
 * The service's BullMQ queues: `provisioning` (the steps of provision runs), `deprovisioning`
 * (deprovision runs, delayed until the end of the grace period), `bulk-operations` (one job
 * per bulk operation) and `lifecycle` (session revocations of a suspension that identity
 * could not take at once).
 */
export const TENANT_QUEUES = [
  'provisioning',
  'deprovisioning',
  'bulk-operations',
  'lifecycle',
] as const;
export type TenantQueueName = (typeof TENANT_QUEUES)[number];

/** How long a call into Redis may take before the caller hears that the queue is unavailable. */
export const QUEUE_CALL_TIMEOUT_MS = 3_000;

/**
 * BullMQ's own Redis connection (BullMQ wants `maxRetriesPerRequest: null`: its commands wait
 * for a restarted Redis rather than fail) and every queue, flow producer and worker of the
 * service. Keys are under the namespace's prefix (`tenantry:<ns>:bull:<queue>:…`), so test
 * runs and a live `npm start` share a Redis without meeting.
 */
@Injectable()
export class TenantQueues implements OnModuleDestroy {
  private readonly logger = new Logger('TenantQueues');
  readonly prefix: string;
  private readonly connection: Redis;
  private readonly workerConnections: Redis[] = [];
  private readonly queues = new Map<TenantQueueName, Queue>();
  private flowProducer?: FlowProducer;
  private readonly workers: Worker[] = [];
  private lastErrorLog = 0;
  private closed = false;

  constructor(@Inject(SERVICE_CONFIG) private readonly config: ServiceConfig) {
    if (!config.redisUrl) throw new Error('the tenants service needs REDIS_URL for its queues');
    this.prefix = `${config.namespace.redisPrefix()}bull`;
    this.connection = this.connect('queues');
  }

  private connect(role: string): Redis {
    const redis = new Redis(this.config.redisUrl!, {
      maxRetriesPerRequest: null,
      connectionName: `tenantry-${this.config.service}-${role}`,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    });
    redis.on('error', (error) => this.logError(`redis (${role})`, error));
    return redis;
  }

  /** Logs a connection error at most every 10 s (a Redis that is away reports one per retry). */
  private logError(what: string, error: Error): void {
    if (this.closed) return;
    const now = Date.now();
    if (now - this.lastErrorLog < 10_000) return;
    this.lastErrorLog = now;
    this.logger.warn(`${what}: ${error.message}`);
  }

  queue(name: TenantQueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.prefix });
      queue.on('error', (error) => this.logError(`queue ${name}`, error));
      this.queues.set(name, queue);
    }
    return queue;
  }

  get flows(): FlowProducer {
    if (!this.flowProducer) {
      this.flowProducer = new FlowProducer({ connection: this.connection, prefix: this.prefix });
      this.flowProducer.on('error', (error) => this.logError('flow producer', error));
    }
    return this.flowProducer;
  }

  /** Adds a flow, giving up (SERVICE_UNAVAILABLE) when Redis does not answer in time. */
  addFlow(flow: FlowJob, timeoutMs = QUEUE_CALL_TIMEOUT_MS): Promise<unknown> {
    return this.within(this.flows.add(flow), `adding the jobs of ${flow.name}`, timeoutMs);
  }

  /**
   * A worker on `name` with its own connections (BullMQ duplicates them for blocking reads).
   * Closed with the module.
   */
  worker<T, R>(
    name: TenantQueueName,
    processor: Processor<T, R>,
    options: Omit<WorkerOptions, 'connection' | 'prefix'>,
  ): Worker<T, R> {
    const connection = this.connect(`worker-${name}`);
    this.workerConnections.push(connection);
    const worker = new Worker<T, R>(name, processor, {
      ...options,
      connection,
      prefix: this.prefix,
    });
    worker.on('error', (error) => this.logError(`worker ${name}`, error));
    this.workers.push(worker as Worker);
    return worker;
  }

  /**
   * `work`, or SERVICE_UNAVAILABLE when Redis does not answer within `timeoutMs`: BullMQ's
   * commands wait for Redis to come back, a caller must not.
   */
  async within<T>(work: Promise<T>, what: string, timeoutMs = QUEUE_CALL_TIMEOUT_MS): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    // A command still queued when we give up may run later: every job id is deterministic, so a late add is a no-op.
    work.catch(() => undefined);
    try {
      return await Promise.race([
        work,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new AppError(
                  ErrorCode.ServiceUnavailable,
                  `the job queue (Redis) did not answer within ${timeoutMs} ms while ${what}; try again shortly`,
                  { reason: 'QUEUE_UNAVAILABLE', retryAfterSeconds: 2 },
                ),
              ),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async onModuleDestroy(): Promise<void> {
    // Workers first (they finish or give back their active jobs), then the producers.
    const closing = [...this.workers.map((w) => w.close()), ...this.closeProducers()];
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 5_000).unref());
    await Promise.race([Promise.allSettled(closing), timeout]);
    this.closed = true;
    for (const connection of this.workerConnections) connection.disconnect();
    this.connection.disconnect();
  }

  private closeProducers(): Promise<void>[] {
    return [
      ...[...this.queues.values()].map((q) => q.close()),
      ...(this.flowProducer ? [this.flowProducer.close()] : []),
    ];
  }
}
