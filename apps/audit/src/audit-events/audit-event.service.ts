import { Inject, Injectable } from '@nestjs/common';
import { type AuditEvent } from '@tenantry/contracts';
import { PoisonMessageError, type ConsumedMessage } from '@tenantry/messaging';
import { LedgerWriter, type AppendResult } from '../ledger/ledger.writer.js';

@Injectable()
export class AuditEventService {
  constructor(@Inject(LedgerWriter) private readonly ledger: LedgerWriter) {}

  /**
   * Appends a batch consumed from the AUDIT stream to the tenants' chains, in one
   * transaction; idempotent by (tenant, event id): an event the chain holds already
   * (redelivery, a publisher's retry) is skipped and never takes a second seq. An event of
   * a purged chain is refused with a PoisonMessageError (the consumer parks it).
   */
  async record(batch: ConsumedMessage<AuditEvent>[]): Promise<AppendResult> {
    const result = await this.ledger.append(
      batch.map(({ data, streamSequence }) => ({ event: data, streamSequence })),
    );
    if (result.refused.length) {
      // The rest of the batch is committed: taken one at a time, those are duplicates, and
      // each refused event is parked (kept in PARKED with this reason), never a new chain.
      const refused = new Set(result.refused);
      const tenants = [
        ...new Set(batch.filter((m) => refused.has(m.data.id)).map((m) => m.data.tenantId)),
      ];
      throw new PoisonMessageError(
        `the audit chain of tenant ${tenants.join(', ')} was purged (the tenant was deleted or its provisioning undone): the event is not recorded`,
      );
    }
    return result;
  }

  // The search (audit.events.list) is AuditSearchService's.
}
