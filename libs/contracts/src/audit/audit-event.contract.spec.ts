import { AuditEventV1Schema, REDACTED, redact } from './audit-event.contract.js';

const event = {
  schemaVersion: 1,
  id: '01a22add-94c3-7000-8000-000000000001',
  tenantId: '01a22add-94c3-7000-8000-000000000002',
  occurredAt: '2026-11-30T05:00:00Z',
  category: 'users',
  action: 'user.updated',
  outcome: 'success',
  actor: { type: 'operator', id: 'op-1' },
};

describe('audit event v1', () => {
  it('still takes an event with none of the optional fields (every existing publisher)', () => {
    expect(AuditEventV1Schema.parse(event)).toEqual(event);
  });

  it('takes what auditors need: severity, client, session, on-behalf-of, trace, reason, changes', () => {
    const full = {
      ...event,
      actor: { ...event.actor, ip: '203.0.113.7', userAgent: 'curl/8', sessionId: 's-1' },
      severity: 'warning',
      onBehalfOf: { type: 'tenant', id: event.tenantId },
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      reason: 'password expired',
      changes: { before: { roles: ['member'] }, after: { roles: ['tenant-admin'] } },
    };
    expect(AuditEventV1Schema.parse(full)).toEqual(full);
  });

  it('names what is wrong', () => {
    const result = AuditEventV1Schema.safeParse({
      ...event,
      severity: 'loud',
      traceId: 'xyz',
      changes: { during: {} },
      data: { blob: 'x'.repeat(17 * 1024) },
    });
    const issues = result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues).toEqual(
      expect.arrayContaining([
        'severity: must be one of info, notice, warning, critical',
        'traceId: must be a W3C trace id: 32 lowercase hex digits',
        'data: must be at most 16384 bytes as JSON',
      ]),
    );
    expect(issues.some((i) => i.startsWith('changes'))).toBe(true);
  });
});

describe('redact', () => {
  it('replaces the values of sensitive fields at any depth, ignoring case, and keeps the rest', () => {
    const value = {
      email: 'a@b.c',
      Password: 'hunter2',
      nested: { apiKey: 'tnty_x', list: [{ secret: 1, ok: true }] },
    };
    expect(redact(value, ['password', 'apikey', 'secret'])).toEqual({
      email: 'a@b.c',
      Password: REDACTED,
      nested: { apiKey: REDACTED, list: [{ secret: REDACTED, ok: true }] },
    });
    expect(value.Password).toBe('hunter2');
  });
});
