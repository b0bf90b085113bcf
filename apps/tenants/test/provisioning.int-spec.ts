import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  BulkOperationRpc,
  ErrorCode,
  PLATFORM_TENANT_ID,
  ProvisioningRpc,
  QueueOpsRpc,
  TemplateRpc,
  TenantRpc,
  type CreateTenantRequest,
} from '@tenantry/contracts';
import { waitFor } from '@tenantry/testing';
import { ProvisioningHarness } from './provisioning.harness.js';

let h: ProvisioningHarness;
let serial = 0;

/** A fresh tenant request (its own slug) with a first admin. */
function request(overrides: Partial<CreateTenantRequest> = {}): CreateTenantRequest {
  serial++;
  return {
    name: `Acme ${serial}`,
    slug: `acme-${serial}-${Math.random().toString(36).slice(2, 7)}`,
    plan: 'starter',
    isolation: 'rls',
    admin: { email: `admin${serial}@acme.test`, displayName: 'First Admin' },
    ...overrides,
  };
}

const PARTICIPANT_ORDER = [
  'identity.bootstrap',
  'policy.bootstrap',
  'audit.bootstrap',
  'audit.verify',
  'identity.verify',
  'policy.verify',
];

/** The tenant's participant calls, without the registry's own configure/usage traffic. */
const pipelineCalls = (tenantId: string) =>
  h.participants.of(tenantId).filter((c) => !/\.(configure|usage)$/.test(c));

beforeAll(async () => {
  h = await ProvisioningHarness.start();
});

afterAll(async () => {
  await h?.close();
});

afterEach(() => h.participants.reset());

describe('provisioning pipeline (tenants service, real PostgreSQL, NATS and Redis; participants on NATS)', () => {
  it('answers 202-style at once with the tenant provisioning, then runs every step in order to active', async () => {
    const accepted = await h.call(TenantRpc.create, request());
    expect(accepted.tenant).toMatchObject({ status: 'provisioning', runId: accepted.runId });
    const tenantId = accepted.tenant.id;

    const run = await h.runReaches(tenantId, ['succeeded', 'failed']);
    expect(run).toMatchObject({
      id: accepted.runId,
      kind: 'provision',
      status: 'succeeded',
      failedStep: null,
      requeues: 0,
    });
    expect(run.steps.map((s) => [s.name, s.service, s.status, s.attempts])).toEqual([
      ['validate', 'tenants', 'succeeded', 1],
      ['allocate-storage', 'tenants', 'succeeded', 1],
      ['identity-bootstrap', 'identity', 'succeeded', 1],
      ['policy-bootstrap', 'policy', 'succeeded', 1],
      ['audit-genesis', 'audit', 'succeeded', 1],
      ['verify', 'tenants', 'succeeded', 1],
      ['activate', 'tenants', 'succeeded', 1],
    ]);
    for (const step of run.steps) {
      expect(step.startedAt).not.toBeNull();
      expect(step.durationMs).toBeGreaterThanOrEqual(0);
    }
    // allocate-storage checked the tenant tables' row-level security and says which.
    expect(run.steps[1]!.output).toMatchObject({
      isolation: 'rls',
      tables: expect.arrayContaining(['organizations']),
    });
    expect(run.steps[2]!.output).toEqual({ bootstrap: 'identity' });

    expect(await h.call(TenantRpc.get, { id: tenantId })).toMatchObject({ status: 'active' });
    // The bootstraps one after the other; verify asks every participant at once.
    const calls = pipelineCalls(tenantId);
    expect([...calls.slice(0, 3), ...calls.slice(3).sort()]).toEqual(PARTICIPANT_ORDER);
    const bootstrap = h.participants.calls.find(
      (c) => c.verb === 'bootstrap' && c.payload['tenantId'] === tenantId,
    )!;
    expect(bootstrap.payload).toMatchObject({
      runId: accepted.runId,
      plan: 'starter',
      admin: { email: expect.stringMatching(/@acme\.test$/), displayName: 'First Admin' },
      roles: expect.arrayContaining(['tenant-admin']),
    });

    // Progress events on EVENTS: each step running then succeeded, then the run.
    const events = await waitFor('the run succeeded event', async () => {
      const mine = h.progress.filter((e) => e.runId === accepted.runId);
      return mine.some((e) => e.step === null && e.status === 'succeeded') && mine;
    });
    expect(events.filter((e) => e.status === 'succeeded').map((e) => e.step)).toEqual([
      'validate',
      'allocate-storage',
      'identity-bootstrap',
      'policy-bootstrap',
      'audit-genesis',
      'verify',
      'activate',
      null,
    ]);
  });

  it('refuses a taken slug at once (409), creating no run', async () => {
    const first = request();
    await h.call(TenantRpc.create, first);
    const error = await h.failure(TenantRpc.create, { ...request(), slug: first.slug });
    expect(error).toMatchObject({ code: ErrorCode.Conflict, reason: 'TENANT_SLUG_TAKEN' });
    const runs = await h.sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM provisioning_runs r JOIN tenants t ON t.id = r.tenant_id WHERE t.slug = $1`,
      [first.slug],
    );
    expect(runs[0]!.n).toBe(1);
  });

  it('retries a step whose reply was lost with the very same request, and records the attempts', async () => {
    // The first bootstrap reaches identity (which sets the tenant up) but its reply is lost.
    h.participants.on('identity', 'bootstrap', (_call, count) =>
      count === 1 ? 'no-reply' : { data: { output: { admin: 'invited' } } },
    );
    const accepted = await h.call(TenantRpc.create, request());
    const run = await h.runReaches(accepted.tenant.id, ['succeeded', 'failed']);
    expect(run.status).toBe('succeeded');
    const step = run.steps.find((s) => s.name === 'identity-bootstrap')!;
    expect(step).toMatchObject({ status: 'succeeded', attempts: 2, error: null });
    const calls = h.participants.calls.filter(
      (c) =>
        c.service === 'identity' &&
        c.verb === 'bootstrap' &&
        c.payload['tenantId'] === accepted.tenant.id,
    );
    expect(calls).toHaveLength(2);
    expect(calls[1]!.payload).toEqual(calls[0]!.payload);
    // The retry was announced with the error of the attempt that failed.
    expect(
      h.progress.find(
        (e) =>
          e.runId === accepted.runId && e.step === 'identity-bootstrap' && e.status === 'retrying',
      ),
    ).toMatchObject({ attempt: 1, error: expect.stringContaining('did not answer') });
  });

  it('on a step that always fails: compensates in reverse order, leaves the tenant failed with step and reason; retry provisions it again', async () => {
    h.participants.on('audit', 'bootstrap', () => ({
      error: { code: ErrorCode.ServiceUnavailable, message: 'the audit ledger is not available' },
    }));
    const accepted = await h.call(TenantRpc.create, request());
    const tenantId = accepted.tenant.id;
    const run = await h.runReaches(tenantId, ['failed', 'succeeded']);
    expect(run).toMatchObject({
      status: 'failed',
      failedStep: 'audit-genesis',
      error: 'the audit ledger is not available',
    });
    expect(run.steps.map((s) => [s.name, s.status])).toEqual([
      ['validate', 'succeeded'],
      ['allocate-storage', 'succeeded'],
      ['identity-bootstrap', 'compensated'],
      ['policy-bootstrap', 'compensated'],
      ['audit-genesis', 'failed'],
      ['verify', 'skipped'],
      ['activate', 'skipped'],
    ]);
    expect(run.steps[4]).toMatchObject({ attempts: 3, output: { compensated: true } });
    expect(pipelineCalls(tenantId)).toEqual([
      'identity.bootstrap',
      'policy.bootstrap',
      'audit.bootstrap',
      'audit.bootstrap',
      'audit.bootstrap',
      // The failed step first (its work may be half done), then the finished ones in reverse.
      'audit.compensate',
      'policy.compensate',
      'identity.compensate',
    ]);
    const tenant = await h.call(TenantRpc.get, { id: tenantId });
    expect(tenant).toMatchObject({ status: 'failed', runId: accepted.runId });
    expect(tenant.statusReason).toBe(
      'provisioning failed at step audit-genesis: the audit ledger is not available',
    );
    await waitFor('the failed events', async () =>
      h.progress.some(
        (e) => e.runId === accepted.runId && e.step === null && e.status === 'failed',
      ),
    );
    expect(
      h.progress.filter((e) => e.runId === accepted.runId && e.step === null).map((e) => e.status),
    ).toEqual(['compensating', 'failed']);

    // Audit is back: an operator retries, a new run brings the tenant up.
    h.participants.reset();
    const retried = await h.call(ProvisioningRpc.retry, { tenantId });
    expect(retried).toMatchObject({ kind: 'provision', status: 'pending' });
    expect(retried.id).not.toBe(accepted.runId);
    const again = await h.runReaches(tenantId, ['succeeded', 'failed']);
    expect(again).toMatchObject({ id: retried.id, status: 'succeeded' });
    expect(await h.call(TenantRpc.get, { id: tenantId })).toMatchObject({
      status: 'active',
      statusReason: null,
    });
    const { items } = await h.call(ProvisioningRpc.list, { tenantId });
    expect(items.map((r) => [r.id, r.status])).toEqual([
      [retried.id, 'succeeded'],
      [accepted.runId, 'failed'],
    ]);
    // Only a failed tenant can be retried.
    expect(await h.failure(ProvisioningRpc.retry, { tenantId })).toMatchObject({
      code: ErrorCode.Conflict,
      reason: 'PROVISIONING_RETRY_NOT_FAILED',
    });
  });

  it('the reconciler enqueues a run again from its first unfinished step when Redis lost its jobs (FLUSHDB)', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let reached!: () => void;
    const atPolicy = new Promise<void>((resolve) => (reached = resolve));
    h.participants.on('policy', 'bootstrap', async (_call, count) => {
      if (count === 1) {
        reached();
        await held;
      }
      return { data: { output: { roles: 3 } } };
    });
    const accepted = await h.call(TenantRpc.create, request());
    await atPolicy;
    // Redis forgets every job while policy-bootstrap is in flight.
    await h.redisCommand('FLUSHDB');
    release();
    const run = await h.runReaches(accepted.tenant.id, ['succeeded', 'failed'], 45_000);
    expect(run.status).toBe('succeeded');
    expect(run.requeues).toBeGreaterThanOrEqual(1);
    expect(await h.call(TenantRpc.get, { id: accepted.tenant.id })).toMatchObject({
      status: 'active',
    });
    // Steps done before the loss were not done again.
    const calls = pipelineCalls(accepted.tenant.id);
    expect(calls.filter((c) => c === 'identity.bootstrap')).toHaveLength(1);
    expect(calls.filter((c) => c === 'audit.bootstrap')).toHaveLength(1);
  });

  it('accepts a tenant while Redis is down; its run is enqueued and finishes once Redis is back', async () => {
    await h.redis.kill();
    const started = Date.now();
    const accepted = await h.call(TenantRpc.create, request());
    expect(accepted.tenant.status).toBe('provisioning');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await h.call(ProvisioningRpc.get, { tenantId: accepted.tenant.id })).toMatchObject({
      status: 'pending',
    });
    await h.redis.restart();
    const run = await h.runReaches(accepted.tenant.id, ['succeeded', 'failed'], 45_000);
    // Enqueued by the reconciler, or by the add BullMQ's connection kept for the reconnection.
    expect(run).toMatchObject({ status: 'succeeded' });
  });

  it('creates a tenant from a template', async () => {
    const key = `tpl-${Math.random().toString(36).slice(2, 8)}`;
    await h.call(TemplateRpc.create, {
      key,
      name: 'Team',
      description: '',
      variables: [
        { name: 'company', type: 'string', required: true },
        { name: 'slug', type: 'string', required: true },
      ],
      body: { name: '{{company}}', slug: '{{slug}}', plan: 'professional' },
    });
    const slug = `from-tpl-${Math.random().toString(36).slice(2, 8)}`;
    const accepted = await h.call(TemplateRpc.instantiate, {
      key,
      variables: { company: 'Globex', slug },
      overrides: { 'settings.mfaRequired': true },
    });
    expect(accepted.tenant).toMatchObject({
      name: 'Globex',
      slug,
      plan: 'professional',
      status: 'provisioning',
    });
    expect(accepted.tenant.settings.mfaRequired).toBe(true);
    expect(await h.runReaches(accepted.tenant.id, ['succeeded', 'failed'])).toMatchObject({
      status: 'succeeded',
    });
  });
});

describe('tenant lifecycle', () => {
  async function activeTenant() {
    const accepted = await h.call(TenantRpc.create, request());
    await h.runReaches(accepted.tenant.id, ['succeeded']);
    return accepted.tenant;
  }

  it('suspends (identity revokes every session) and reactivates', async () => {
    const tenant = await activeTenant();
    const suspended = await h.call(TenantRpc.suspend, { id: tenant.id, reason: 'unpaid invoice' });
    expect(suspended).toMatchObject({ status: 'suspended', statusReason: 'unpaid invoice' });
    expect(
      h.participants.calls.find(
        (c) =>
          c.service === 'identity' && c.verb === 'suspend' && c.payload['tenantId'] === tenant.id,
      )?.payload,
    ).toEqual({ tenantId: tenant.id, reason: 'unpaid invoice' });
    expect(await h.call(TenantRpc.reactivate, { id: tenant.id })).toMatchObject({
      status: 'active',
      statusReason: null,
    });
    // Asked again (a retried request), it changes nothing.
    expect(await h.call(TenantRpc.reactivate, { id: tenant.id })).toMatchObject({
      status: 'active',
    });
    // A tenant being deleted cannot be suspended.
    await h.call(TenantRpc.deprovision, { id: tenant.id, graceHours: 1 });
    expect(await h.failure(TenantRpc.suspend, { id: tenant.id, reason: 'too late' })).toMatchObject(
      { code: ErrorCode.Conflict, reason: 'TENANT_STATUS_CONFLICT' },
    );
  });

  it('schedules a deletion as a delayed job; cancelling within the grace removes it and returns the tenant to its status', async () => {
    const tenant = await activeTenant();
    await h.call(TenantRpc.suspend, { id: tenant.id, reason: 'closing down' });
    const scheduled = await h.call(TenantRpc.deprovision, {
      id: tenant.id,
      graceHours: 24,
      reason: 'customer left',
    });
    expect(scheduled).toMatchObject({ status: 'deprovisioning', statusReason: 'customer left' });
    const deleteAfter = Date.parse(scheduled.deleteAfter!);
    expect(deleteAfter - Date.now()).toBeGreaterThan(23.9 * 3_600_000);
    const run = await h.call(ProvisioningRpc.get, { tenantId: tenant.id });
    expect(run).toMatchObject({ kind: 'deprovision', status: 'pending', id: scheduled.runId });
    expect(Date.parse(run.notBefore!)).toBe(deleteAfter);
    const delayed = await waitFor('the delayed job', async () => {
      const { items } = await h.call(QueueOpsRpc.jobs, {
        queue: 'deprovisioning',
        state: 'delayed',
        limit: 200,
      });
      return items.find((j) => j.id === `${run.id}.export`);
    });
    expect(delayed).toMatchObject({ name: 'export', state: 'delayed' });

    const cancelled = await h.call(TenantRpc.cancelDeprovision, { id: tenant.id });
    expect(cancelled).toMatchObject({ status: 'suspended', deleteAfter: null });
    expect(await h.call(ProvisioningRpc.get, { tenantId: tenant.id })).toMatchObject({
      id: run.id,
      status: 'cancelled',
    });
    const { items } = await h.call(QueueOpsRpc.jobs, {
      queue: 'deprovisioning',
      state: 'delayed',
      limit: 200,
    });
    expect(items.find((j) => j.id === `${run.id}.export`)).toBeUndefined();
    expect(await h.failure(TenantRpc.cancelDeprovision, { id: tenant.id })).toMatchObject({
      code: ErrorCode.Conflict,
    });
    expect(pipelineCalls(tenant.id).filter((c) => /export|remove/.test(c))).toEqual([]);
  });

  it('deletes a tenant: export file with its sha256, removal in every participant and here, a deletion certificate in the platform chain, deleted', async () => {
    const tenant = await activeTenant();
    const scheduled = await h.call(TenantRpc.deprovision, { id: tenant.id, graceHours: 0 });
    expect(scheduled.status).toBe('deprovisioning');
    const run = await h.runReaches(tenant.id, ['succeeded', 'failed']);
    expect(run).toMatchObject({ kind: 'deprovision', status: 'succeeded' });
    expect(run.steps.map((s) => s.name)).toEqual([
      'export',
      'remove-identity',
      'remove-policy',
      'remove-audit',
      'remove-tenant-data',
      'deletion-certificate',
      'delete',
    ]);
    expect(await h.call(TenantRpc.get, { id: tenant.id })).toMatchObject({ status: 'deleted' });
    expect(pipelineCalls(tenant.id).filter((c) => /export|remove/.test(c))).toEqual([
      'identity.export',
      'policy.export',
      'audit.export',
      'identity.remove',
      'policy.remove',
      'audit.remove',
    ]);

    const exported = run.steps[0]!.output as { file: string; sha256: string; rows: unknown };
    expect(exported.file.startsWith(h.exportDir)).toBe(true);
    const body = readFileSync(exported.file);
    expect(createHash('sha256').update(body).digest('hex')).toBe(exported.sha256);
    const document = JSON.parse(body.toString('utf8')) as {
      tenant: { id: string };
      services: Record<string, Record<string, unknown[]>>;
    };
    expect(document.tenant.id).toBe(tenant.id);
    expect(Object.keys(document.services).sort()).toEqual([
      'audit',
      'identity',
      'policy',
      'tenants',
    ]);
    expect(document.services['identity']).toEqual({ identity_rows: [{ id: 1 }, { id: 2 }] });

    const certificate = await waitFor('the deletion certificate', async () =>
      h.audit.find(
        (e) =>
          e.tenantId === PLATFORM_TENANT_ID &&
          e.action === 'tenant.deletion-certificate' &&
          e.target?.id === tenant.id,
      ),
    );
    expect(certificate.data).toMatchObject({
      tenantId: tenant.id,
      slug: tenant.slug,
      runId: run.id,
      exportFile: exported.file,
      exportSha256: exported.sha256,
      removed: {
        identity: { identity_rows: 2 },
        policy: { policy_rows: 2 },
        audit: { audit_rows: 2 },
        tenants: { organizations: 0, provisioning_runs_scrubbed: 1 },
      },
    });
    // Its runs stay, without the first admin's email the creation request held.
    const runs = await h.sql<{ kind: string; input: Record<string, unknown> }>(
      `SELECT kind, input FROM provisioning_runs WHERE tenant_id = $1`,
      [tenant.id],
    );
    expect(runs.map((r) => r.kind).sort()).toEqual(['deprovision', 'provision']);
    expect(JSON.stringify(runs)).not.toContain('@acme.test');
    expect(
      h.audit.filter(
        (e) => e.action === 'tenant.deletion-certificate' && e.target?.id === tenant.id,
      ),
    ).toHaveLength(1);
    // Its slug is free again.
    const again = await h.call(TenantRpc.create, request({ slug: tenant.slug }));
    expect(again.tenant.slug).toBe(tenant.slug);
  });
  it('a deletion whose step fails stops there, cannot be cancelled, and an operator retries it', async () => {
    const tenant = await activeTenant();
    h.participants.on('policy', 'remove', () => ({
      error: { code: ErrorCode.Conflict, message: 'the policy is locked by a legal hold' },
    }));
    await h.call(TenantRpc.deprovision, { id: tenant.id, graceHours: 0 });
    const failed = await h.runReaches(tenant.id, ['failed', 'succeeded']);
    expect(failed).toMatchObject({
      kind: 'deprovision',
      status: 'failed',
      failedStep: 'remove-policy',
      error: 'the policy is locked by a legal hold',
    });
    // Nothing is compensated: what was removed stays removed; the tenant stays refused.
    expect(failed.steps.map((s) => s.status)).toEqual([
      'succeeded',
      'succeeded',
      'failed',
      'skipped',
      'skipped',
      'skipped',
      'skipped',
    ]);
    expect(await h.call(TenantRpc.get, { id: tenant.id })).toMatchObject({
      status: 'deprovisioning',
    });
    expect(await h.failure(TenantRpc.cancelDeprovision, { id: tenant.id })).toMatchObject({
      code: ErrorCode.Conflict,
      reason: 'TENANT_DEPROVISION_NOT_CANCELLABLE',
    });

    h.participants.reset();
    const retried = await h.call(ProvisioningRpc.retry, { tenantId: tenant.id });
    expect(retried).toMatchObject({ kind: 'deprovision' });
    expect(await h.runReaches(tenant.id, ['succeeded', 'failed'])).toMatchObject({
      id: retried.id,
      status: 'succeeded',
    });
    expect(await h.call(TenantRpc.get, { id: tenant.id })).toMatchObject({ status: 'deleted' });
  });
});

describe('bulk operations and the queues', () => {
  it('creates many tenants as one tracked operation, each through the pipeline; a bad item fails alone', async () => {
    const taken = request();
    await h.call(TenantRpc.create, taken);
    const items = [request(), request(), { ...request(), slug: taken.slug }];
    const started = await h.call(BulkOperationRpc.createTenants, { tenants: items });
    expect(started).toMatchObject({ kind: 'tenants.create', total: 3, tenantId: null });
    const done = await waitFor('the bulk operation to finish', async () => {
      const operation = await h.call(BulkOperationRpc.get, { id: started.id });
      return operation.finishedAt !== null && operation;
    });
    expect(done).toMatchObject({ status: 'partial', succeeded: 2, failed: 1 });
    expect(done.items.map((i) => i.status)).toEqual(['succeeded', 'succeeded', 'failed']);
    expect(done.items[2]!.error).toMatchObject({
      code: ErrorCode.Conflict,
      reason: 'TENANT_SLUG_TAKEN',
    });
    for (const item of done.items.slice(0, 2)) {
      await h.runReaches(item.id!, ['succeeded']);
    }
  });

  it('creates many users of a tenant through identity, one call per item', async () => {
    const accepted = await h.call(TenantRpc.create, request());
    h.participants.on('identity-users', 'create', (call) => ({
      data: {
        id: crypto.randomUUID(),
        tenantId: accepted.tenant.id,
        email: String(call.payload['email']),
        displayName: String(call.payload['displayName']),
        status: 'invited',
        roles: (call.payload['roles'] as string[]) ?? [],
        mfaEnabled: false,
        createdAt: new Date().toISOString(),
        updatedAt: new Date().toISOString(),
        lastLoginAt: null,
      },
    }));
    const started = await h.call(BulkOperationRpc.createUsers, {
      tenantId: accepted.tenant.id,
      users: [
        { email: 'ann@acme.test', displayName: 'Ann', roles: ['member'] },
        { email: 'bob@acme.test' },
        { email: 'bad-address' },
      ],
    });
    const done = await waitFor('the bulk operation to finish', async () => {
      const operation = await h.call(BulkOperationRpc.get, { id: started.id });
      return operation.finishedAt !== null && operation;
    });
    expect(done).toMatchObject({
      kind: 'users.create',
      status: 'partial',
      succeeded: 2,
      failed: 1,
    });
    const creates = h.participants.calls.filter(
      (c) => c.service === 'identity-users' && c.payload['tenantId'] === accepted.tenant.id,
    );
    // The bad address never leaves the tenants service: the request breaks identity's contract.
    // Items are worked a few at a time: in any order.
    const sorted = creates
      .map((c) => c.payload)
      .sort((a, b) => String(a['email']).localeCompare(String(b['email'])));
    expect(sorted).toEqual([
      {
        tenantId: accepted.tenant.id,
        email: 'ann@acme.test',
        displayName: 'Ann',
        roles: ['member'],
      },
      { tenantId: accepted.tenant.id, email: 'bob@acme.test', displayName: 'bob' },
    ]);
    expect(done.items[2]!.error).toMatchObject({
      code: ErrorCode.ValidationFailed,
      message: expect.stringContaining('email'),
    });
    expect(await h.failure(BulkOperationRpc.get, { id: crypto.randomUUID() })).toMatchObject({
      code: ErrorCode.NotFound,
      reason: 'BULK_OPERATION_NOT_FOUND',
    });
  });

  it("gives operators the queues' counts and jobs, and refuses an unknown queue by name", async () => {
    const { items } = await h.call(QueueOpsRpc.summary, {});
    expect(items.map((q) => q.name)).toEqual([
      'provisioning',
      'deprovisioning',
      'bulk-operations',
      'lifecycle',
    ]);
    expect(items[0]!.counts).toHaveProperty('completed');
    expect(items[0]!.counts['completed']).toBeGreaterThan(0);
    const completed = await h.call(QueueOpsRpc.jobs, {
      queue: 'provisioning',
      state: 'completed',
      limit: 5,
    });
    expect(completed.items.length).toBeGreaterThan(0);
    expect(completed.items[0]).toMatchObject({ state: 'completed', data: { kind: 'provision' } });
    expect(
      await h.failure(QueueOpsRpc.jobs, { queue: 'nope', state: 'failed', limit: 5 }),
    ).toMatchObject({ code: ErrorCode.NotFound, reason: 'QUEUE_NOT_FOUND' });
  });
});
