import { Inject, Injectable } from '@nestjs/common';
import { entryHash, GENESIS_HASH, type LedgerEntryContent } from '@tenantry/audit-ledger';
import type { AuditEvent } from '@tenantry/contracts';
import { genesisBefore, isTenantCreated } from './genesis.js';
import { LedgerRepository, type NewLedgerEntry } from './ledger.repository.js';

/** An event to append, with the JetStream sequence it came from. */
export interface EventToAppend {
  event: AuditEvent;
  streamSequence: number;
}

/** What an append did, per batch. */
export interface AppendResult {
  /** Entries appended. */
  appended: number;
  /** Events skipped because the chain already held their id (redelivery, publisher retry). */
  duplicates: number;
  /**
   * Ids of events not appended because their tenant's chain was purged (the tenant deleted,
   * or its provisioning undone): an event arriving late must not start a new chain.
   */
  refused: string[];
}

/**
 * The hashed content of an event appended at `seq`, recorded at `recordedAt`. Ids are
 * lowercased: PostgreSQL stores uuids so, and verification hashes what is stored.
 */
export function entryContent(
  event: AuditEvent,
  seq: number,
  recordedAt: string,
): LedgerEntryContent {
  return {
    tenantId: event.tenantId.toLowerCase(),
    seq,
    id: event.id.toLowerCase(),
    schemaVersion: event.schemaVersion,
    occurredAt: event.occurredAt,
    recordedAt,
    category: event.category,
    action: event.action,
    outcome: event.outcome,
    severity: event.severity ?? 'info',
    actor: {
      type: event.actor.type,
      id: event.actor.id,
      name: event.actor.name ?? null,
      ip: event.actor.ip ?? null,
      userAgent: event.actor.userAgent ?? null,
      sessionId: event.actor.sessionId ?? null,
    },
    onBehalfOf: event.onBehalfOf ?? null,
    target: event.target ?? null,
    requestId: event.requestId ?? null,
    traceId: event.traceId ?? null,
    reason: event.reason ?? null,
    dataText: event.data === undefined ? null : JSON.stringify(event.data),
    changesText: event.changes === undefined ? null : JSON.stringify(event.changes),
  };
}

/**
 * Appends events to their tenants' chains: one transaction for the whole batch; per tenant
 * (in tenant id order, so that two instances never deadlock) the chain's advisory lock, the
 * head, the events the chain already holds dropped, then seq, prevHash and hash assigned
 * and everything written in one statement. Two instances never write one chain at once;
 * different tenants' batches commit independently.
 *
 * A new chain opened by its tenant's `tenant.created` (the tenants service's first word
 * about a tenant it provisions) starts with the tenant's genesis entry, so that the genesis
 * is the chain's first entry even though the provisioning run's audit step comes later (it
 * then finds it by id). Events of a chain that was purged are refused (`refused`).
 */
@Injectable()
export class LedgerWriter {
  constructor(@Inject(LedgerRepository) private readonly ledger: LedgerRepository) {}

  async append(events: EventToAppend[]): Promise<AppendResult> {
    const byTenant = new Map<string, EventToAppend[]>();
    for (const item of events) {
      const tenantId = item.event.tenantId.toLowerCase();
      const list = byTenant.get(tenantId) ?? [];
      list.push(item);
      byTenant.set(tenantId, list);
    }
    const tenants = [...byTenant.keys()].sort();
    return this.ledger.inTransaction(async (manager) => {
      const result: AppendResult = { appended: 0, duplicates: 0, refused: [] };
      for (const tenantId of tenants) {
        let items = byTenant.get(tenantId)!;
        await this.ledger.switchToChain(manager, tenantId);
        const { head, stored, purged } = await this.ledger.headAndStored(
          manager,
          tenantId,
          items.map((i) => i.event.id.toLowerCase()),
        );
        if (purged) {
          result.refused.push(...items.map((i) => i.event.id));
          continue;
        }
        const created = head.seq === 0 ? items.find((i) => isTenantCreated(i.event)) : undefined;
        if (created) {
          const genesis = genesisBefore(created.event);
          if (!items.some((i) => i.event.id.toLowerCase() === genesis.id))
            items = [{ event: genesis, streamSequence: created.streamSequence }, ...items];
        }
        const recordedAt = new Date().toISOString();
        let seq = head.seq;
        let prevHash = head.hash ?? GENESIS_HASH;
        const entries: NewLedgerEntry[] = [];
        for (const { event, streamSequence } of items) {
          const id = event.id.toLowerCase();
          if (stored.has(id)) {
            result.duplicates++;
            continue;
          }
          stored.add(id); // the same event twice in one batch is appended once
          seq += 1;
          const content = entryContent(event, seq, recordedAt);
          const hash = entryHash(content, prevHash);
          entries.push({ entry: { ...content, prevHash, hash }, streamSequence });
          prevHash = hash;
        }
        await this.ledger.append(manager, tenantId, entries);
        result.appended += entries.length;
      }
      return result;
    });
  }
}
