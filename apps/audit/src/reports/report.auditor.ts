import { Inject, Injectable, Logger } from '@nestjs/common';
import { parseActor, type AuditEvent, type AuditReader } from '@tenantry/contracts';
import { EventPublisher, messageContext } from '@tenantry/messaging';
import { ReportErrors } from './report.errors.js';

/** A report to record in the tenant's own chain. */
export interface GeneratedReport {
  /** The event id: the report's `reportId`. */
  id: string;
  tenantId: string;
  kind: string;
  reader?: AuditReader;
  /** The user a subject-access report is about (the event's target). */
  userId?: string;
  /** What was reported: period, format, counts, missing sections. */
  data: Record<string, unknown>;
}

/** The trace id of a W3C traceparent (`00-<trace id>-<span id>-<flags>`); undefined when none. */
function traceIdOf(traceparent: string | undefined): string | undefined {
  const traceId = traceparent?.split('-')[1];
  return traceId && /^[0-9a-f]{32}$/.test(traceId) && !/^0+$/.test(traceId) ? traceId : undefined;
}

/**
 * Records each report in the tenant's own chain (`audit.report.generated`, category
 * `audit`), the way every read of the audit log is recorded: published to the AUDIT stream
 * with the service's EventPublisher (the consumer appends it like any event; the event id
 * is the Nats-Msg-Id, so it is stored once). The report is served only once JetStream has
 * acknowledged the event (fail closed). The actor is the request's Tenantry-Actor, with
 * the client's address, user agent and session as the gateway saw them.
 */
@Injectable()
export class ReportAuditor {
  private readonly logger = new Logger(ReportAuditor.name);

  constructor(@Inject(EventPublisher) private readonly publisher: EventPublisher) {}

  /** The actor the report is generated for: the caller, or the audit service itself. */
  caller(): { type: AuditEvent['actor']['type']; id: string } {
    return parseActor(messageContext.current()?.actor) ?? { type: 'service', id: 'audit' };
  }

  async record(report: GeneratedReport): Promise<void> {
    const context = messageContext.current();
    const reader = report.reader ?? {};
    const traceId = traceIdOf(context?.traceparent);
    const event: AuditEvent = {
      schemaVersion: 1,
      id: report.id,
      tenantId: report.tenantId,
      occurredAt: new Date().toISOString(),
      category: 'audit',
      action: 'audit.report.generated',
      outcome: 'success',
      // A subject-access report reads one person's data: worth a reviewer's notice.
      severity: report.userId ? 'notice' : 'info',
      actor: {
        ...this.caller(),
        ...(reader.ip ? { ip: reader.ip } : {}),
        ...(reader.userAgent ? { userAgent: reader.userAgent } : {}),
        ...(reader.sessionId ? { sessionId: reader.sessionId } : {}),
      },
      target: report.userId
        ? { type: 'user', id: report.userId }
        : { type: 'audit_report', id: report.kind },
      ...(context?.requestId ? { requestId: context.requestId } : {}),
      ...(traceId ? { traceId } : {}),
      data: { kind: report.kind, ...report.data },
    };
    try {
      await this.publisher.publishAudit(
        event,
        context ? { ...context, tenantId: report.tenantId } : undefined,
      );
    } catch (error) {
      this.logger.error(
        `could not record the ${report.kind} report of tenant ${report.tenantId}: ${(error as Error).message}`,
      );
      throw ReportErrors.notRecorded(report.kind);
    }
  }
}
