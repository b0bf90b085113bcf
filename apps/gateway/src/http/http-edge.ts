import { uuidv7 } from '@tenantry/runtime';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppError, ErrorCode } from '@tenantry/contracts';
import { messageContext, newContext } from '@tenantry/messaging';
import { errorCodes, type FastifyError, type FastifyRequest } from 'fastify';
import { parseJsonBody } from './json-body.js';
import { toProblem } from './problem-details.js';
import { RouteTable } from './route-table.js';

/** Routes whose body is a form (application/x-www-form-urlencoded), not JSON. */
const FORM_ROUTES = new Set(['/v1/auth/sso/saml/:connectionId/acs']);

/**
 * The gateway's HTTP edge, installed before routes are registered:
 * - request bodies are JSON in UTF-8 or nothing (415 otherwise: no text, and forms only
 *   on the SAML ACS, SCIM's application/scim+json only under /scim/v2); see
 *   parseJsonBody for what else a JSON body must be;
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
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer, request.headers));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  // SAML's HTTP-POST binding: an IdP's browser form posts to the ACS, the one route that
  // takes a form; anywhere else a form body is the usual 415.
  fastify.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (request, body, done) => {
      if (!FORM_ROUTES.has(request.routeOptions.url ?? ''))
        return done(
          new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE('application/x-www-form-urlencoded'),
          undefined,
        );
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );

  // SCIM (RFC 7644 §3.1): IdPs send application/scim+json, which is JSON; on the SCIM
  // routes (/scim/v2/...) it is parsed and checked exactly as application/json is;
  // anywhere else it is the usual 415.
  fastify.addContentTypeParser(
    'application/scim+json',
    { parseAs: 'buffer' },
    (request, body, done) => {
      if (!(request.routeOptions.url ?? '').startsWith('/scim/v2/'))
        return done(
          new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE('application/scim+json'),
          undefined,
        );
      try {
        done(null, parseJsonBody(body as Buffer, request.headers));
      } catch (error) {
        done(error as Error, undefined);
      }
    },
  );

  // Node hands CONNECT to 'connect' listeners only (and closes the connection when there
  // are none): answer it, as every other request, with a problem document.
  fastify.server.on('connect', (_request: unknown, socket: Duplex) =>
    answerOnSocket(
      socket,
      new AppError(
        ErrorCode.ValidationFailed,
        'CONNECT is not supported: the gateway is not a proxy',
      ),
    ),
  );

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

/** The part of a Fastify reply `frameworkErrors` uses (it gets one of any server type). */
interface ProblemReply {
  status(code: number): {
    headers(values: Record<string, string>): { send(payload?: unknown): unknown };
  };
}

/**
 * What Fastify's router rejects before any hook runs (a malformed percent-encoding, a
 * path parameter over its length limit) gets a problem document with the request id,
 * not Fastify's JSON that echoes the URL back. Passed as the `frameworkErrors` option.
 */
export function frameworkErrors(
  error: FastifyError,
  request: Pick<FastifyRequest, 'id' | 'method' | 'url' | 'headers'>,
  reply: ProblemReply,
): void {
  const id = String(request.id);
  const { status, headers, problem } = toProblem(error, {
    method: request.method,
    url: request.url,
    id,
    contentType: request.headers['content-type'],
  });
  void reply
    .status(status)
    .headers({ ...headers, 'x-request-id': id, 'content-type': 'application/problem+json' })
    .send(problem);
}

function clientError(code: string | undefined): AppError {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return new AppError(
        ErrorCode.HeadersTooLarge,
        'the request line and headers are too large (limit 16 KiB in all): shorten the URL or the headers',
      );
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new AppError(
        ErrorCode.RequestTimeout,
        'the request was not received in time: send its headers and body without pausing',
      );
    default:
      return new AppError(
        ErrorCode.ValidationFailed,
        `the request is not valid HTTP/1.1 (${String(code ?? 'parse error').slice(0, 40)})`,
      );
  }
}

/** A problem document written straight to the socket, for what never becomes a Fastify request. */
function answerOnSocket(socket: Duplex, error: AppError): void {
  const id = uuidv7();
  const { status, problem } = toProblem(error, { method: '', url: '', id });
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

/**
 * What Node's HTTP parser rejects before Fastify sees a request (headers over the
 * limit, a malformed request line, a timeout) also gets a problem document with a
 * request id, instead of a bare status line. Passed as the `clientErrorHandler` option.
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  // As Node does: answer only when no response to an earlier request on this
  // connection is being written, else the answer would corrupt it.
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  answerOnSocket(socket, clientError(error.code));
}
