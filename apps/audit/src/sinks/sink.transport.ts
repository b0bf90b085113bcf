import http from 'node:http';
import https from 'node:https';
import { blockedLiteral, guardedLookup } from './sink.url-guard.js';

/** A receiver has this long to answer a delivery, body included. */
export const SINK_TIMEOUT_MS = 10_000;
/** What is kept of a receiver's answer, for the sink's last error. */
const RESPONSE_KEPT_BYTES = 512;

/** One POST to a receiver. */
export interface SinkRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** The receiver's answer (any status). */
export interface SinkResponse {
  status: number;
  /** Retry-After in seconds (delta-seconds or an HTTP date), when sent. */
  retryAfterSeconds: number | null;
  /** The start of the answer's body, for error messages. */
  body: string;
}

/** No answer: the connection failed, timed out, or the host is a refused address. */
export class SinkTransportError extends Error {}

/** Retry-After as seconds from now (RFC 9110 §10.2.3), or null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d{1,10}$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/**
 * POSTs `request` with node:http(s): no redirects followed, a deadline of `timeoutMs` for
 * the whole exchange, and (unless `allowPrivate`) no connection to a private or loopback
 * address, checked on the addresses the connection itself resolves (DNS rebinding).
 */
export function post(
  request: SinkRequest,
  options: { allowPrivate: boolean; timeoutMs?: number },
): Promise<SinkResponse> {
  const url = new URL(request.url);
  const timeoutMs = options.timeoutMs ?? SINK_TIMEOUT_MS;
  if (!options.allowPrivate) {
    const literal = blockedLiteral(url);
    if (literal)
      return Promise.reject(
        new SinkTransportError(`${literal} is a private or loopback address: refused`),
      );
  }
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<SinkResponse>((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const req = client.request(
      url,
      {
        method: 'POST',
        headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
        ...(options.allowPrivate ? {} : { lookup: guardedLookup }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          if (kept < RESPONSE_KEPT_BYTES) {
            chunks.push(chunk);
            kept += chunk.length;
          }
        });
        res.on('error', (error) =>
          finish(() => reject(new SinkTransportError(`reading the answer: ${error.message}`))),
        );
        res.on('end', () =>
          finish(() =>
            resolve({
              status: res.statusCode ?? 0,
              retryAfterSeconds: parseRetryAfter(header(res.headers['retry-after'])),
              body: Buffer.concat(chunks).toString('utf8').slice(0, RESPONSE_KEPT_BYTES),
            }),
          ),
        );
      },
    );
    const timer = setTimeout(() => {
      const error = new SinkTransportError(`no answer within ${timeoutMs / 1000} s`);
      finish(() => reject(error));
      req.destroy(error);
    }, timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) =>
      finish(() =>
        reject(
          error instanceof SinkTransportError
            ? error
            : new SinkTransportError(
                error.code ? `${error.code}: ${error.message}` : error.message,
              ),
        ),
      ),
    );
    req.end(request.body);
  });
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
