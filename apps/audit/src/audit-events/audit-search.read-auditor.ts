import { uuidv7 } from '@tenantry/runtime';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  parseActor,
  type AuditEvent,
  type AuditReader,
  type AuditSeverity,
} from '@tenantry/contracts';
import { EventPublisher, messageContext } from '@tenantry/messaging';
import { AuditSearchErrors } from './audit-search.errors.js';

/** A read of the audit log, to be recorded in the tenant's own chain. */
export interface AuditRead {
  tenantId: string;
  /** `audit.read` (a search) or `audit.exported` (an export). */
  action: 'audit.read' | 'audit.exported';
  severity: AuditSeverity;
  /** The client as the gateway saw it. */
  reader?: AuditReader;
  /** What was read: the filters, or the export's range and format. */
  data: Record<string, unknown>;
  /** `search` or `export`, for the error message. */
  what: string;
}

/** The trace id of a W3C traceparent (`00-<trace id>-<span id>-<flags>`); undefined when none. */
function traceIdOf(traceparent: string | undefined): string | undefined {
  const traceId = traceparent?.split('-')[1];
  return traceId && /^[0-9a-f]{32}$/.test(traceId) && !/^0+$/.test(traceId) ? traceId : undefined;
}

/**
 * Records every read of the audit log in the tenant's own chain, as an event of category
 * `audit` published to the AUDIT stream (`audit.<tenantId>.audit`) through the service's
 * EventPublisher: the same path, checks and consumer as every other event, so the
 * ledger keeps one writer per chain. Exactly once: the event id is the `Nats-Msg-Id`
 * (JetStream drops a duplicate publish) and the consumer appends by event id. The read is
 * served only once JetStream has acknowledged its event (fail closed); the actor is the
 * request's `Tenantry-Actor`, with the client's address, user agent and session.
 */
@Injectable()
export class AuditReadAuditor {
  private readonly logger = new Logger(AuditReadAuditor.name);

  constructor(@Inject(EventPublisher) private readonly publisher: EventPublisher) {}

  /** Publishes the read's event and waits for JetStream's ack; its event id. */
  async record(read: AuditRead): Promise<string> {
    const context = messageContext.current();
    const actor = parseActor(context?.actor) ?? { type: 'service' as const, id: 'audit' };
    const reader = read.reader ?? {};
    const traceId = traceIdOf(context?.traceparent);
    const event: AuditEvent = {
      schemaVersion: 1,
      id: uuidv7(),
      tenantId: read.tenantId,
      occurredAt: new Date().toISOString(),
      category: 'audit',
      action: read.action,
      outcome: 'success',
      severity: read.severity,
      actor: {
        ...actor,
        ...(reader.ip ? { ip: reader.ip } : {}),
        ...(reader.userAgent ? { userAgent: reader.userAgent } : {}),
        ...(reader.sessionId ? { sessionId: reader.sessionId } : {}),
      },
      ...(context?.requestId ? { requestId: context.requestId } : {}),
      ...(traceId ? { traceId } : {}),
      data: read.data,
    };
    try {
      await this.publisher.publishAudit(
        event,
        context ? { ...context, tenantId: read.tenantId } : undefined,
      );
    } catch (error) {
      this.logger.error(
        `could not record ${read.action} of tenant ${read.tenantId}: ${(error as Error).message}`,
      );
      throw AuditSearchErrors.readNotRecorded(read.what);
    }
    return event.id;
  }
}
