import type { PubAck } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import {
  auditSubject,
  AuditEventSchema,
  parseContract,
  type AuditEvent,
} from '@tenantry/contracts';
import type { z } from 'zod';
import {
  contextToHeaders,
  messageContext,
  newContext,
  type MessageContext,
} from '../context/message-context.js';
import type { NatsService } from '../nats/nats.service.js';

const encoder = new TextEncoder();

export interface PublishOptions {
  /** JetStream de-duplication id (`Nats-Msg-Id`): the same id within the window is stored once. */
  msgId: string;
  context?: MessageContext;
}

/**
 * Publishes durable events to JetStream and waits for the stream's ack. The
 * payload is validated against its schema first, so nothing malformed leaves
 * the process.
 */
export class EventPublisher {
  constructor(private readonly nats: NatsService) {}

  async publish<S extends z.ZodType>(
    schema: S,
    subject: string,
    payload: z.input<S>,
    options: PublishOptions,
  ): Promise<PubAck> {
    const body = parseContract(schema, payload, 'event');
    const context = options.context ?? messageContext.current() ?? newContext();
    return this.nats.js.publish(
      this.nats.options.namespace.subject(subject),
      encoder.encode(JSON.stringify(body)),
      { msgID: options.msgId, headers: contextToHeaders(context, natsHeaders()) },
    );
  }

  /** An audit event to `audit.<tenantId>.<category>`, message id = event id. */
  publishAudit(event: AuditEvent, context?: MessageContext): Promise<PubAck> {
    return this.publish(AuditEventSchema, auditSubject(event.tenantId, event.category), event, {
      msgId: event.id,
      context: context ?? {
        ...(messageContext.current() ?? newContext()),
        tenantId: event.tenantId,
      },
    });
  }
}
