// Which decisions go to the audit log, and the event that records one.
import { AuditEventV1Schema } from '@tenantry/contracts';
import { decisionAuditEvent, shouldAudit } from './audit.js';
import { compile } from './compile.js';
import type { Decision } from './decision.js';
import { defaultPolicy } from './templates.js';

const TENANT = '0193a000-0000-7000-8000-00000000000a';
const EVENT_ID = '0193e000-0000-7000-8000-000000000001';
const policy = compile({
  ...defaultPolicy(TENANT),
  denyRules: [{ id: 'r1', name: 'no exports', permissions: ['*:export'] }],
  roles: [
    ...defaultPolicy(TENANT).roles,
    {
      id: 'break-glass',
      name: 'Break glass',
      permissions: ['*:*'],
      conditions: [{ type: 'mfa-within', minutes: 5 }],
    },
  ],
  bindings: [
    ...defaultPolicy(TENANT).bindings,
    { id: 'b9', roleId: 'break-glass', subject: { type: 'user', id: 'sam' } },
  ],
});
const member = { kind: 'user', id: 'mia', groups: ['tenantry:role:member'] } as const;
const allowed = policy.decide(member, 'read', 'profile');
const denied = policy.decide(member, 'write', 'users/7');
const stepUp = policy.decide({ kind: 'user', id: 'sam' }, 'write', 'users/7');

describe('shouldAudit', () => {
  it('always audits a deny, whatever the rate', () => {
    for (const rate of [0, 0.5, 1]) expect(shouldAudit(denied, rate, () => 0.999)).toBe(true);
  });

  it('audits an allow at the sample rate', () => {
    expect(shouldAudit(allowed, 0, () => 0)).toBe(false);
    expect(shouldAudit(allowed, 1, () => 0.999)).toBe(true);
    expect(shouldAudit(allowed, 0.25, () => 0.2)).toBe(true);
    expect(shouldAudit(allowed, 0.25, () => 0.25)).toBe(false);
  });

  it('samples about the share asked for', () => {
    let state = 42;
    // A small LCG: the same numbers every run.
    const random = () => {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      return state / 2 ** 31;
    };
    let audited = 0;
    for (let i = 0; i < 100_000; i++) if (shouldAudit(allowed, 0.01, random)) audited++;
    expect(audited).toBeGreaterThan(800);
    expect(audited).toBeLessThan(1_200);
  });

  it('never audits an allow at a rate that is not a positive number', () => {
    expect(shouldAudit(allowed, Number.NaN, () => 0)).toBe(false);
    expect(shouldAudit(allowed, -1, () => 0)).toBe(false);
  });
});

describe('decisionAuditEvent', () => {
  const base = {
    id: EVENT_ID,
    tenantId: TENANT,
    actor: { type: 'user' as const, id: 'mia' },
    occurredAt: new Date('2026-11-30T10:00:00Z'),
    requestId: 'req-1',
  };

  it('records a deny as a failure of the tenant, with the reason and the policy version', () => {
    const event = decisionAuditEvent({
      ...base,
      action: 'write',
      resource: 'users/7',
      decision: denied,
    });
    expect(AuditEventV1Schema.parse(event)).toEqual(event);
    expect(event).toEqual({
      schemaVersion: 1,
      id: EVENT_ID,
      tenantId: TENANT,
      occurredAt: '2026-11-30T10:00:00.000Z',
      category: 'authz',
      action: 'authz.denied',
      outcome: 'failure',
      actor: { type: 'user', id: 'mia' },
      target: { type: 'users', id: 'users/7' },
      requestId: 'req-1',
      data: {
        permission: 'users/7:write',
        action: 'write',
        resource: 'users/7',
        allowed: false,
        reason: { kind: 'no-grant', message: denied.reason.message },
        policyVersion: 1,
      },
    });
  });

  it('records a sampled allow as a success, with the binding, role and sample rate', () => {
    const event = decisionAuditEvent({
      ...base,
      action: 'read',
      resource: 'profile',
      decision: allowed,
      allowSampleRate: 0.01,
      extra: { route: 'GET /v1/me' },
    });
    expect(AuditEventV1Schema.parse(event)).toEqual(event);
    expect(event).toMatchObject({
      action: 'authz.allowed',
      outcome: 'success',
      data: {
        route: 'GET /v1/me',
        allowed: true,
        reason: { kind: 'granted', bindingId: 'default-member', roleId: 'member' },
        allowSampleRate: 0.01,
      },
    });
  });

  it('records the step-up obligation', () => {
    expect(stepUp.reason.kind).toBe('step-up-required');
    const event = decisionAuditEvent({
      ...base,
      action: 'write',
      resource: 'users/7',
      decision: stepUp,
    });
    expect(event.data).toMatchObject({
      reason: { kind: 'step-up-required' },
      obligations: [{ type: 'step-up', mfaWithinMinutes: 5 }],
    });
    expect(AuditEventV1Schema.safeParse(event).success).toBe(true);
  });

  it('keeps a long resource within the target id limit, whole in data', () => {
    const resource = `projects/${'p'.repeat(120)}/tasks/${'t'.repeat(120)}`;
    const decision: Decision = policy.decide(member, 'read', resource);
    const event = decisionAuditEvent({ ...base, action: 'read', resource, decision });
    expect(AuditEventV1Schema.safeParse(event).success).toBe(true);
    expect(event.target!.id.length).toBe(200);
    expect(event.data!.resource).toBe(resource);
  });
});
