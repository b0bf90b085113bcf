import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { TenantEvents } from '@tenantry/contracts';
import {
  DurableConsumer,
  messageContext,
  NatsService,
  type ConsumedMessage,
} from '@tenantry/messaging';
import { isTransientDbError } from '@tenantry/persistence';
import type { z } from 'zod';
import { TenantPolicyService } from './tenant-policy.service.js';

type TenantCreated = z.output<typeof TenantEvents.created.schema>;

/**
 * Gives every new tenant its default policy (`defaultPolicy`), from the tenants service's
 * tenant.created events on the EVENTS stream. Idempotent: a redelivered event finds the
 * policy there and changes nothing.
 */
@Injectable()
export class TenantCreatedConsumer
  extends DurableConsumer<typeof TenantEvents.created.schema>
  implements OnApplicationBootstrap, OnModuleDestroy
{
  constructor(
    @Inject(NatsService) nats: NatsService,
    @Inject(TenantPolicyService) private readonly policies: TenantPolicyService,
  ) {
    super(nats, {
      stream: 'EVENTS',
      durable: 'policy-tenant-created',
      filterSubject: TenantEvents.created.subject,
      schema: TenantEvents.created.schema,
      batchSize: 50,
      maxDeliver: 5,
      isTransient: isTransientDbError,
    });
  }

  protected async handleBatch(batch: ConsumedMessage<TenantCreated>[]): Promise<void> {
    for (const message of batch) {
      // Audited as whoever created the tenant (the event's context).
      await messageContext.run(message.context, () => this.policies.ensure(message.data.id));
    }
  }

  onApplicationBootstrap(): Promise<void> {
    return this.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.stop();
  }
}
