import {
  Inject,
  Injectable,
  Module,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { NatsService } from '@tenantry/messaging';
import { READINESS_CHECKS, REDIS, type ReadinessCheck } from '@tenantry/runtime';
import type { Redis } from 'ioredis';
import { ApiCallLimiter, MemoryApiCallCounter, RedisApiCallCounter } from './api-call-limiter.js';
import { TenantAccessGate } from './tenant-access.gate.js';
import { TenantAccessFollower } from './tenant-access.follower.js';

/**
 * Follows the bucket with the service and stops with it; adds `tenant-access` to the
 * readiness: down while the bucket exists but is not watched live.
 */
@Injectable()
class TenantAccessLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(TenantAccessFollower) private readonly follower: TenantAccessFollower,
    @Inject(READINESS_CHECKS) checks: ReadinessCheck[],
  ) {
    checks.push({ name: 'tenant-access', probe: () => this.follower.assertReady() });
  }

  onApplicationBootstrap(): void {
    this.follower.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.follower.stop();
  }
}

/**
 * The tenants' access states at the edge: the follower of the TENANT_ACCESS bucket, the API
 * call limits (counted in the gateway's Redis, shared by every instance; in memory only
 * without one) and the gate the guard asks on every authenticated request.
 */
@Module({
  providers: [
    {
      provide: TenantAccessFollower,
      inject: [NatsService],
      useFactory: (nats: NatsService) => new TenantAccessFollower(nats),
    },
    {
      provide: ApiCallLimiter,
      inject: [{ token: REDIS, optional: true }],
      useFactory: (redis?: Redis) =>
        new ApiCallLimiter(redis ? new RedisApiCallCounter(redis) : new MemoryApiCallCounter()),
    },
    {
      provide: TenantAccessGate,
      inject: [TenantAccessFollower, ApiCallLimiter],
      useFactory: (follower: TenantAccessFollower, limiter: ApiCallLimiter) =>
        new TenantAccessGate(follower, limiter),
    },
    TenantAccessLifecycle,
  ],
  exports: [TenantAccessGate, TenantAccessFollower],
})
export class TenantAccessModule {}
