import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

/** Most of an unread request body read (and dropped) before a response goes out. */
export const UNREAD_BODY_MAX_BYTES = 8 * 1024 * 1024;
/** Longest wait for it. */
export const UNREAD_BODY_MAX_MS = 5_000;

/**
 * Reads and drops what is left of a request body, up to `maxBytes` or `maxMs`, resolving
 * when the body ended (or the bound was reached, or the connection failed).
 *
 * Why: a response sent before the request body was read (a 413 decided from Content-Length)
 * is followed by closing the connection, and a socket closed with unread bytes in its
 * receive buffer is reset by the kernel instead of closed; a client still sending then gets
 * the reset and may lose the response it had not read yet. Reading the rest first (as
 * nginx's lingering close does) lets the response arrive. Bounded, so that a client that
 * never stops sending holds the connection for at most `maxMs`.
 */
export function discardUnreadBody(
  request: IncomingMessage,
  maxBytes = UNREAD_BODY_MAX_BYTES,
  maxMs = UNREAD_BODY_MAX_MS,
): Promise<void> {
  if (request.complete || request.readableEnded || request.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const finish = () => {
      clearTimeout(timer);
      request.off('data', onData);
      request.off('end', finish);
      request.off('error', finish);
      request.off('close', finish);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > maxBytes) finish();
    };
    const timer = setTimeout(finish, maxMs);
    request.on('data', onData);
    request.on('end', finish);
    request.on('error', finish);
    request.on('close', finish);
    request.resume();
  });
}

/**
 * Makes every response whose request body is still unread wait for it to be read and dropped
 * (discardUnreadBody) before it is sent.
 */
export function sendAfterUnreadBody(
  fastify: FastifyInstance,
  maxBytes = UNREAD_BODY_MAX_BYTES,
  maxMs = UNREAD_BODY_MAX_MS,
): void {
  fastify.addHook('onSend', (request, _reply, payload, done) => {
    if (request.raw.complete) return done(null, payload);
    void discardUnreadBody(request.raw, maxBytes, maxMs).then(() => done(null, payload));
  });
}
