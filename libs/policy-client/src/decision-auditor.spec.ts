import { Logger } from '@nestjs/common';
import { ContractValidationError, type AuditEvent } from '@tenantry/contracts';
import { newContext } from '@tenantry/messaging';
import type { Decision } from '@tenantry/policy-engine';
import { register } from 'prom-client';
import { DecisionAuditor } from './decision-auditor.js';

const event = (n: number): AuditEvent => ({
  schemaVersion: 1,
  id: `0193e000-0000-7000-8000-${String(n).padStart(12, '0')}`,
  tenantId: '0193a000-0000-7000-8000-00000000000a',
  occurredAt: new Date().toISOString(),
  category: 'authz',
  action: 'authz.denied',
  outcome: 'failure',
  actor: { type: 'user', id: 'u' },
});

async function counted(result: string): Promise<number> {
  const metric = await register.getSingleMetric('tenantry_authz_audit_events_total')!.get();
  return metric.values.find((v) => v.labels.result === result)?.value ?? 0;
}

const until = async (probe: () => boolean) => {
  for (let i = 0; i < 200 && !probe(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(probe()).toBe(true);
};

beforeAll(() => Logger.overrideLogger(false));

describe('DecisionAuditor', () => {
  it('queues without waiting, and publishes in the background', async () => {
    const published: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const auditor = new DecisionAuditor(async (e) => {
      await gate;
      published.push(e.id);
    });
    expect(auditor.record(event(1))).toBe(true);
    expect(auditor.record(event(2))).toBe(true);
    expect(published).toEqual([]);
    release();
    await until(() => published.length === 2);
    expect(auditor.buffered).toBe(0);
    await auditor.stop();
  });

  it('keeps events while NATS does not take them, drops beyond its capacity (counted), and publishes when it is back', async () => {
    let down = true;
    const published: string[] = [];
    const auditor = new DecisionAuditor(
      async (e) => {
        if (down) throw new Error('NATS is disconnected');
        published.push(e.id);
      },
      { capacity: 3, retryMs: 5, maxRetryMs: 10 },
    );
    const droppedBefore = await counted('dropped');
    expect([1, 2, 3, 4, 5].map((n) => auditor.record(event(n)))).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
    expect(await counted('dropped')).toBe(droppedBefore + 2);
    await new Promise((r) => setTimeout(r, 30));
    expect(auditor.buffered).toBe(3);
    down = false;
    await until(() => published.length === 3);
    expect(published).toEqual([event(1).id, event(2).id, event(3).id]);
    await auditor.stop();
  });

  it('drops an event its contract refuses instead of retrying it forever', async () => {
    const invalidBefore = await counted('invalid');
    const auditor = new DecisionAuditor(async () => {
      throw new ContractValidationError([{ field: 'tenantId', message: 'must be a UUID' }]);
    });
    auditor.record(event(1));
    await until(() => auditor.buffered === 0);
    expect(await counted('invalid')).toBe(invalidBefore + 1);
    await auditor.stop();
  });

  it('at shutdown, publishes what it can within the time given and counts the rest as dropped', async () => {
    const auditor = new DecisionAuditor(() => new Promise(() => undefined), { retryMs: 5 });
    auditor.record(event(1));
    const droppedBefore = await counted('dropped');
    await auditor.stop(20);
    expect(await counted('dropped')).toBe(droppedBefore + 1);
    expect(auditor.record(event(2))).toBe(false);
  });

  it('audits decisions: every deny, allows at the sample rate, never a policy-unavailable one', async () => {
    const published: { event: AuditEvent; tenantId?: string }[] = [];
    const auditor = new DecisionAuditor(async (event, context) => {
      published.push({ event, tenantId: context?.tenantId });
    });
    const decision = (allowed: boolean, kind: Decision['reason']['kind']): Decision => ({
      allowed,
      reason: { kind, message: kind },
      obligations: [],
      policyVersion: kind === 'policy-unavailable' ? null : 3,
    });
    const context = newContext({ actor: 'service:billing' });
    const input = {
      tenantId: event(0).tenantId,
      actor: { type: 'user', id: 'u' } as const,
      action: 'write',
      resource: 'invoices/7',
      allowSampleRate: 0.25,
      context,
      extra: { route: 'POST /v1/invoices' },
    };
    expect(auditor.audit({ ...input, decision: decision(false, 'no-grant') })).toBe(true);
    expect(auditor.audit({ ...input, decision: decision(false, 'policy-unavailable') })).toBe(
      false,
    );
    expect(auditor.audit({ ...input, decision: decision(true, 'granted') }, () => 0.5)).toBe(false);
    expect(auditor.audit({ ...input, decision: decision(true, 'granted') }, () => 0.1)).toBe(true);
    await until(() => published.length === 2);
    expect(published[0]).toMatchObject({
      tenantId: input.tenantId,
      event: {
        action: 'authz.denied',
        requestId: context.requestId,
        data: { route: 'POST /v1/invoices', permission: 'invoices/7:write' },
      },
    });
    expect(published[1]!.event).toMatchObject({
      action: 'authz.allowed',
      data: { allowSampleRate: 0.25 },
    });
    await auditor.stop();
  });
});
