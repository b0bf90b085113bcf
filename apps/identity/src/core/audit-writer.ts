import { Inject, Injectable } from '@nestjs/common';
import {
  Outbox,
  outboxStatements,
  TenantTransactions,
  type OutboxMessage,
} from '@tenantry/persistence';

/**
 * Audit events that belong to no business transaction (a failed login, a lockout): written
 * to the outbox in a transaction of their own (one statement, one round trip), then published.
 */
@Injectable()
export class AuditWriter {
  constructor(
    @Inject(TenantTransactions) private readonly tx: TenantTransactions,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  /**
   * Commits the events to the outbox (they are published even if this process dies next),
   * within the relay's deferral (audit events alone: they go with others, many at a time).
   */
  async record(events: OutboxMessage[]): Promise<void> {
    if (!events.length) return;
    await this.tx.batchGlobal(outboxStatements(events));
    this.outbox.kick({ deferrable: true });
  }
}
