import { ErrorCode } from '@tenantry/contracts';
import { compile } from '@tenantry/policy-engine';
import { inMemoryPolicies, TENANT_A } from '../../test/unit-doubles.js';
import { PolicyService } from './policy.service.js';

function setup() {
  const policies = inMemoryPolicies();
  return { ...policies, rules: new PolicyService(policies.service) };
}

describe('PolicyService (deny rules)', () => {
  it('creates, updates (null removes) and deletes a deny rule the engine applies; audits each', async () => {
    const { rules, bucket, audits } = setup();
    const rule = await rules.create({
      tenantId: TENANT_A,
      name: 'No weekend writes',
      permissions: ['invoices:write'],
      scope: 'invoices',
      conditions: [
        {
          type: 'time-window',
          timeZone: 'Europe/Paris',
          days: ['sat', 'sun'],
          from: '00:00',
          to: '24:00',
        },
      ],
    });
    expect(rule).toMatchObject({ name: 'No weekend writes', scope: 'invoices', subjects: null });
    const policy = compile(bucket.get(TENANT_A));
    const saturday = new Date('2026-11-28T12:00:00Z').getTime();
    expect(
      policy.decide(
        { kind: 'user', id: 'u1', groups: ['tenantry:role:tenant-admin'] },
        'write',
        'invoices/1',
        { now: saturday },
      ),
    ).toMatchObject({ allowed: false, reason: { kind: 'deny-rule' } });

    const updated = await rules.update({
      tenantId: TENANT_A,
      policyId: rule.id,
      scope: null,
      subjects: [{ type: 'role', id: 'member' }],
    });
    expect(updated).toMatchObject({ scope: null, subjects: [{ type: 'role', id: 'member' }] });
    expect(audits().at(-1)).toMatchObject({
      action: 'policy.updated',
      data: {
        before: { scope: 'invoices' },
        after: { subjects: [{ type: 'role', id: 'member' }] },
      },
    });
    await rules.delete(TENANT_A, rule.id);
    expect(await rules.list({ tenantId: TENANT_A, limit: 10 })).toEqual({
      items: [],
      nextCursor: null,
    });
    expect(audits().at(-1)).toMatchObject({ action: 'policy.deleted', data: { after: null } });
  });

  it('refuses an unknown role subject and onFail in conditions, naming the fields', async () => {
    const { rules } = setup();
    await expect(
      rules.create({
        tenantId: TENANT_A,
        name: 'x',
        permissions: ['*:delete'],
        subjects: [{ type: 'role', id: 'contractor' }],
        conditions: [{ type: 'mfa-within', minutes: 5, onFail: 'step-up' }],
      }),
    ).rejects.toMatchObject({
      code: ErrorCode.ValidationFailed,
      errors: expect.arrayContaining([
        { field: 'subjects.0.id', message: 'unknown role "contractor"' },
        { field: 'conditions.0', message: expect.stringContaining('unless') },
      ]),
    });
    await expect(rules.get(TENANT_A, 'nope')).rejects.toMatchObject({ reason: 'POLICY_NOT_FOUND' });
  });
});
