import {
  parseContract,
  parseActor,
  auditSubject,
  AuditEventSchema,
  type AuditEvent,
} from '@tenantry/contracts';
import { messageContext, type MessageContext } from '@tenantry/messaging';
import { uuidv7 } from '@tenantry/runtime';
import type { EntityManager, QueryRunner } from 'typeorm';
import type { z } from 'zod';
import type { PreparedStatement } from '../sql.js';
import { statement, type Statement } from '../statements.js';

/** A message waiting in the outbox: published to JetStream by the relay after the transaction commits. */
export interface OutboxMessage {
  /** Subject without namespace, e.g. `audit.<tenantId>.tenants`. */
  subject: string;
  payload: unknown;
  /** `Nats-Msg-Id`: JetStream drops a republish of the same id, so the relay may retry freely. */
  msgId: string;
  context?: MessageContext;
}

/** A domain or usage event for the outbox, validated now so a bad payload fails the business transaction. */
export function outboxEvent<S extends z.ZodType>(
  schema: S,
  subject: string,
  payload: z.input<S>,
  msgId: string,
  context?: MessageContext,
): OutboxMessage {
  return { subject, payload: parseContract(schema, payload, 'event'), msgId, context };
}

/** An audit event for the outbox: `audit.<tenantId>.<category>`, message id = event id. */
export function outboxAudit(event: AuditEvent, context?: MessageContext): OutboxMessage {
  return outboxEvent(
    AuditEventSchema,
    auditSubject(event.tenantId, event.category),
    event,
    event.id,
    context,
  );
}

/** What a service says about something that happened; the rest of the audit event comes from the context. */
export interface AuditFact {
  tenantId: string;
  category: string;
  action: string;
  outcome?: 'success' | 'failure';
  target?: { type: string; id: string };
  data?: Record<string, unknown>;
  /** When nobody called (a job, start-up): the service acting on its own. */
  service: string;
}

/**
 * An audit event for the outbox, its actor taken from the request being handled (the
 * principal the gateway established, in the Tenantry-Actor header), or the service itself
 * when there is none; its request id and trace from the same context.
 */
export function outboxAuditFact(
  fact: AuditFact,
  context = messageContext.current(),
): OutboxMessage {
  const actor = parseActor(context?.actor) ?? { type: 'service' as const, id: fact.service };
  const traceId = traceIdOf(context?.traceparent);
  return outboxAudit(
    {
      schemaVersion: 1,
      id: uuidv7(),
      tenantId: fact.tenantId,
      occurredAt: new Date().toISOString(),
      category: fact.category,
      action: fact.action,
      outcome: fact.outcome ?? 'success',
      actor,
      ...(fact.target ? { target: fact.target } : {}),
      ...(context?.requestId ? { requestId: context.requestId } : {}),
      ...(traceId ? { traceId } : {}),
      ...(fact.data ? { data: fact.data } : {}),
    },
    context && { ...context, tenantId: fact.tenantId },
  );
}

/** The trace id of a W3C traceparent (`00-<trace id>-<span id>-<flags>`); undefined when none. */
function traceIdOf(traceparent: string | undefined): string | undefined {
  const traceId = traceparent?.split('-')[1];
  return traceId && /^[0-9a-f]{32}$/.test(traceId) && !/^0+$/.test(traceId) ? traceId : undefined;
}

/** Writes messages into the outbox inside the caller's transaction: they exist if and only if it commits. */
export async function addToOutbox(
  manager: EntityManager,
  messages: OutboxMessage[],
): Promise<void> {
  if (!messages.length) return;
  const values: unknown[] = [];
  const rows = messages.map((m, i) => {
    values.push(
      m.msgId,
      m.subject,
      JSON.stringify(m.payload),
      m.context ? JSON.stringify(m.context) : null,
    );
    const p = i * 4;
    return `($${p + 1}, $${p + 2}, $${p + 3}::jsonb, $${p + 4}::jsonb)`;
  });
  await manager.query(
    `INSERT INTO outbox (msg_id, subject, payload, context) VALUES ${rows.join(', ')}`,
    values,
  );
}

const INSERT_ONE: PreparedStatement = {
  name: 'outbox.insert',
  text: `INSERT INTO outbox (msg_id, subject, payload, context) VALUES ($1, $2, $3::jsonb, $4::jsonb)`,
};

/**
 * `addToOutbox` as statements of a one-round-trip transaction (`TenantTransactions.batch`):
 * the messages exist if and only if that transaction commits.
 */
export function outboxStatements(messages: OutboxMessage[]): Statement[] {
  return messages.map((m) =>
    statement(INSERT_ONE, [
      m.msgId,
      m.subject,
      JSON.stringify(m.payload),
      m.context ? JSON.stringify(m.context) : null,
    ]),
  );
}

/** For a service's migration: the outbox table (platform-level, no row-level security). */
export async function createOutboxTable(runner: QueryRunner): Promise<void> {
  await runner.query(`
    CREATE TABLE outbox (
      seq bigserial PRIMARY KEY,
      msg_id text NOT NULL,
      subject text NOT NULL,
      payload jsonb NOT NULL,
      context jsonb,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
}
