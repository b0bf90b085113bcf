import { z } from 'zod';
import { ErrorBodySchema } from './errors.js';

/**
 * A request/reply contract: the subject (without namespace prefix), and the
 * schemas of the request and of the reply's data.
 */
export interface RpcContract<Req extends z.ZodType = z.ZodType, Res extends z.ZodType = z.ZodType> {
  readonly subject: string;
  readonly request: Req;
  readonly response: Res;
}

export type RpcRequest<C extends RpcContract> = z.input<C['request']>;
export type RpcResponse<C extends RpcContract> = z.output<C['response']>;

export function defineRpc<Req extends z.ZodType, Res extends z.ZodType>(
  subject: string,
  request: Req,
  response: Res,
): RpcContract<Req, Res> {
  if (!/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*){1,4}$/.test(subject)) {
    throw new Error(`invalid rpc subject "${subject}": expected <service>.<resource>.<verb>`);
  }
  return { subject, request, response };
}

/** The body of every reply: data, or a typed error. */
export const RpcReplySchema = z.union([
  z.object({ ok: z.literal(true), data: z.unknown() }),
  z.object({ ok: z.literal(false), error: ErrorBodySchema }),
]);
export type RpcReply = z.infer<typeof RpcReplySchema>;

/** Message headers that carry context across every hop (request/reply and JetStream). */
export const Headers = {
  tenantId: 'Tenantry-Tenant-Id',
  actor: 'Tenantry-Actor',
  requestId: 'Tenantry-Request-Id',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  /** JetStream de-duplication id; also the event id (audit) or idempotency key (usage). */
  msgId: 'Nats-Msg-Id',
  parkedReason: 'Tenantry-Parked-Reason',
  parkedSubject: 'Tenantry-Parked-Subject',
  parkedStream: 'Tenantry-Parked-Stream',
  parkedConsumer: 'Tenantry-Parked-Consumer',
  parkedDeliveries: 'Tenantry-Parked-Deliveries',
} as const;

/** The request as a handler receives it: parsed, defaults applied. */
export type RpcPayload<C extends RpcContract> = z.output<C['request']>;
