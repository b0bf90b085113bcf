/**
 * The provisioning pipeline under faults, with the real services as processes (identity,
 * policy, audit, tenants) on the machine's PostgreSQL and NATS, and a private redis-server
 * (append-only file, fsync on every write, so a restart can keep its data or be wiped):
 *
 * - the tenants service SIGKILLed in the middle of a step and started again: the run
 *   finishes, and every step's effect exists exactly once (one admin user, one policy, one
 *   genesis entry);
 * - a step that can never succeed (the audit service stopped): the tenant ends `failed`,
 *   compensated, with nothing of the bootstrap left in identity, policy or audit;
 * - Redis restarted with its data: the run resumes;
 * - Redis restarted empty: the reconciler enqueues the run again and it finishes.
 *
 * A step is held "in the middle" by stopping (SIGSTOP) the participant it waits for, so the
 * participant still does the work when it continues: exactly the case idempotency is for.
 */
import { rmSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  Namespace,
  ProvisioningRpc,
  TenantRpc,
  type CreateTenantRequest,
  type ProvisioningRun,
  type RpcContract,
  type RpcRequest,
  type RpcResponse,
} from '@tenantry/contracts';
import { newContext, RpcClient, type NatsService } from '@tenantry/messaging';
import {
  connectTestNats,
  Platform,
  ServerProcess,
  waitFor,
  type ServiceProcess,
} from '@tenantry/testing';
import pg from 'pg';

const OPERATOR = 'operator:01a00000-0000-7000-8000-000000000001';

/** redis-server keeping every write in its append-only file: a restart finds all of it. */
function startDurableRedis(bin = process.env.REDIS_SERVER_BIN ?? 'redis-server') {
  return ServerProcess.start({
    name: 'redis',
    url: (port) => `redis://127.0.0.1:${port}`,
    command: bin,
    args: (port, dir) => [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--dir',
      dir,
    ],
  });
}

describe('provisioning under faults (services as processes, a private redis-server)', () => {
  let redis: ServerProcess;
  let platform: Platform;
  let nats: NatsService;
  let rpc: RpcClient;
  const databases = new Map<string, pg.Client>();
  let serial = 0;

  beforeAll(async () => {
    redis = await startDurableRedis();
    platform = await Platform.create({
      services: ['identity', 'policy', 'audit', 'tenants'],
      infra: { redisUrl: redis.url },
      env: {
        PROVISIONING_STEP_ATTEMPTS: '3',
        PROVISIONING_BACKOFF_MS: '200',
        PROVISIONING_LOCK_MS: '2000',
        PROVISIONING_STALLED_INTERVAL_MS: '1000',
        PROVISIONING_RECONCILE_SECONDS: '1',
        PROVISIONING_RPC_TIMEOUT_MS: '8000',
      },
    });
    await platform.start();
    nats = await connectTestNats(platform.infra.natsUrl, platform.namespace);
    rpc = new RpcClient(nats);
  });

  afterAll(async () => {
    for (const name of ['identity', 'policy', 'audit', 'tenants'] as const) {
      const pid = platform?.processes.get(name)?.pid;
      if (pid) resume(pid);
    }
    for (const db of databases.values()) await db.end().catch(() => undefined);
    await nats?.drain().catch(() => undefined);
    await platform?.destroy();
    await redis?.stop();
  });

  function call<C extends RpcContract>(
    contract: C,
    payload: RpcRequest<C>,
  ): Promise<RpcResponse<C>> {
    return rpc.request(contract, payload, {
      context: newContext({ actor: OPERATOR }),
      timeoutMs: 15_000,
    });
  }

  /** A superuser connection to a service's database (row-level security does not apply). */
  async function db(service: string): Promise<pg.Client> {
    let client = databases.get(service);
    if (!client) {
      const url = new URL(platform.infra.bootstrapUrl);
      url.pathname = `/${new Namespace(platform.namespace).database(service)}`;
      client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      databases.set(service, client);
    }
    return client;
  }

  async function count(service: string, sql: string, values: unknown[]): Promise<number> {
    const { rows } = await (await db(service)).query<{ n: number }>(sql, values);
    return rows[0]!.n;
  }

  /** What the bootstrap of a tenant left in each participant's database. */
  async function footprint(tenantId: string) {
    return {
      users: await count('identity', 'SELECT count(*)::int AS n FROM users WHERE tenant_id = $1', [
        tenantId,
      ]),
      policies: await count(
        'policy',
        'SELECT count(*)::int AS n FROM tenant_policies WHERE tenant_id = $1',
        [tenantId],
      ),
      genesis: await count(
        'audit',
        `SELECT count(*)::int AS n FROM audit_events WHERE tenant_id = $1 AND action = 'tenant.genesis'`,
        [tenantId],
      ),
    };
  }

  function request(): CreateTenantRequest {
    serial++;
    return {
      name: `Faulty ${serial}`,
      slug: `faulty-${serial}-${Math.random().toString(36).slice(2, 7)}`,
      plan: 'starter',
      isolation: 'rls',
      admin: { email: `admin${serial}@faulty.test`, displayName: 'First Admin' },
    };
  }

  /** The step's status as the tenants database has it. */
  async function stepStatus(runId: string, step: string): Promise<string | undefined> {
    const { rows } = await (
      await db('tenants')
    ).query<{ status: string }>(
      'SELECT status FROM provisioning_steps WHERE run_id = $1 AND name = $2',
      [runId, step],
    );
    return rows[0]?.status;
  }

  function runEnds(tenantId: string, timeoutMs = 90_000): Promise<ProvisioningRun> {
    return waitFor(
      `the run of tenant ${tenantId} to end`,
      async () => {
        const run = await call(ProvisioningRpc.get, { tenantId });
        return ['succeeded', 'failed'].includes(run.status) && run;
      },
      { timeoutMs, intervalMs: 200 },
    );
  }

  function pause(pid: number): void {
    process.kill(pid, 'SIGSTOP');
  }

  function resume(pid: number): void {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // already gone
    }
  }

  /**
   * Starts a tenant's provisioning with `participant` paused (SIGSTOP), waits until the run
   * is in the participant's step (the request is on its way to it), runs `fault`, then lets
   * the participant go on.
   */
  async function withStepInFlight(
    participant: ServiceProcess,
    step: string,
    fault: () => Promise<void>,
  ): Promise<string> {
    const pid = participant.pid!;
    pause(pid);
    try {
      const accepted = await call(TenantRpc.create, request());
      await waitFor(
        `${step} to be in flight`,
        async () => (await stepStatus(accepted.runId, step)) === 'running',
        { timeoutMs: 30_000, intervalMs: 50 },
      );
      await fault();
      return accepted.tenant.id;
    } finally {
      resume(pid);
    }
  }

  it('tenants service SIGKILLed in the middle of a step and restarted: the run finishes, each effect exactly once', async () => {
    const tenants = platform.service('tenants');
    const tenantId = await withStepInFlight(
      platform.service('identity'),
      'identity-bootstrap',
      async () => {
        await tenants.kill();
      },
    );
    // Identity goes on and creates the admin; the reply has nowhere to go.
    tenants.start();
    await tenants.waitReady(90_000);
    const run = await runEnds(tenantId);
    expect(run.status).toBe('succeeded');
    // The step ran again after the crash (its job stalled, then went to the restarted worker).
    expect(run.steps.find((s) => s.name === 'identity-bootstrap')!.attempts).toBeGreaterThanOrEqual(
      2,
    );
    expect(await call(TenantRpc.get, { id: tenantId })).toMatchObject({ status: 'active' });
    expect(await footprint(tenantId)).toEqual({ users: 1, policies: 1, genesis: 1 });
  });

  it('a step that always fails (audit stopped): the tenant is failed, compensated, nothing left in identity, policy or audit', async () => {
    const audit = platform.service('audit');
    await audit.stop();
    let tenantId = '';
    try {
      const accepted = await call(TenantRpc.create, request());
      tenantId = accepted.tenant.id;
      const run = await runEnds(tenantId);
      expect(run).toMatchObject({ status: 'failed', failedStep: 'audit-genesis' });
      expect(run.steps.map((s) => [s.name, s.status])).toEqual([
        ['validate', 'succeeded'],
        ['allocate-storage', 'succeeded'],
        ['identity-bootstrap', 'compensated'],
        ['policy-bootstrap', 'compensated'],
        ['audit-genesis', 'failed'],
        ['verify', 'skipped'],
        ['activate', 'skipped'],
      ]);
      const tenant = await call(TenantRpc.get, { id: tenantId });
      expect(tenant.status).toBe('failed');
      expect(tenant.statusReason).toMatch(/^provisioning failed at step audit-genesis: /);
    } finally {
      audit.start();
      await audit.waitReady(90_000);
    }
    // Audit back: still no genesis entry (and identity and policy are clean).
    expect(await footprint(tenantId)).toEqual({ users: 0, policies: 0, genesis: 0 });
  });

  it('Redis restarted with its data in the middle of a step: the run resumes', async () => {
    const tenantId = await withStepInFlight(
      platform.service('policy'),
      'policy-bootstrap',
      async () => {
        await redis.kill();
        await redis.restart();
      },
    );
    const run = await runEnds(tenantId);
    expect(run.status).toBe('succeeded');
    expect(await footprint(tenantId)).toEqual({ users: 1, policies: 1, genesis: 1 });
  });

  it('Redis restarted empty in the middle of a step: the reconciler enqueues the run again and it finishes', async () => {
    const tenantId = await withStepInFlight(
      platform.service('policy'),
      'policy-bootstrap',
      async () => {
        await redis.kill();
        for (const entry of readdirSync(redis.dataDir)) {
          rmSync(join(redis.dataDir, entry), { recursive: true, force: true });
        }
        await redis.restart();
      },
    );
    const run = await runEnds(tenantId);
    expect(run.status).toBe('succeeded');
    expect(run.requeues).toBeGreaterThanOrEqual(1);
    expect(await footprint(tenantId)).toEqual({ users: 1, policies: 1, genesis: 1 });
  });
});
