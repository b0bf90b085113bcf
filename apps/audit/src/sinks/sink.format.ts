import { uuidv7 } from '@tenantry/runtime';
import { createHmac } from 'node:crypto';
import { AuditWebhookHeaders, type AuditSinkEntry } from '@tenantry/contracts';
import type { SinkEntity } from './sink.entity.js';
import { post, SinkTransportError, type SinkRequest, type SinkResponse } from './sink.transport.js';
import { isAllowedOrigin } from './sink.url-guard.js';

/** The first retry waits this long, each next one twice as long, up to RETRY_MAX_SECONDS. */
export const RETRY_BASE_SECONDS = 1;
export const RETRY_MAX_SECONDS = 300;
/** A receiver's Retry-After is honoured up to this (a longer one is taken as this). */
export const RETRY_AFTER_MAX_SECONDS = 3600;

/** Where a sink of a type is POSTed to. */
export function deliveryUrl(sink: Pick<SinkEntity, 'type' | 'url'>): string {
  if (sink.type === 'webhook') return sink.url;
  const url = new URL(sink.url);
  if (!url.pathname.endsWith('/services/collector/event'))
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/services/collector/event`;
  return url.toString();
}

/**
 * The `Tenantry-Signature` header of a webhook body: `t=<unix seconds>,v1=<hex
 * HMAC-SHA256(secret, "<t>.<body>")>` (the secret's UTF-8 bytes as the key).
 */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/**
 * The request that delivers `entries` to `sink`: a signed JSON webhook, or a Splunk HEC
 * batch (one event object per line). `deliveryId` is new for every attempt.
 */
export function buildRequest(
  sink: Pick<SinkEntity, 'id' | 'tenantId' | 'type' | 'url' | 'secret'>,
  entries: AuditSinkEntry[],
  deliveryId: string,
  options: { test?: boolean; now?: Date } = {},
): SinkRequest {
  const common = {
    'user-agent': 'Tenantry-Audit/1',
    [AuditWebhookHeaders.deliveryId]: deliveryId,
  };
  if (sink.type === 'splunk-hec') {
    const body = entries
      .map((event) =>
        JSON.stringify({
          time: Date.parse(event.occurredAt) / 1000,
          host: 'tenantry',
          source: 'tenantry:audit',
          sourcetype: 'tenantry:audit',
          event,
        }),
      )
      .join('\n');
    return {
      url: deliveryUrl(sink),
      headers: {
        ...common,
        'content-type': 'application/json',
        authorization: `Splunk ${sink.secret}`,
      },
      body,
    };
  }
  const body = JSON.stringify({
    sinkId: sink.id,
    tenantId: sink.tenantId,
    events: entries,
    ...(options.test ? { test: true } : {}),
  });
  const timestamp = Math.floor((options.now ?? new Date()).getTime() / 1000);
  return {
    url: sink.url,
    headers: {
      ...common,
      'content-type': 'application/json',
      [AuditWebhookHeaders.signature]: webhookSignature(sink.secret, timestamp, body),
    },
    body,
  };
}

/** What to do after an attempt. */
export type Verdict =
  | { kind: 'delivered'; status: number }
  | { kind: 'retry'; status: number | null; error: string; retryAfterSeconds: number | null }
  | { kind: 'dead'; status: number | null; error: string };

/**
 * 2xx: delivered. Network errors, timeouts, 408, 429 and 5xx: retried (429 and 503 with
 * their Retry-After). Any other answer (3xx: redirects are not followed; 4xx): the
 * receiver refuses the batch, and it goes to the dead-letter list at once.
 */
export function judge(outcome: SinkResponse | SinkTransportError): Verdict {
  if (outcome instanceof SinkTransportError)
    return { kind: 'retry', status: null, error: outcome.message, retryAfterSeconds: null };
  const { status } = outcome;
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  const error = `HTTP ${status}${outcome.body ? `: ${oneLine(outcome.body)}` : ''}`;
  if (status === 408 || status === 429 || status >= 500)
    return { kind: 'retry', status, error, retryAfterSeconds: outcome.retryAfterSeconds };
  if (status >= 300 && status < 400)
    return { kind: 'dead', status, error: `${error} (redirects are not followed)` };
  return { kind: 'dead', status, error };
}

/**
 * The wait before attempt `attempt + 1` after `attempt` failures: 1 s, 2 s, 4 s… capped
 * at 5 minutes, plus up to 25 % jitter (capped too), or the receiver's Retry-After when
 * it asked for one (at most an hour).
 */
export function retryDelaySeconds(
  attempt: number,
  retryAfterSeconds: number | null,
  random: () => number = Math.random,
): number {
  if (retryAfterSeconds !== null) return Math.min(retryAfterSeconds, RETRY_AFTER_MAX_SECONDS);
  const base = Math.min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** Math.max(0, attempt - 1));
  return Math.min(RETRY_MAX_SECONDS, base * (1 + 0.25 * random()));
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}

/** POSTs `entries` to `sink` once (a new delivery id); the answer, or why there was none. */
export async function deliver(
  sink: SinkEntity,
  entries: AuditSinkEntry[],
  allowOrigins: readonly string[],
  options: { test?: boolean } = {},
): Promise<{ deliveryId: string; outcome: SinkResponse | SinkTransportError }> {
  const deliveryId = uuidv7();
  const request = buildRequest(sink, entries, deliveryId, options);
  const allowPrivate = isAllowedOrigin(new URL(request.url), allowOrigins);
  try {
    return { deliveryId, outcome: await post(request, { allowPrivate }) };
  } catch (error) {
    if (error instanceof SinkTransportError) return { deliveryId, outcome: error };
    throw error;
  }
}
