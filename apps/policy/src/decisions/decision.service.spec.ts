import { Logger } from '@nestjs/common';
import {
  AuthzDecisionSchema,
  AuthzDecisionsSchema,
  AuthzExplanationSchema,
  DecideBatchRequestSchema,
  DecideRequestSchema,
  Namespace,
  type AuditEvent,
  type DecideRequest,
} from '@tenantry/contracts';
import {
  messageContext,
  newContext,
  NatsService,
  type MessageContext,
  type MessagingOptions,
} from '@tenantry/messaging';
import { DecisionAuditor, PolicySnapshotFollower } from '@tenantry/policy-client';
import { API_KEYS_GROUP, defaultPolicy, type PolicyDocument } from '@tenantry/policy-engine';
import { double } from '@tenantry/testing';
import { DecisionService, engineRequest } from './decision.service.js';

const A = '0193a000-0000-7000-8000-00000000000a';
const B = '0193b000-0000-7000-8000-00000000000b';
const UNKNOWN = '0193f000-0000-7000-8000-00000000000f';

const POLICY_A: PolicyDocument = {
  ...defaultPolicy(A),
  version: 4,
  roles: [
    ...defaultPolicy(A).roles,
    {
      id: 'office',
      name: 'Office clerk',
      permissions: ['invoices:write'],
      conditions: [{ type: 'cidr', ranges: ['10.0.0.0/8'] }],
    },
    { id: 'approver', name: 'Approver', permissions: ['invoices:approve', 'invoices:read'] },
  ],
  bindings: [
    ...defaultPolicy(A).bindings,
    { id: 'b-office', roleId: 'office', subject: { type: 'group', id: 'accounting' } },
    { id: 'b-approver', roleId: 'approver', subject: { type: 'user', id: 'ada' } },
    { id: 'b-robot', roleId: 'approver', subject: { type: 'service_account', id: 'robot' } },
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
/** Every allowed decision of tenant B goes to the audit log. */
const POLICY_B: PolicyDocument = { ...defaultPolicy(B), auditAllowSampleRate: 1 };

const request = (fields: Partial<Record<keyof DecideRequest, unknown>>): DecideRequest =>
  DecideRequestSchema.parse({
    tenantId: A,
    principal: { kind: 'user', id: 'ada' },
    action: 'read',
    resource: 'invoices/7',
    ...fields,
  });

beforeAll(() => Logger.overrideLogger(false));

function setup() {
  const snapshots = new PolicySnapshotFollower(
    double(NatsService, { options: { namespace: new Namespace('ns') } as MessagingOptions }),
  );
  for (const document of [POLICY_A, POLICY_B])
    snapshots.put({
      key: document.tenantId,
      value: new TextEncoder().encode(JSON.stringify(document)),
    });
  const audited: { event: AuditEvent; context?: MessageContext }[] = [];
  const auditor = new DecisionAuditor(async (event, context) => {
    audited.push({ event, context });
  });
  const service = new DecisionService(snapshots, auditor, { random: () => 0.5 });
  /** The events published so far, once the auditor's background loop had its turn. */
  const events = async () => {
    await new Promise((resolve) => setTimeout(resolve, 10));
    return audited.map((a) => a.event);
  };
  return { service, audited, events, auditor };
}

describe('engineRequest (the request as the engine takes it)', () => {
  it("makes the principal one of the request's tenant, with its groups and API key scopes, and mfaAt epoch ms", () => {
    expect(
      engineRequest(
        request({
          principal: {
            kind: 'api_key',
            id: 'k1',
            groups: [API_KEYS_GROUP],
            apiKeyScopes: ['invoices:read'],
          },
          context: {
            ip: '10.1.2.3',
            mfaAt: '2026-01-02T03:04:05.678+01:00',
            country: 'FR',
            deviceTrust: 'managed',
            attributes: { 'resource.owner': 'ada' },
          },
        }),
      ),
    ).toEqual({
      tenantId: A,
      principal: {
        kind: 'api_key',
        id: 'k1',
        tenantId: A,
        groups: [API_KEYS_GROUP],
        apiKeyScopes: ['invoices:read'],
      },
      context: {
        ip: '10.1.2.3',
        mfaAt: Date.UTC(2026, 0, 2, 2, 4, 5, 678),
        country: 'FR',
        deviceTrust: 'managed',
        attributes: { 'resource.owner': 'ada' },
      },
    });
  });

  it('leaves out empty groups and a missing context', () => {
    expect(engineRequest(request({ principal: { kind: 'user', id: 'u', groups: [] } }))).toEqual({
      tenantId: A,
      principal: { kind: 'user', id: 'u', tenantId: A },
      context: {},
    });
  });
});

describe('DecisionService', () => {
  it("decides in the request's tenant with the principal's bindings and groups, answering the contract", () => {
    const { service } = setup();
    const granted = service.decide(request({}));
    expect(AuthzDecisionSchema.parse(granted)).toEqual(granted);
    expect(granted).toEqual({
      allowed: true,
      reason: {
        kind: 'granted',
        message: expect.any(String),
        bindingId: 'b-approver',
        roleId: 'approver',
        permission: 'invoices:read',
      },
      obligations: [],
      policyVersion: 4,
    });
    const clerk = { kind: 'user', id: 'bob', groups: ['accounting'] };
    expect(
      service.decide(
        request({
          principal: clerk,
          action: 'write',
          resource: 'invoices',
          context: { ip: '10.9.9.9' },
        }),
      ),
    ).toMatchObject({ allowed: true, reason: { kind: 'granted', bindingId: 'b-office' } });
    expect(
      service.decide(
        request({
          principal: clerk,
          action: 'write',
          resource: 'invoices',
          context: { ip: '192.0.2.1' },
        }),
      ),
    ).toMatchObject({ allowed: false, reason: { kind: 'condition-failed' } });
    expect(
      service.decide(request({ principal: { kind: 'user', id: 'bob' }, action: 'write' })),
    ).toMatchObject({ allowed: false, reason: { kind: 'no-grant' }, policyVersion: 4 });
  });

  it('narrows an API key to its scopes', () => {
    const { service } = setup();
    const key = (apiKeyScopes: string[]) => ({
      kind: 'api_key',
      id: 'k1',
      groups: [API_KEYS_GROUP],
      apiKeyScopes,
    });
    expect(service.decide(request({ principal: key(['invoices:read']) })).allowed).toBe(true);
    expect(
      service.decide(request({ principal: key(['invoices:read']), action: 'write' })).reason.kind,
    ).toBe('outside-api-key-scopes');
  });

  it('takes mfaAt as the time of the last MFA: a recent one allows, none asks for a step-up', () => {
    const { service } = setup();
    const approve = (context?: object) =>
      service.decide(request({ action: 'approve', ...(context ? { context } : {}) }));
    expect(approve({ mfaAt: new Date(Date.now() - 5 * 60_000).toISOString() })).toMatchObject({
      allowed: true,
    });
    expect(approve()).toEqual({
      allowed: false,
      reason: expect.objectContaining({ kind: 'step-up-required', ruleId: 'r-mfa' }),
      obligations: [{ type: 'step-up', mfaWithinMinutes: 10 }],
      policyVersion: 4,
    });
    expect(approve({ mfaAt: new Date(Date.now() - 60 * 60_000).toISOString() }).allowed).toBe(
      false,
    );
  });

  it('answers a tenant without a snapshot with a policy-unavailable deny, not audited', async () => {
    const { service, events } = setup();
    expect(service.decide(request({ tenantId: UNKNOWN }))).toEqual({
      allowed: false,
      reason: { kind: 'policy-unavailable', message: expect.any(String) },
      obligations: [],
      policyVersion: null,
    });
    expect(await events()).toEqual([]);
  });

  it('audits every deny, as the principal, naming who asked; allows at the tenant sample rate', async () => {
    const { service, events, audited } = setup();
    const context = newContext({ actor: 'service:billing' });
    messageContext.run(context, () => {
      service.decide(request({ action: 'write', context: { ip: '192.0.2.1' } }));
      service.decide(request({})); // allowed; tenant A samples 1 % of allows (random 0.5): not audited
      service.decide(request({ tenantId: B, principal: { kind: 'service_account', id: 'robot' } })); // denied in B
      service.decide(
        request({
          tenantId: B,
          principal: { kind: 'user', id: 'u', groups: ['tenantry:role:member'] },
          action: 'read',
          resource: 'profile',
        }),
      ); // allowed in B, which audits every allow
    });
    const published = await events();
    expect(published).toHaveLength(3);
    expect(published[0]).toMatchObject({
      tenantId: A,
      category: 'authz',
      action: 'authz.denied',
      outcome: 'failure',
      actor: { type: 'user', id: 'ada' },
      target: { type: 'invoices', id: 'invoices/7' },
      requestId: context.requestId,
      data: {
        permission: 'invoices/7:write',
        reason: { kind: 'no-grant' },
        policyVersion: 4,
        rpc: 'policy.decisions.decide',
        requestedBy: { type: 'service', id: 'billing' },
        ip: '192.0.2.1',
      },
    });
    expect(published[1]).toMatchObject({
      tenantId: B,
      action: 'authz.denied',
      actor: { type: 'service', id: 'robot' },
    });
    expect(published[2]).toMatchObject({
      tenantId: B,
      action: 'authz.allowed',
      data: { allowSampleRate: 1 },
    });
    // The event travels with the request's context, in the decision's tenant.
    expect(audited[1]!.context).toMatchObject({ requestId: context.requestId, tenantId: B });
  });

  it('decides a batch in order, and audits none of it (a page drawing itself, as /v1/authz/check)', async () => {
    const { service, events } = setup();
    const answer = service.decideBatch(
      DecideBatchRequestSchema.parse({
        tenantId: A,
        principal: { kind: 'user', id: 'ada' },
        checks: [
          { action: 'read', resource: 'invoices/1' },
          { action: 'delete', resource: 'invoices/1' },
          { action: 'approve', resource: 'invoices/2' },
        ],
      }),
    );
    expect(AuthzDecisionsSchema.parse(answer)).toEqual(answer);
    expect(answer.results.map((d) => [d.allowed, d.reason.kind])).toEqual([
      [true, 'granted'],
      [false, 'no-grant'],
      [false, 'step-up-required'],
    ]);
    expect(await events()).toEqual([]);
  });

  it('explains a decision step by step, without auditing it', async () => {
    const { service, events } = setup();
    const explanation = service.explain(request({ action: 'approve' }));
    expect(AuthzExplanationSchema.parse(explanation)).toEqual(explanation);
    expect(explanation.decision).toMatchObject({
      allowed: false,
      reason: { kind: 'step-up-required' },
    });
    expect(explanation.steps.length).toBeGreaterThan(1);
    expect(explanation.steps.at(-1)).toMatch(/^Decision: deny/);
    expect(await events()).toEqual([]);
  });
});
