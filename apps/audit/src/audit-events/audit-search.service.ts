import { Inject, Injectable } from '@nestjs/common';
import {
  Cursor,
  TimestampSchema,
  UuidSchema,
  type ListAuditEventsRequest,
  type StoredAuditEvent,
} from '@tenantry/contracts';
import { z } from 'zod';
import { AuditReadAuditor } from './audit-search.read-auditor.js';
import { AuditSearchErrors } from './audit-search.errors.js';
import {
  AuditSearchRepository,
  type AuditSearchFilters,
  type AuditSearchRow,
} from './audit-search.repository.js';

/** The search's cursor: the last row's occurred_at (UTC, microseconds) and id. */
const SearchCursor = z.tuple([TimestampSchema, UuidSchema]);

/** The filters of a request (what the repository applies and the `audit.read` event records). */
function filtersOf(request: ListAuditEventsRequest): AuditSearchFilters {
  const { from, to, category, action, actorType, actorId, targetType, targetId } = request;
  const { outcome, severity, q } = request;
  const all = {
    from,
    to,
    category,
    action,
    actorType,
    actorId,
    targetType,
    targetId,
    outcome,
    severity,
    q,
  };
  return Object.fromEntries(
    Object.entries(all).filter(([, value]) => value !== undefined),
  ) as AuditSearchFilters;
}

/** PostgreSQL's query_canceled: the free-text search's statement_timeout ran out. */
function isStatementTimeout(error: unknown): boolean {
  const e = error as { code?: string; driverError?: { code?: string } };
  return e?.code === '57014' || e?.driverError?.code === '57014';
}

/**
 * The search over a tenant's ledger (`audit.events.list`): filters, newest first, cursor
 * pagination; each page read is recorded as `audit.read` in the same tenant's chain
 * before it is returned.
 */
@Injectable()
export class AuditSearchService {
  constructor(
    @Inject(AuditSearchRepository) private readonly repository: AuditSearchRepository,
    @Inject(AuditReadAuditor) private readonly reads: AuditReadAuditor,
  ) {}

  async search(request: ListAuditEventsRequest): Promise<{
    items: StoredAuditEvent[];
    nextCursor: string | null;
  }> {
    const { tenantId, limit, cursor } = request;
    const filters = filtersOf(request);
    const after = cursor ? Cursor.decode(cursor, SearchCursor) : undefined;
    let rows: AuditSearchRow[];
    try {
      rows = await this.repository.search(
        tenantId,
        filters,
        limit + 1,
        after && { occurredAt: after[0], id: after[1] },
      );
    } catch (error) {
      if (isStatementTimeout(error)) throw AuditSearchErrors.tooBroad();
      throw error;
    }
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    await this.reads.record({
      tenantId,
      action: 'audit.read',
      severity: 'info',
      reader: request.reader,
      what: 'search',
      data: {
        filters,
        limit,
        ...(cursor ? { cursor } : {}),
        returned: page.length,
        ...(page.length ? { seqs: { first: Number(page[0]!.seq), last: Number(last!.seq) } } : {}),
      },
    });
    return {
      items: page.map(toStoredEvent),
      nextCursor: rows.length > limit && last ? Cursor.encode([last.occurred_key, last.id]) : null,
    };
  }
}

/** A stored row as the contract's StoredAuditEvent (absent optional fields left out). */
export function toStoredEvent(row: AuditSearchRow): StoredAuditEvent {
  const changes = row.changes
    ? {
        ...(row.changes.before ? { before: row.changes.before } : {}),
        ...(row.changes.after ? { after: row.changes.after } : {}),
      }
    : undefined;
  return {
    schemaVersion: 1,
    id: row.id,
    tenantId: row.tenant_id,
    seq: Number(row.seq),
    occurredAt: row.occurred_at_text,
    recordedAt: row.recorded_at.toISOString(),
    category: row.category,
    action: row.action,
    outcome: row.outcome as StoredAuditEvent['outcome'],
    severity: row.severity as StoredAuditEvent['severity'],
    actor: {
      type: row.actor_type as StoredAuditEvent['actor']['type'],
      id: row.actor_id,
      ...(row.actor_name !== null ? { name: row.actor_name } : {}),
      ...(row.actor_ip !== null ? { ip: row.actor_ip } : {}),
      ...(row.actor_user_agent !== null ? { userAgent: row.actor_user_agent } : {}),
      ...(row.actor_session_id !== null ? { sessionId: row.actor_session_id } : {}),
    },
    ...(row.on_behalf_of_type !== null && row.on_behalf_of_id !== null
      ? { onBehalfOf: { type: row.on_behalf_of_type, id: row.on_behalf_of_id } }
      : {}),
    ...(row.target_type !== null && row.target_id !== null
      ? { target: { type: row.target_type, id: row.target_id } }
      : {}),
    ...(row.request_id !== null ? { requestId: row.request_id } : {}),
    ...(row.trace_id !== null ? { traceId: row.trace_id } : {}),
    ...(row.reason !== null ? { reason: row.reason } : {}),
    ...(row.data !== null ? { data: row.data } : {}),
    ...(changes ? { changes } : {}),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
