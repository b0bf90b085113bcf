import { Inject, Injectable } from '@nestjs/common';
import { type AuditEvent } from '@tenantry/contracts';
import type { ConsumedMessage } from '@tenantry/messaging';
import { LedgerWriter, type AppendResult } from '../ledger/ledger.writer.js';

@Injectable()
export class AuditEventService {
  constructor(@Inject(LedgerWriter) private readonly ledger: LedgerWriter) {}

  /**
   * Appends a batch consumed from the AUDIT stream to the tenants' chains, in one
   * transaction; idempotent by (tenant, event id): an event the chain holds already
   * (redelivery, a publisher's retry) is skipped and never takes a second seq.
   */
  record(batch: ConsumedMessage<AuditEvent>[]): Promise<AppendResult> {
    return this.ledger.append(
      batch.map(({ data, streamSequence }) => ({ event: data, streamSequence })),
    );
  }

  // The search (audit.events.list) is AuditSearchService's.
}
