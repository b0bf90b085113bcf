import {
  Global,
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { NatsService } from '@tenantry/messaging';
import type { DataSource } from 'typeorm';
import { OutboxRelay, type KickOptions } from './outbox-relay.js';

/** Runs the outbox relay for the service's lifetime; inject it to `kick()` after a commit. */
@Injectable()
export class Outbox implements OnApplicationBootstrap, OnModuleDestroy {
  readonly relay: OutboxRelay;

  constructor(
    @Inject(getDataSourceToken()) dataSource: DataSource,
    @Inject(NatsService) nats: NatsService,
  ) {
    this.relay = new OutboxRelay(dataSource, nats);
  }

  /** After a commit that wrote messages; `{ deferrable: true }` for audit events alone (KickOptions). */
  kick(options?: KickOptions): void {
    this.relay.kick(options);
  }

  onApplicationBootstrap(): void {
    this.relay.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.relay.stop();
  }
}

/** For services that publish events from their transactions (they need `createOutboxTable` in a migration). */
@Global()
@Module({ providers: [Outbox], exports: [Outbox] })
export class OutboxModule {}
