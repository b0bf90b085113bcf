import { Inject, Injectable } from '@nestjs/common';
import {
  Cursor,
  TimestampSchema,
  UuidSchema,
  type AuditEvent,
  type PageQuery,
  type StoredAuditEvent,
} from '@tenantry/contracts';
import type { ConsumedMessage } from '@tenantry/messaging';
import type { AuditEventEntity } from './audit-event.entity.js';
import { z } from 'zod';
import { AuditEventRepository } from './audit-event.repository.js';

const AuditCursor = z.tuple([TimestampSchema, UuidSchema]);

@Injectable()
export class AuditEventService {
  constructor(@Inject(AuditEventRepository) private readonly events: AuditEventRepository) {}

  /** Stores a batch consumed from the AUDIT stream; idempotent by (tenant, event id). */
  async record(batch: ConsumedMessage<AuditEvent>[]): Promise<void> {
    await this.events.insertBatch(
      batch.map(({ data, streamSequence }) => ({
        tenantId: data.tenantId,
        id: data.id,
        schemaVersion: data.schemaVersion,
        occurredAt: data.occurredAt,
        category: data.category,
        action: data.action,
        outcome: data.outcome,
        actorType: data.actor.type,
        actorId: data.actor.id,
        actorName: data.actor.name ?? null,
        targetType: data.target?.type ?? null,
        targetId: data.target?.id ?? null,
        requestId: data.requestId ?? null,
        data: data.data ?? null,
        streamSequence,
      })),
    );
  }

  /** Newest first; the cursor is (occurredAt, id) of the last event of the previous page. */
  async list({ tenantId, limit, cursor }: PageQuery & { tenantId: string }): Promise<{
    items: StoredAuditEvent[];
    nextCursor: string | null;
  }> {
    const after = cursor ? Cursor.decode(cursor, AuditCursor) : undefined;
    const rows = await this.events.list(
      tenantId,
      limit + 1,
      after && { occurredAt: new Date(after[0]), id: after[1] },
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toContract),
      nextCursor:
        rows.length > limit && last
          ? Cursor.encode([last.occurredAt.toISOString(), last.id])
          : null,
    };
  }
}

function toContract(row: AuditEventEntity): StoredAuditEvent {
  return {
    schemaVersion: 1,
    id: row.id,
    tenantId: row.tenantId,
    occurredAt: row.occurredAt.toISOString(),
    recordedAt: row.recordedAt.toISOString(),
    category: row.category,
    action: row.action,
    outcome: row.outcome as StoredAuditEvent['outcome'],
    actor: {
      type: row.actorType as StoredAuditEvent['actor']['type'],
      id: row.actorId,
      ...(row.actorName ? { name: row.actorName } : {}),
    },
    ...(row.targetType && row.targetId
      ? { target: { type: row.targetType, id: row.targetId } }
      : {}),
    ...(row.requestId ? { requestId: row.requestId } : {}),
    ...(row.data ? { data: row.data } : {}),
  };
}
