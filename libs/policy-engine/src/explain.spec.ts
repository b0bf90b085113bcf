// explain: the full trace, in words a tenant admin understands.
import { compile } from './compile.js';
import { ACME, MINUTE, MON, SAT } from './spec/acme-policy.js';

const policy = compile(ACME);

describe('explain', () => {
  it('traces a deny rule with the local time, and the grant it overrides', () => {
    const { decision, steps } = policy.explain(
      { kind: 'user', id: 'alice' },
      'write',
      'invoices/7',
      {
        now: SAT,
      },
    );
    expect(decision.reason.kind).toBe('deny-rule');
    expect(steps).toEqual([
      'Policy of tenant acme, version 7.',
      'Question: may user alice write invoices/7?',
      "Deny rule 'no weekend invoice writes' (d1) covers write on invoices/7 (invoices:write), which applies to everyone, and its conditions hold (the time is from 00:00 to 24:00 on Sat, Sun in Europe/Paris: it is Saturday 10:12 in Europe/Paris): it applies.",
      'The deny rule overrides any allow; for information, the grants:',
      'role Senior Clerk (bound to user alice by binding b1) inherits role Invoice Clerk, which grants invoices:write: it would allow, were it not for the deny rule.',
      "Decision: deny: deny rule 'no weekend invoice writes' (d1) applies to invoices:write.",
    ]);
  });

  it('traces every binding of the principal and its groups, and the conditions with their facts', () => {
    const { decision, steps } = policy.explain(
      { kind: 'user', id: 'judy', groups: ['eng'] },
      'read',
      'invoices/3',
      { now: MON, ip: '192.168.9.9' },
    );
    expect(decision.reason.kind).toBe('condition-failed');
    expect(steps).toEqual([
      'Policy of tenant acme, version 7.',
      'Question: may user judy (in groups eng) read invoices/3?',
      '6 deny rules do not cover read on invoices/3.',
      'role Project developer (bound to group eng by binding b4, within projects/42) grants nothing that covers read on invoices/3.',
      'role Invoice Clerk (bound to user judy by binding b11) grants invoices:read, but a condition fails (the IP address is in 10.0.0.0/8 or 2001:db8::/32 or 192.168.1.7: the IP address is 192.168.9.9).',
      'Decision: deny: role Invoice Clerk (bound to user judy by binding b11) grants invoices:read only if the IP address is in 10.0.0.0/8 or 2001:db8::/32 or 192.168.1.7, which does not hold.',
    ]);
  });

  it('traces step-up, scopes and expiry', () => {
    const stepUp = policy.explain({ kind: 'user', id: 'wade' }, 'export', 'reports/1', {
      now: MON,
      mfaAt: MON - 42 * MINUTE,
    });
    expect(stepUp.decision.obligations).toEqual([{ type: 'step-up', mfaWithinMinutes: 10 }]);
    expect(stepUp.steps[2]).toBe(
      "Deny rule 'exports need recent MFA' (d3) covers export on reports/1 (*:export), which applies to everyone; its exception would hold with an MFA at most 10 minutes old (the last MFA was at most 10 minutes ago: the last MFA was 42 min 0 s ago).",
    );
    expect(stepUp.steps.at(-1)).toBe(
      "Decision: deny: MFA required: deny rule 'exports need recent MFA' (d3) applies to *:export unless the last MFA was at most 10 minutes ago.",
    );

    const scoped = policy.explain({ kind: 'user', id: 'dave' }, 'read', 'projects/43', {
      now: MON,
    });
    expect(scoped.steps).toContain(
      'role Viewer (bound to user dave by binding b5, within projects/42) would grant *:read, but projects/43 is not within projects/42.',
    );
    const expired = policy.explain({ kind: 'user', id: 'ivan' }, 'write', 'invoices/1', {
      now: MON,
    });
    expect(expired.steps).toContain(
      'role Invoice Clerk (bound to user ivan by binding b10) grants invoices:write, but the binding expired at 2026-06-01T00:00:00Z.',
    );
    const key = policy.explain(
      { kind: 'api_key', id: 'k1', apiKeyScopes: ['invoices:read'] },
      'read',
      'invoices',
      {
        now: MON,
      },
    );
    expect(key.steps[2]).toBe('The scope invoices:read of API key k1 covers read on invoices.');
    expect(key.decision.allowed).toBe(true);
  });

  it('says when nothing is bound', () => {
    const { steps } = policy.explain({ kind: 'user', id: 'nobody' }, 'read', 'x', { now: MON });
    expect(steps).toContain('No role is bound to user nobody.');
    expect(steps.at(-1)).toBe('Decision: deny: no role bound to user nobody grants read on x.');
  });
});
