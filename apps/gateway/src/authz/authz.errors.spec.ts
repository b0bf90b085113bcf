import { ProblemSchema } from '@tenantry/contracts';
import { compile, defaultPolicy, PolicyStore, type Decision } from '@tenantry/policy-engine';
import { toProblem } from '../http/problem-details.js';
import { AuthzErrors } from './authz.errors.js';

const T = '0193a000-0000-7000-8000-00000000000a';
const policy = compile({
  ...defaultPolicy(T),
  version: 3,
  denyRules: [
    {
      id: 'r1',
      name: 'no deletes',
      permissions: ['users:delete'],
    },
    {
      id: 'r2',
      name: 'exports need MFA',
      permissions: ['*:export'],
      unless: [{ type: 'mfa-within', minutes: 10 }],
    },
  ],
});
const admin = { kind: 'user', id: 'u1', groups: ['tenantry:role:tenant-admin'] } as const;
const member = { kind: 'user', id: 'u2', groups: ['tenantry:role:member'] } as const;

function answer(decision: Decision, permission: string) {
  return toProblem(AuthzErrors.fromDecision(decision, permission), {
    method: 'GET',
    url: '/v1/x',
    id: 'req-1',
  });
}

describe('a decision as an HTTP answer', () => {
  it('a deny: 403 AUTH_NOT_PERMITTED naming the permission and the reason', () => {
    const { status, problem, headers } = answer(
      policy.decide(member, 'write', 'users'),
      'users:write',
    );
    expect(status).toBe(403);
    expect(headers).toEqual({});
    expect(ProblemSchema.parse(problem)).toMatchObject({
      code: 'FORBIDDEN',
      reason: 'AUTH_NOT_PERMITTED',
      detail: expect.stringMatching(
        /^you are not allowed to do this: it takes the permission users:write \(.+\)$/,
      ),
    });
    expect(problem.obligations).toBeUndefined();
    const rule = answer(policy.decide(admin, 'delete', 'users/7'), 'users:delete');
    expect(rule.problem.detail).toContain('no deletes');
  });

  it('step-up: 403 STEP_UP_REQUIRED with the obligation in the body', () => {
    const decision = policy.decide(admin, 'export', 'audit');
    expect(decision.reason.kind).toBe('step-up-required');
    const { status, problem } = answer(decision, 'audit:export');
    expect(status).toBe(403);
    expect(ProblemSchema.parse(problem)).toMatchObject({
      reason: 'STEP_UP_REQUIRED',
      obligations: [{ type: 'step-up', mfaWithinMinutes: 10 }],
    });
    expect(problem.detail).toContain('audit:export');
    expect(problem.detail).toContain('10 minutes');
  });

  it('no usable policy: 503 AUTHZ_POLICY_UNAVAILABLE, retryable', () => {
    const decision = new PolicyStore({ maxAgeMs: 1_000 }).decide(T, member, 'read', 'profile');
    const { status, problem, headers } = answer(decision, 'profile:read');
    expect(status).toBe(503);
    expect(headers).toEqual({ 'retry-after': '2' });
    expect(problem).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      reason: 'AUTHZ_POLICY_UNAVAILABLE',
    });
  });

  it('an evaluation error: 500, with nothing of it in the answer', () => {
    const decision: Decision = {
      allowed: false,
      reason: { kind: 'evaluation-error', message: 'the evaluation failed: secret internals' },
      obligations: [],
      policyVersion: 3,
    };
    const { status, problem, unexpected } = answer(decision, 'users:read');
    expect(status).toBe(500);
    expect(unexpected).toBe(true);
    expect(JSON.stringify(problem)).not.toContain('secret');
  });
});
