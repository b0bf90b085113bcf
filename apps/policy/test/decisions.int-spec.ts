/**
 * `policy.decisions.*` against real PostgreSQL and NATS: the policy service answers decisions
 * from the snapshots it follows in its own bucket (a change made through its RPCs shows within
 * a second), answers an unknown tenant with a policy-unavailable deny, refuses bad input naming
 * the field, audits denies on the AUDIT stream, and is ready once it follows the bucket.
 */
import {
  ErrorCode,
  Namespace,
  PolicyDecisionRpc,
  RoleBindingRpc,
  RoleRpc,
  TenantPolicyRpc,
  type AuthzDecision,
  type Tenant,
} from '@tenantry/contracts';
import { newContext } from '@tenantry/messaging';
import { PolicyDecisionClient } from '@tenantry/policy-client';
import { READINESS_CHECKS, type ReadinessCheck } from '@tenantry/runtime';
import { waitFor } from '@tenantry/testing';
import { PolicyHarness } from './policy.harness.js';

const CLERK = '0193c000-0000-7000-8000-0000000000c1';
const BILLING = 'service:billing';

describe('policy decisions over NATS (PostgreSQL + NATS)', () => {
  let h: PolicyHarness;
  let client: PolicyDecisionClient;
  let a: Tenant;
  /** Asked as the billing service would. */
  const options = () => ({ context: newContext({ actor: BILLING }), timeoutMs: 5_000 });
  const writeInvoice = (tenantId = a.id) =>
    client.decide(
      {
        tenantId,
        principal: { kind: 'user', id: CLERK, groups: ['tenantry:role:member'] },
        action: 'write',
        resource: 'invoices/7',
        context: { ip: '192.0.2.10' },
      },
      options(),
    );
  /** Asks until `accept` takes the answer, for at most `timeoutMs`. */
  const until = (what: string, accept: (d: AuthzDecision) => boolean, timeoutMs = 1_000) =>
    waitFor(
      what,
      async () => {
        const decision = await writeInvoice();
        return accept(decision) ? decision : undefined;
      },
      { timeoutMs, intervalMs: 20 },
    );

  beforeAll(async () => {
    h = await PolicyHarness.start();
    client = new PolicyDecisionClient(h.rpc);
    a = h.addTenant('decide');
    // The tenant's default policy (version 1), published; then followed by the service.
    await h.call(TenantPolicyRpc.get, { tenantId: a.id });
    await until('version 1 followed', (d) => d.policyVersion === 1, 15_000);
  });

  afterAll(async () => {
    await h?.close();
  });

  it('is ready once it follows the bucket and holds the platform policy', async () => {
    const checks = h.app.get<ReadinessCheck[]>(READINESS_CHECKS, { strict: false });
    const policies = checks.find((c) => c.name === 'policies');
    expect(policies).toBeDefined();
    await waitFor('ready', async () => (await policies!.probe().then(() => true)) || undefined, {
      timeoutMs: 15_000,
    });
  });

  it('answers from the published snapshot: a binding made or removed through the RPCs shows within 1 s', async () => {
    expect(await writeInvoice()).toMatchObject({
      allowed: false,
      reason: { kind: 'no-grant' },
      obligations: [],
      policyVersion: 1,
    });
    await h.call(RoleRpc.create, {
      tenantId: a.id,
      id: 'invoice-clerk',
      name: 'Invoice clerk',
      permissions: ['invoices:write', 'invoices:read'],
    });
    const binding = await h.call(RoleBindingRpc.create, {
      tenantId: a.id,
      roleId: 'invoice-clerk',
      subject: { type: 'user', id: CLERK },
    });
    const granted = await until('the binding', (d) => d.allowed);
    expect(granted).toEqual({
      allowed: true,
      reason: {
        kind: 'granted',
        message: expect.stringContaining(binding.id),
        bindingId: binding.id,
        roleId: 'invoice-clerk',
        permission: 'invoices:write',
      },
      obligations: [],
      policyVersion: 3,
    });

    await h.call(RoleBindingRpc.delete, { tenantId: a.id, bindingId: binding.id });
    expect(await until('the binding removed', (d) => !d.allowed)).toMatchObject({
      reason: { kind: 'no-grant' },
      policyVersion: 4,
    });
    // Put back for the next tests.
    await h.call(RoleBindingRpc.create, {
      tenantId: a.id,
      roleId: 'invoice-clerk',
      subject: { type: 'group', id: 'accounting' },
    });
    await until('version 5', (d) => d.policyVersion === 5);
  });

  it('decides a batch, in order', async () => {
    const answer = await client.decideBatch(
      {
        tenantId: a.id,
        principal: { kind: 'user', id: CLERK, groups: ['accounting', 'tenantry:role:member'] },
        checks: [
          { action: 'read', resource: 'invoices/1' },
          { action: 'delete', resource: 'invoices/1' },
          { action: 'read', resource: 'profile' },
        ],
      },
      options(),
    );
    expect(answer.results.map((d) => [d.allowed, d.reason.kind, d.policyVersion])).toEqual([
      [true, 'granted', 5],
      [false, 'no-grant', 5],
      [true, 'granted', 5],
    ]);
  });

  it('narrows an API key to its scopes, and takes mfaAt into account', async () => {
    const key = (apiKeyScopes: string[]) => ({
      kind: 'api_key' as const,
      id: 'k1',
      groups: ['tenantry:api-keys'],
      apiKeyScopes,
    });
    const decide = (apiKeyScopes: string[]) =>
      client.decide(
        {
          tenantId: a.id,
          principal: key(apiKeyScopes),
          action: 'write',
          resource: 'invoices/7',
          context: { mfaAt: new Date().toISOString() },
        },
        options(),
      );
    expect((await decide(['invoices:write'])).allowed).toBe(true);
    expect((await decide(['invoices:read'])).reason.kind).toBe('outside-api-key-scopes');
  });

  it('explains a decision step by step', async () => {
    const explanation = await client.explain(
      {
        tenantId: a.id,
        principal: { kind: 'user', id: CLERK, groups: ['accounting'] },
        action: 'write',
        resource: 'invoices/7',
      },
      options(),
    );
    expect(explanation.decision).toMatchObject({
      allowed: true,
      reason: { kind: 'granted', roleId: 'invoice-clerk' },
      policyVersion: 5,
    });
    expect(explanation.steps.at(-1)).toMatch(/^Decision: allow/);
  });

  it('answers a tenant it has no policy for with a policy-unavailable deny, not an error', async () => {
    const unknown = h.addTenant('nopolicy'); // known to the tenants service, never given a policy
    expect(await writeInvoice(unknown.id)).toEqual({
      allowed: false,
      reason: { kind: 'policy-unavailable', message: expect.any(String) },
      obligations: [],
      policyVersion: null,
    });
  });

  it('refuses bad input, naming each bad field', async () => {
    // Past the client's own validation: straight onto the wire.
    const reply = await h.nats.nc.request(
      new Namespace(h.namespace).rpcSubject(PolicyDecisionRpc.decide.subject),
      JSON.stringify({
        tenantId: a.id,
        principal: { kind: 'robot', id: 'r1' },
        resource: 'Invoices!',
      }),
      { timeout: 5_000 },
    );
    const body = reply.json<{ ok: boolean; error: { code: string; errors: unknown[] } }>();
    expect(body.ok).toBe(false);
    expect(body.error.code).toBe(ErrorCode.ValidationFailed);
    expect(body.error.errors).toEqual(
      expect.arrayContaining([
        { field: 'principal.kind', message: expect.stringContaining('user, api_key') },
        { field: 'action', message: expect.any(String) },
        { field: 'resource', message: expect.stringContaining('resource path') },
      ]),
    );
  });

  it('sends its denies to the audit log, as the principal, naming who asked', async () => {
    const principal = { kind: 'service_account' as const, id: 'robot-7' };
    const denied = await client.decide(
      { tenantId: a.id, principal, action: 'delete', resource: 'invoices/9' },
      options(),
    );
    expect(denied.allowed).toBe(false);
    const [event] = await h.auditEvents(
      (e) => e.tenantId === a.id && e.category === 'authz' && e.actor.id === 'robot-7',
    );
    expect(event).toMatchObject({
      action: 'authz.denied',
      outcome: 'failure',
      actor: { type: 'service', id: 'robot-7' },
      target: { type: 'invoices', id: 'invoices/9' },
      data: {
        permission: 'invoices/9:delete',
        reason: { kind: 'no-grant' },
        policyVersion: 5,
        rpc: 'policy.decisions.decide',
        requestedBy: { type: 'service', id: 'billing' },
      },
    });
    // The clerk's denied writes earlier are there too.
    const clerks = await h.auditEvents(
      (e) => e.tenantId === a.id && e.action === 'authz.denied' && e.actor.id === CLERK,
    );
    expect(clerks[0]!.data).toMatchObject({ ip: '192.0.2.10' });
  });
});
