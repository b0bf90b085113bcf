import {
  Module,
  type DynamicModule,
  type FactoryProvider,
  type ModuleMetadata,
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
import { loggingModule } from './logging/logging.module.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { REDIS, RedisModule } from './redis/redis.module.js';

export interface ServiceModuleOptions {
  config: ServiceConfig;
  /** The service's persistence module (PersistenceModule.forRoot(...)), when it owns a database. */
  persistence?: DynamicModule;
  /** JetStream streams to make sure of at start-up. */
  streams: readonly StreamKey[];
}

/**
 * What every service runs on: config, JSON logs, NATS, optionally its database and
 * Redis, health (HTTP and NATS) over exactly those dependencies, and metrics.
 */
@Module({})
export class ServiceModule {
  static forRoot(options: ServiceModuleOptions): DynamicModule {
    const { config } = options;
    const imports: NonNullable<ModuleMetadata['imports']> = [
      ConfigModule.forRoot(config),
      loggingModule(config),
      MessagingModule.forRoot({
        service: config.service,
        natsUrl: config.natsUrl,
        namespace: config.namespace,
        requestTimeoutMs: config.requestTimeoutMs,
        streams: options.streams,
        streamReplicas: config.streamReplicas,
        instanceId: config.instanceId,
      }),
    ];
    if (options.persistence) imports.push(options.persistence);
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
      imports: [...imports, health],
      controllers: [MetricsController],
      providers: [checks],
      exports: [READINESS_CHECKS, health],
    };
  }
}
