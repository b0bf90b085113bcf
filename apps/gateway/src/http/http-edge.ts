import type { Socket } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppError, ErrorCode } from '@tenantry/contracts';
import { messageContext, newContext } from '@tenantry/messaging';
import { v7 as uuidv7 } from 'uuid';
import { toProblem } from './problem-details.js';
import { RouteTable } from './route-table.js';

const JSON_TYPES = ['application/json'];

/**
 * The gateway's HTTP edge, installed before routes are registered:
 * - request bodies are JSON in UTF-8 or nothing (415 otherwise: no form bodies, no text);
 * - every request runs in a message context (request id, W3C trace context), so every
 *   NATS hop it causes and every log line carries them;
 * - routes are recorded, so a wrong method is a 405 with `Allow`.
 */
export function installHttpEdge(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  const routes = app.get(RouteTable);
  fastify.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.add(method, route.url);
  });

  fastify.removeAllContentTypeParsers();
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.addContentTypeParser(JSON_TYPES, { parseAs: 'string' }, (request, body, done) => {
    const charset = /;\s*charset\s*=\s*"?([^";]+)"?/i.exec(
      request.headers['content-type'] ?? '',
    )?.[1];
    if (charset && !/^utf-?8$/i.test(charset.trim())) {
      done(
        new AppError(
          ErrorCode.UnsupportedMediaType,
          `the request body must be JSON in UTF-8, not ${JSON.stringify(charset.trim().slice(0, 40))}`,
        ),
        undefined,
      );
      return;
    }
    parseJson(request, body as string, done);
  });

  fastify.addHook('onRequest', (request, _reply, done) => {
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

/**
 * What Node's HTTP parser rejects before Fastify sees a request (headers over the
 * limit, a malformed request line) also gets a problem document with a request id,
 * instead of a bare status line.
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const id = uuidv7();
  const { status, problem } = toProblem(
    tooLarge
      ? new AppError(
          ErrorCode.HeadersTooLarge,
          'the request headers are too large (limit 16 KiB in all)',
        )
      : new AppError(ErrorCode.ValidationFailed, 'the request is not valid HTTP/1.1'),
    { method: '', url: '', id },
  );
  const body = JSON.stringify(problem);
  socket.end(
    `HTTP/1.1 ${status} ${problem.title}\r\n` +
      'content-type: application/problem+json\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      `x-request-id: ${id}\r\n` +
      'connection: close\r\n\r\n' +
      body,
  );
}
