import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { messageContext, newContext } from '@tenantry/messaging';

/**
 * Gives every HTTP request a message context (request id, W3C trace context), so
 * every NATS hop it causes carries them and every log line names the request.
 */
export function installRequestContext(app: NestFastifyApplication): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, _reply, done) => {
      const traceparent = request.headers.traceparent;
      const tracestate = request.headers.tracestate;
      messageContext.run(
        newContext({
          requestId: String(request.id),
          traceparent: typeof traceparent === 'string' ? traceparent : undefined,
          tracestate: typeof tracestate === 'string' ? tracestate : undefined,
        }),
        () => done(),
      );
    });
}
