import { headers } from '@nats-io/transport-node';
import {
  childTraceparent,
  contextFromHeaders,
  contextToHeaders,
  newContext,
  newTraceparent,
} from './message-context.js';

describe('message context', () => {
  it('makes valid, distinct W3C traceparents', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2_000; i++) {
      const tp = newTraceparent();
      expect(tp).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      seen.add(tp);
    }
    expect(seen.size).toBe(2_000);
  });

  it('keeps the trace id and flags across a hop, with a new span id', () => {
    const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const child = childTraceparent(parent);
    expect(child).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect(child).not.toBe(parent);
    expect(childTraceparent('garbage')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('round-trips tenant, actor, request id and trace through NATS headers', () => {
    const sent = newContext({
      tenantId: 't-1',
      actor: 'user:42',
      requestId: 'req-1',
      tracestate: 'v=1',
    });
    const received = contextFromHeaders(contextToHeaders(sent, headers()));
    expect(received).toMatchObject({
      tenantId: 't-1',
      actor: 'user:42',
      requestId: 'req-1',
      tracestate: 'v=1',
    });
    expect(received.traceparent.slice(0, 36)).toBe(sent.traceparent.slice(0, 36));
  });

  it('fills in a request id and trace when a message arrives without them', () => {
    const received = contextFromHeaders(undefined);
    expect(received.tenantId).toBeUndefined();
    expect(received.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(received.traceparent).toMatch(/^00-/);
  });
});
