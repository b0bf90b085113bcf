import {
  Module,
  type DynamicModule,
  type FactoryProvider,
  type ModuleMetadata,
  type Provider,
} from '@nestjs/common';
import type { StreamKey } from '@tenantry/contracts';
import { MessagingModule, NatsService } from '@tenantry/messaging';
import type { Redis } from 'ioredis';
import { ConfigModule } from './config/config.module.js';
import type { ServiceConfig } from './config/config.js';
import { HealthModule } from './health/health.module.js';
import {
  DATABASE_READINESS,
  natsCheck,
  READINESS_CHECKS,
  redisCheck,
  type ReadinessCheck,
} from './health/readiness.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { REDIS, RedisModule } from './redis/redis.module.js';

export interface ServiceModuleOptions {
  /** JetStream streams to make sure of at start-up. */
  streams: readonly StreamKey[];
  /** Serve the `@RpcHandler` methods of the service's controllers over NATS (every service but the gateway). */
  serveRpc: boolean;
  /** The service's database module (persistence), when it owns a database. */
  database?: DynamicModule;
  /** The service's feature modules. */
  features: NonNullable<ModuleMetadata['imports']>;
  /** App-wide providers (the gateway's exception filter). */
  providers?: Provider[];
}

/**
 * What every service runs on, in one call: config, NATS (and its request server),
 * optionally its database and Redis, health over HTTP and NATS covering exactly
 * those dependencies, metrics, and the service's feature modules.
 */
@Module({})
export class ServiceModule {
  static forRoot(config: ServiceConfig, options: ServiceModuleOptions): DynamicModule {
    const imports: NonNullable<ModuleMetadata['imports']> = [
      ConfigModule.forRoot(config),
      MessagingModule.forRoot({
        service: config.service,
        natsUrl: config.natsUrl,
        namespace: config.namespace,
        requestTimeoutMs: config.requestTimeoutMs,
        streams: options.streams,
        streamReplicas: config.streamReplicas,
        instanceId: config.instanceId,
        serveRpc: options.serveRpc,
      }),
    ];
    if (options.database) imports.push(options.database);
    if (config.redisUrl) imports.push(RedisModule.forRoot(config));
    const checks: FactoryProvider<ReadinessCheck[]> = {
      provide: READINESS_CHECKS,
      useFactory: (
        nats: NatsService,
        database?: ReadinessCheck,
        redis?: Redis,
      ): ReadinessCheck[] => [
        natsCheck(nats),
        ...(database ? [database] : []),
        ...(redis ? [redisCheck(redis)] : []),
      ],
      inject: [
        NatsService,
        { token: DATABASE_READINESS, optional: true },
        { token: REDIS, optional: true },
      ],
    };
    const health = HealthModule.forService(config.service);
    return {
      module: ServiceModule,
      global: true,
      imports: [...imports, health, ...options.features],
      controllers: [MetricsController],
      providers: [checks, ...(options.providers ?? [])],
      exports: [READINESS_CHECKS, health],
    };
  }
}
