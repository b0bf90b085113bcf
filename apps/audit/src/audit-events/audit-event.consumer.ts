import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { AuditEventSchema, parseAuditSubject, type AuditEvent } from '@tenantry/contracts';
import {
  DurableConsumer,
  NatsService,
  PoisonMessageError,
  type ConsumedMessage,
} from '@tenantry/messaging';
import { isTransientDbError } from '@tenantry/persistence';
import { PeerUnavailableError } from '../ledger/ledger.router.js';
import { AuditEventService } from './audit-event.service.js';

/**
 * Drains the AUDIT stream into the ledger, in batches: one transaction per batch, acked
 * only after it committed (DurableConsumer), appended idempotently by event id
 * (LedgerWriter). Several audit instances share the durable consumer; each tenant's chain
 * is written by the instance that owns it (LedgerRouter: events of another's tenants are
 * sent to it and acked once it committed them), and by one at a time in any case (an
 * advisory lock per tenant).
 */
@Injectable()
export class AuditEventConsumer
  extends DurableConsumer<typeof AuditEventSchema>
  implements OnApplicationBootstrap, OnModuleDestroy
{
  constructor(
    @Inject(NatsService) nats: NatsService,
    @Inject(AuditEventService) private readonly service: AuditEventService,
  ) {
    super(nats, {
      stream: 'AUDIT',
      durable: 'audit-ledger',
      schema: AuditEventSchema,
      batchSize: 500,
      maxDeliver: 5,
      // the database down, here or at the instance that owns the tenant
      isTransient: (error) => isTransientDbError(error) || error instanceof PeerUnavailableError,
    });
  }

  protected override check(message: ConsumedMessage<AuditEvent>): void {
    const route = parseAuditSubject(message.subject);
    if (!route)
      throw new PoisonMessageError(`subject ${message.subject} is not audit.<tenantId>.<category>`);
    if (route.tenantId !== message.data.tenantId) {
      throw new PoisonMessageError(
        `tenantId ${message.data.tenantId} does not match the subject's tenant ${route.tenantId}`,
      );
    }
    if (route.category !== message.data.category) {
      throw new PoisonMessageError(
        `category ${message.data.category} does not match the subject's category ${route.category}`,
      );
    }
    if (message.msgId === undefined) {
      throw new PoisonMessageError(
        `the Nats-Msg-Id header is missing: set it to the event id (${message.data.id})`,
      );
    }
    if (message.msgId !== message.data.id) {
      throw new PoisonMessageError(
        `Nats-Msg-Id ${message.msgId} must equal the event id ${message.data.id}`,
      );
    }
  }

  protected async handleBatch(batch: ConsumedMessage<AuditEvent>[]): Promise<void> {
    await this.service.record(batch);
  }

  onApplicationBootstrap(): Promise<void> {
    return this.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.stop();
  }
}
