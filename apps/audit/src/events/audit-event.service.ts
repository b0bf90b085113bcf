import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode, type AuditEvent, type StoredAuditEvent } from '@tenantry/contracts';
import type { ConsumedMessage } from '@tenantry/messaging';
import type { AuditEventEntity } from './audit-event.entity.js';
import { AuditErrorCode, AuditError } from './audit-event.exception.js';
import { AuditEventRepository, type AuditPageCursor } from './audit-event.repository.js';

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

  async list(
    tenantId: string,
    limit: number,
    cursor?: string,
  ): Promise<{ items: StoredAuditEvent[]; nextCursor: string | null }> {
    const rows = await this.events.list(
      tenantId,
      limit + 1,
      cursor ? decodeCursor(cursor) : undefined,
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toContract),
      nextCursor:
        rows.length > limit && last
          ? encodeCursor({ occurredAt: last.occurredAt, id: last.id })
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

function encodeCursor(cursor: AuditPageCursor): string {
  return Buffer.from(`${cursor.occurredAt.toISOString()}|${cursor.id}`).toString('base64url');
}

function decodeCursor(cursor: string): AuditPageCursor {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const occurredAt = new Date(at ?? '');
  if (!id || Number.isNaN(occurredAt.getTime()) || !/^[0-9a-f-]{36}$/.test(id)) {
    throw new AuditError(
      ErrorCode.ValidationFailed,
      AuditErrorCode.InvalidCursor,
      'cursor is not one this API returned',
      'cursor',
    );
  }
  return { occurredAt, id };
}
