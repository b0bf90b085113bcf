import { Inject, Injectable } from '@nestjs/common';
import { entryHash, GENESIS_HASH, type LedgerEntryContent } from '@tenantry/audit-ledger';
import type { AuditEvent } from '@tenantry/contracts';
import { genesisBefore, isTenantCreated } from './genesis.js';
import {
  isStoredAlready,
  LedgerRepository,
  type ChainAppend,
  type NewLedgerEntry,
} from './ledger.repository.js';

/** An event to append, with the JetStream sequence it came from. */
export interface EventToAppend {
  event: AuditEvent;
  streamSequence: number;
  /** Delivered before (a JetStream redelivery): its chain may hold it already. */
  redelivered?: boolean;
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
 * Appends events to their tenants' chains in one transaction for the whole batch and two
 * round trips whatever the number of tenants: the first takes every chain's advisory lock
 * (in tenant id order, so that two instances never deadlock) and reads its head and which
 * of the events it already holds; then, per tenant, the held events are dropped, seq,
 * prevHash and hash assigned, and the second round trip writes every tenant's entries (one
 * statement each) and commits. Two instances never write one chain at once; different
 * tenants' batches commit independently.
 *
 * A new chain opened by its tenant's `tenant.created` (the tenants service's first word
 * about a tenant it provisions) starts with the tenant's genesis entry, so that the genesis
 * is the chain's first entry even though the provisioning run's audit step comes later (it
 * then finds it by id). Events of a chain that was purged are refused (`refused`).
 */
@Injectable()
export class LedgerWriter {
  constructor(@Inject(LedgerRepository) private readonly ledger: LedgerRepository) {}

  /**
   * Most batches hold only events delivered for the first time, which their chains almost
   * never hold: their ids are then not looked up before the append, and the primary key
   * (tenant, id) refuses one that was stored after all (a publisher's retry past JetStream's
   * duplicate window): the transaction rolls back and the batch is appended again, every id
   * looked up first. A batch with a redelivered event looks them up at once.
   */
  async append(events: EventToAppend[]): Promise<AppendResult> {
    if (!events.some((item) => item.redelivered)) {
      try {
        return await this.appendOnce(events, false);
      } catch (error) {
        if (!isStoredAlready(error)) throw error;
      }
    }
    return this.appendOnce(events, true);
  }

  private async appendOnce(events: EventToAppend[], lookUpIds: boolean): Promise<AppendResult> {
    const byTenant = new Map<string, EventToAppend[]>();
    for (const item of events) {
      const tenantId = item.event.tenantId.toLowerCase();
      const list = byTenant.get(tenantId) ?? [];
      list.push(item);
      byTenant.set(tenantId, list);
    }
    const tenants = [...byTenant.keys()].sort();
    return this.ledger.inBatches(async (tx) => {
      const chains = await this.ledger.lockChains(
        tx,
        tenants.map((tenantId) => ({
          tenantId,
          ids: lookUpIds ? byTenant.get(tenantId)!.map((i) => i.event.id.toLowerCase()) : [],
        })),
      );
      const result: AppendResult = { appended: 0, duplicates: 0, refused: [] };
      const recordedAt = new Date().toISOString();
      const appends: ChainAppend[] = [];
      tenants.forEach((tenantId, i) => {
        const { head, stored, purged } = chains[i]!;
        let items = byTenant.get(tenantId)!;
        if (purged) {
          result.refused.push(...items.map((item) => item.event.id));
          return;
        }
        const created =
          head.seq === 0 ? items.find((item) => isTenantCreated(item.event)) : undefined;
        if (created) {
          const genesis = genesisBefore(created.event);
          if (!items.some((item) => item.event.id.toLowerCase() === genesis.id))
            items = [{ event: genesis, streamSequence: created.streamSequence }, ...items];
        }
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
        appends.push({ tenantId, entries });
        result.appended += entries.length;
      });
      await this.ledger.appendChains(tx, appends);
      return result;
    });
  }
}
