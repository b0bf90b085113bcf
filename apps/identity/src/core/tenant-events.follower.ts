import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { TenantSchema } from '@tenantry/contracts';
import { EventFollower, NatsService, type FollowedEvent } from '@tenantry/messaging';
import { TenantDirectory } from './tenant-directory.js';

/** As far back as the directory caches a tenant: every change that may still be cached is read. */
const LOOKBACK_MS = 60_000;

/**
 * Every identity instance follows the tenants service's events (`evt.tenants.tenant.>` on
 * EVENTS, an ordered consumer of its own: each instance has its own cache) and drops the
 * tenant they are about from its TenantDirectory cache (keeping the announced state as the
 * fallback for an outage of the tenants service), so a suspension, a deletion or a failed
 * provisioning reaches sign-in and refresh at once instead of after the cache's minute.
 */
@Injectable()
export class TenantEventsFollower implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly follower: EventFollower;

  constructor(
    @Inject(NatsService) nats: NatsService,
    @Inject(TenantDirectory) private readonly directory: TenantDirectory,
  ) {
    this.follower = new EventFollower(nats, {
      stream: 'EVENTS',
      filterSubject: 'evt.tenants.tenant.>',
      startBackMs: LOOKBACK_MS,
      name: 'tenant events',
      onEvent: (event) => this.handle(event),
    });
  }

  onApplicationBootstrap(): void {
    this.follower.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.follower.stop();
  }

  handle(event: FollowedEvent): void {
    const tenant = TenantSchema.safeParse(event.data);
    if (tenant.success) return this.directory.forget(tenant.data.id, tenant.data);
    // A payload of another shape still names the tenant whose cache entry is stale.
    const named = TenantSchema.pick({ id: true }).safeParse(event.data);
    if (named.success) this.directory.forget(named.data.id);
  }
}
