import { createHmac } from 'node:crypto';
import type { AuditSinkEntry } from '@tenantry/contracts';
import {
  buildRequest,
  deliveryUrl,
  judge,
  retryDelaySeconds,
  RETRY_MAX_SECONDS,
  webhookSignature,
} from './sink.format.js';
import { parseRetryAfter, SinkTransportError } from './sink.transport.js';
import { isBlockedAddress } from './sink.url-guard.js';

const entry = (seq: number): AuditSinkEntry => ({
  schemaVersion: 1,
  id: `01a22add-94c3-7000-8000-00000000000${seq}`,
  tenantId: '01a22add-94c3-7000-8000-0000000000aa',
  seq,
  occurredAt: '2026-11-30T05:00:00.250Z',
  recordedAt: '2026-11-30T05:00:01.000Z',
  category: 'users',
  action: 'user.updated',
  outcome: 'success',
  severity: 'info',
  actor: { type: 'user', id: 'u-1' },
  prevHash: '0'.repeat(64),
  hash: 'a'.repeat(64),
});

const sink = {
  id: '01a22add-94c3-7000-8000-0000000000bb',
  tenantId: '01a22add-94c3-7000-8000-0000000000aa',
  url: 'https://siem.example.com/hook',
  secret: 'whsec_0123456789abcdefghijklmnopqrstuv',
};

describe('webhook requests', () => {
  it('signs "<t>.<raw body>" with HMAC-SHA256 of the secret, Stripe-style', () => {
    const now = new Date('2026-11-30T05:00:00Z');
    const request = buildRequest({ ...sink, type: 'webhook' }, [entry(1), entry(2)], 'd-1', {
      now,
    });
    const t = Math.floor(now.getTime() / 1000);
    const expected = createHmac('sha256', sink.secret).update(`${t}.${request.body}`).digest('hex');
    expect(request.headers['Tenantry-Signature']).toBe(`t=${t},v1=${expected}`);
    expect(request.headers['Tenantry-Delivery-Id']).toBe('d-1');
    expect(request.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request.body)).toEqual({
      sinkId: sink.id,
      tenantId: sink.tenantId,
      events: [entry(1), entry(2)],
    });
    expect(request.url).toBe(sink.url);
  });

  it('changes the signature with the body, the time or the secret', () => {
    const base = webhookSignature('k'.repeat(32), 1000, '{"a":1}');
    expect(webhookSignature('k'.repeat(32), 1000, '{"a":2}')).not.toBe(base);
    expect(webhookSignature('k'.repeat(32), 1001, '{"a":1}')).not.toBe(base);
    expect(webhookSignature('j'.repeat(32), 1000, '{"a":1}')).not.toBe(base);
  });

  it('marks a test delivery', () => {
    const request = buildRequest({ ...sink, type: 'webhook' }, [entry(0)], 'd-2', { test: true });
    expect(JSON.parse(request.body)).toMatchObject({ test: true });
  });
});

describe('Splunk HEC requests', () => {
  it('POSTs one event object per line to /services/collector/event with the Splunk token', () => {
    const request = buildRequest(
      { ...sink, type: 'splunk-hec', url: 'https://splunk.example.com:8088/', secret: 'tok-1' },
      [entry(1), entry(2)],
      'd-3',
    );
    expect(request.url).toBe('https://splunk.example.com:8088/services/collector/event');
    expect(request.headers.authorization).toBe('Splunk tok-1');
    const lines = request.body.split('\n').map((line) => JSON.parse(line) as unknown);
    expect(lines).toEqual([
      {
        time: 1796014800.25, // 2026-11-30T05:00:00.250Z
        host: 'tenantry',
        source: 'tenantry:audit',
        sourcetype: 'tenantry:audit',
        event: entry(1),
      },
      expect.objectContaining({ event: entry(2) }),
    ]);
  });

  it('keeps a URL that already names the collector endpoint', () => {
    const url = 'https://splunk.example.com/services/collector/event';
    expect(deliveryUrl({ type: 'splunk-hec', url })).toBe(url);
  });
});

describe('judge', () => {
  const response = (status: number, retryAfterSeconds: number | null = null) => ({
    status,
    retryAfterSeconds,
    body: 'nope',
  });

  it('delivers on 2xx', () => {
    expect(judge(response(200)).kind).toBe('delivered');
    expect(judge(response(204)).kind).toBe('delivered');
  });

  it('retries network errors, 408, 429 (with Retry-After) and 5xx', () => {
    expect(judge(new SinkTransportError('ECONNREFUSED'))).toEqual({
      kind: 'retry',
      status: null,
      error: 'ECONNREFUSED',
      retryAfterSeconds: null,
    });
    for (const status of [408, 429, 500, 502, 503])
      expect(judge(response(status)).kind).toBe('retry');
    expect(judge(response(429, 7))).toMatchObject({ kind: 'retry', retryAfterSeconds: 7 });
  });

  it('dead-letters every other answer at once, redirects included', () => {
    for (const status of [301, 400, 401, 403, 404, 410, 413, 422])
      expect(judge(response(status)).kind).toBe('dead');
    expect(judge(response(400))).toMatchObject({ error: 'HTTP 400: nope', status: 400 });
  });
});

describe('retryDelaySeconds', () => {
  it('doubles from 1 s with up to 25 % jitter, capped at 5 minutes', () => {
    expect([1, 2, 3, 4].map((n) => retryDelaySeconds(n, null, () => 0))).toEqual([1, 2, 4, 8]);
    expect(retryDelaySeconds(3, null, () => 1)).toBe(5);
    expect(retryDelaySeconds(20, null, () => 1)).toBe(RETRY_MAX_SECONDS);
  });

  it("honours the receiver's Retry-After (up to an hour)", () => {
    expect(retryDelaySeconds(1, 30)).toBe(30);
    expect(retryDelaySeconds(1, 86_400)).toBe(3600);
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates', () => {
    const now = Date.parse('2026-11-30T05:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120);
    expect(parseRetryAfter('Mon, 30 Nov 2026 05:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
  });
});

describe('isBlockedAddress', () => {
  it('refuses loopback, private, link-local, CGNAT, multicast and IPv4-mapped ones', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '::1',
      '::',
      'fc00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
    ])
      expect([address, isBlockedAddress(address)]).toEqual([address, true]);
  });

  it('lets public addresses through', () => {
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111'])
      expect([address, isBlockedAddress(address)]).toEqual([address, false]);
  });
});
