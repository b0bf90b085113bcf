import { Logger } from '@nestjs/common';
import {
  AppError,
  AuthzCheckRequestSchema,
  AuthzDecisionSchema,
  AuthzExplanationSchema,
  Namespace,
  PLATFORM_TENANT_ID,
  type AuditEvent,
  type Principal,
} from '@tenantry/contracts';
import { NatsService, type MessagingOptions } from '@tenantry/messaging';
import { DecisionAuditor, PolicySnapshotFollower } from '@tenantry/policy-client';
import { defaultPolicy, type PolicyDocument } from '@tenantry/policy-engine';
import { double } from '@tenantry/testing';
import type { FastifyRequest } from 'fastify';
import { Authorizer } from './authorizer.js';
import { AuthzController } from './authz.controller.js';

const A = '0193a000-0000-7000-8000-00000000000a';
const D = '0193d000-0000-7000-8000-00000000000d';

const POLICY_A: PolicyDocument = {
  ...defaultPolicy(A),
  version: 7,
  roles: [
    ...defaultPolicy(A).roles,
    {
      id: 'office',
      name: 'Office clerk',
      permissions: ['invoices:write'],
      conditions: [{ type: 'cidr', ranges: ['10.0.0.0/8'] }],
    },
    { id: 'approver', name: 'Approver', permissions: ['invoices:approve'] },
  ],
  bindings: [
    ...defaultPolicy(A).bindings,
    { id: 'b-office', roleId: 'office', subject: { type: 'group', id: 'accounting' } },
    { id: 'b-approver', roleId: 'approver', subject: { type: 'user', id: 'ada' } },
  ],
  denyRules: [
    {
      id: 'r-mfa',
      name: 'approvals need a recent MFA',
      permissions: ['invoices:approve'],
      unless: [{ type: 'mfa-within', minutes: 10 }],
    },
  ],
};

const user = (roles: string[], extra: Partial<Principal> = {}): Principal => ({
  kind: 'user',
  id: '0193c000-0000-7000-8000-000000000002',
  tenantId: A,
  roles,
  scopes: [],
  ...extra,
});
const admin = user(['tenant-admin']);
const member = user(['member']);
const operator: Principal = { ...user(['platform-operator']), kind: 'operator', tenantId: null };
const request = (ip = '192.0.2.1') => ({ ip }) as FastifyRequest;
const body = (value: unknown) => AuthzCheckRequestSchema.parse(value);

beforeAll(() => Logger.overrideLogger(false));

function setup() {
  const snapshots = new PolicySnapshotFollower(
    double(NatsService, { options: { namespace: new Namespace('ns') } as MessagingOptions }),
  );
  for (const document of [POLICY_A, defaultPolicy(PLATFORM_TENANT_ID)])
    snapshots.put({
      key: document.tenantId,
      value: new TextEncoder().encode(JSON.stringify(document)),
    });
  const audited: AuditEvent[] = [];
  const controller = new AuthzController(
    new Authorizer(snapshots, new DecisionAuditor(async (e) => void audited.push(e))),
  );
  return { controller, audited };
}

function refusal(work: () => unknown): AppError {
  try {
    work();
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected a refusal');
}

describe('POST /v1/authz/check', () => {
  it('answers about the caller by default, in its own tenant', () => {
    const { controller } = setup();
    const allowed = controller.check(
      member,
      request(),
      body({ action: 'read', resource: 'profile' }),
    );
    expect(AuthzDecisionSchema.parse(allowed)).toEqual({
      allowed: true,
      reason: {
        kind: 'granted',
        message: expect.any(String),
        bindingId: 'default-member',
        roleId: 'member',
        permission: 'profile:*',
      },
      obligations: [],
      policyVersion: 7,
    });
    const denied = controller.check(
      member,
      request(),
      body({ action: 'write', resource: 'users/7' }),
    );
    expect(denied).toMatchObject({ allowed: false, reason: { kind: 'no-grant' } });
    // Operators: the platform's policy.
    expect(
      controller.check(operator, request(), body({ action: 'write', resource: 'tenants' })),
    ).toMatchObject({ allowed: true, policyVersion: 1 });
  });

  it('answers a batch in order', () => {
    const { controller } = setup();
    const answer = controller.check(
      member,
      request(),
      body({
        checks: [
          { action: 'read', resource: 'profile' },
          { action: 'write', resource: 'users' },
          { action: 'read', resource: 'tenants' },
        ],
      }),
    );
    expect(answer).toEqual({
      results: [
        expect.objectContaining({ allowed: true }),
        expect.objectContaining({ allowed: false }),
        expect.objectContaining({ allowed: true }),
      ],
    });
  });

  it("takes the caller's IP and MFA from the request, never from the body", () => {
    const { controller } = setup();
    const ada = { ...user([]), id: 'ada' };
    const claimed = body({
      action: 'approve',
      resource: 'invoices/1',
      context: { mfaAt: new Date().toISOString() },
    });
    expect(controller.check(ada, request(), claimed)).toMatchObject({
      allowed: false,
      reason: { kind: 'step-up-required' },
      obligations: [{ type: 'step-up', mfaWithinMinutes: 10 }],
    });
    const withMfa = { ...ada, amr: ['pwd', 'otp'], authTime: new Date().toISOString() };
    expect(controller.check(withMfa, request(), claimed)).toMatchObject({ allowed: true });
  });

  it('answers about another principal of the tenant only with authz:check, with the context given', () => {
    const { controller } = setup();
    const about = body({
      action: 'write',
      resource: 'invoices/9',
      principal: { kind: 'user', id: 'bob', groups: ['accounting'] },
      context: { ip: '10.1.2.3' },
    });
    const refused = refusal(() => controller.check(member, request(), about));
    expect(refused).toMatchObject({ code: 'FORBIDDEN', reason: 'AUTH_NOT_PERMITTED' });
    expect(refused.message).toContain('authz:check');
    expect(controller.check(admin, request(), about)).toMatchObject({
      allowed: true,
      reason: { kind: 'granted', bindingId: 'b-office' },
    });
    expect(
      controller.check(admin, request('10.1.2.3'), { ...about, context: { ip: '192.0.2.7' } }),
    ).toMatchObject({ allowed: false, reason: { kind: 'condition-failed' } });
  });

  it("audits the caller's authz:check, not the checks it asks", async () => {
    const { controller, audited } = setup();
    const about = body({ action: 'read', resource: 'x', principal: { kind: 'user', id: 'bob' } });
    refusal(() => controller.check(member, request(), about));
    controller.check(member, request(), body({ action: 'write', resource: 'users' }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(audited.map((e) => [e.action, (e.data as { permission: string }).permission])).toEqual([
      ['authz.denied', 'authz:check'],
    ]);
  });

  it("is 503 while the caller's tenant has no policy", () => {
    const { controller } = setup();
    const orphan = user(['member'], { tenantId: D });
    for (const request_ of [
      body({ action: 'read', resource: 'profile' }),
      body({ checks: [{ action: 'read', resource: 'profile' }] }),
    ]) {
      const error = refusal(() => controller.check(orphan, request(), request_));
      expect(error).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        reason: 'AUTHZ_POLICY_UNAVAILABLE',
        retryAfterSeconds: 2,
      });
    }
  });

  it('refuses a body that is neither one check nor a batch, naming the fields', () => {
    for (const [value, field] of [
      [{ action: 'read' }, 'resource'],
      [{ resource: 'x' }, 'action'],
      [{ action: 'read', resource: 'x', checks: [{ action: 'read', resource: 'x' }] }, 'checks'],
      [{ checks: [] }, 'checks'],
      [{ action: 'read', resource: 'x/' }, 'resource'],
      [{ action: '*', resource: 'x' }, 'action'],
      [
        { action: 'read', resource: 'x', principal: { kind: 'operator', id: 'u' } },
        'principal.kind',
      ],
      [{ action: 'read', resource: 'x', extra: 1 }, ''],
    ] as const) {
      const result = AuthzCheckRequestSchema.safeParse(value);
      expect({ value, ok: result.success }).toEqual({ value, ok: false });
      expect(result.error!.issues.map((i) => i.path.join('.'))).toContain(field);
    }
  });
});

describe('POST /v1/authz/explain', () => {
  it('gives the decision and the steps, about the caller or (with authz:check) another principal', () => {
    const { controller } = setup();
    const own = controller.explain(member, request(), { action: 'write', resource: 'users' });
    expect(AuthzExplanationSchema.parse(own)).toEqual(own);
    expect(own.decision.allowed).toBe(false);
    expect(own.steps.length).toBeGreaterThan(0);
    const other = {
      action: 'approve',
      resource: 'invoices/1',
      principal: { kind: 'user' as const, id: 'ada' },
    };
    expect(refusal(() => controller.explain(member, request(), other))).toMatchObject({
      reason: 'AUTH_NOT_PERMITTED',
    });
    const explained = controller.explain(admin, request(), other);
    expect(explained.decision).toMatchObject({
      allowed: false,
      reason: { kind: 'step-up-required' },
    });
    expect(explained.steps.join('\n')).toContain('r-mfa');
  });
});
