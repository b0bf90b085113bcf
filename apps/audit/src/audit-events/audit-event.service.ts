import { Inject, Injectable } from '@nestjs/common';
import { type AuditEvent } from '@tenantry/contracts';
import { PoisonMessageError, type ConsumedMessage } from '@tenantry/messaging';
import { LedgerRouter } from '../ledger/ledger.router.js';

@Injectable()
export class AuditEventService {
  constructor(@Inject(LedgerRouter) private readonly ledger: LedgerRouter) {}

  /**
   * Appends a batch consumed from the AUDIT stream to the tenants' chains, each at the
   * audit instance that owns it (LedgerRouter), in one transaction per instance; idempotent
   * by (tenant, event id): an event the chain holds already (redelivery, a publisher's retry)
   * is skipped and never takes a second seq. Resolves once every part is committed. An event
   * of a purged chain is refused with a PoisonMessageError (the consumer parks it).
   */
  async record(batch: ConsumedMessage<AuditEvent>[]): Promise<void> {
    const refusedIds = await this.ledger.append(
      batch.map(({ data, streamSequence, deliveryCount }) => ({
        event: data,
        streamSequence,
        ...(deliveryCount > 1 ? { redelivered: true } : {}),
      })),
    );
    if (refusedIds.length) {
      // The rest of the batch is committed: taken one at a time, those are duplicates, and
      // each refused event is parked (kept in PARKED with this reason), never a new chain.
      const refused = new Set(refusedIds);
      const tenants = [
        ...new Set(batch.filter((m) => refused.has(m.data.id)).map((m) => m.data.tenantId)),
      ];
      throw new PoisonMessageError(
        `the audit chain of tenant ${tenants.join(', ')} was purged (the tenant was deleted or its provisioning undone): the event is not recorded`,
      );
    }
  }

  // The search (audit.events.list) is AuditSearchService's.
}
