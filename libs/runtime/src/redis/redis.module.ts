import {
  Global,
  Inject,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Redis } from 'ioredis';
import type { ServiceConfig } from '../config/config.js';

export const REDIS = Symbol('REDIS');

class RedisCloser implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}
  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/**
 * One Redis connection per process, keys under the namespace's prefix; reconnects
 * forever with a capped backoff, so a restarted Redis is found again. While it is
 * away, commands fail at once rather than wait (BullMQ, which wants waiting
 * connections, makes its own).
 */
@Global()
@Module({})
export class RedisModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: RedisModule,
      providers: [
        {
          provide: REDIS,
          useFactory: () =>
            new Redis(config.redisUrl!, {
              keyPrefix: config.namespace.redisPrefix(),
              connectionName: `tenantry-${config.service}`,
              // Fail fast while Redis is away (callers answer 503) instead of queueing commands forever.
              enableOfflineQueue: false,
              maxRetriesPerRequest: 1,
              commandTimeout: 2_000,
              connectTimeout: 2_000,
              retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
            }),
        },
        RedisCloser,
      ],
      exports: [REDIS],
    };
  }
}
