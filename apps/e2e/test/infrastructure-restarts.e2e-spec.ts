import { randomBytes, randomUUID } from 'node:crypto';
import {
  cleanupNamespace,
  LOCAL_INFRA,
  Platform,
  startPostgresServer,
  startRedisServer,
  waitFor,
  waitForActiveTenant,
  type ServerProcess,
} from '@tenantry/testing';

/**
 * PostgreSQL and Redis stopped and restarted under a running platform. Both are
 * private servers on free ports (NATS is the machine's, in a namespace of its own).
 */
describe('PostgreSQL and Redis restarted under a running platform', () => {
  let postgres: ServerProcess;
  let redis: ServerProcess;
  let platform: Platform;
  let gw: string;
  /** The bootstrap operator's token, signed in once: it stays valid while PostgreSQL is down. */
  let auth: Record<string, string>;
  const adminPassword = randomBytes(18).toString('base64url');

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startPostgresServer(), startRedisServer()]);
    platform = await Platform.create({
      infra: { bootstrapUrl: postgres.url, redisUrl: redis.url },
      env: {
        DB_PORT: String(postgres.port),
        DB_POOL_SIZE: '4',
        TENANTRY_ADMIN_EMAIL: 'admin@restarts.test',
        TENANTRY_ADMIN_PASSWORD: adminPassword,
      },
    });
    await platform.start();
    gw = platform.gatewayUrl;
    const login = await fetch(`${gw}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@restarts.test', password: adminPassword }),
    });
    expect(login.status).toBe(200);
    auth = {
      authorization: `Bearer ${((await login.json()) as { accessToken: string }).accessToken}`,
    };
  });

  afterAll(async () => {
    await platform?.stop();
    if (platform)
      await cleanupNamespace(platform.namespace, {
        ...LOCAL_INFRA,
        bootstrapUrl: postgres.url,
        redisUrl: redis.url,
      });
    await postgres?.stop();
    await redis?.stop();
  });

  const health = async () => {
    const response = await fetch(`${gw}/v1/health`, { signal: AbortSignal.timeout(5_000) });
    return {
      status: response.status,
      body: (await response.json()) as {
        services: Record<string, { status: string; checks?: Record<string, { status: string }> }>;
      },
    };
  };
  const createTenant = async (slug: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${gw}/v1/tenants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth, ...headers },
      body: JSON.stringify({ name: slug, slug }),
    });
    // 202 with { tenant, runId }: the tenant is provisioned in the background.
    return {
      status: response.status,
      body: (await response.json()) as {
        tenant: { id: string };
        runId: string;
        code?: string;
        reason?: string;
      },
    };
  };
  const active = (tenantId: string, timeoutMs = 30_000) =>
    waitForActiveTenant(gw, null, tenantId, { headers: auth, timeoutMs });
  const auditCount = async (tenantId: string) => {
    const page = (await (
      await fetch(`${gw}/v1/tenants/${tenantId}/audit-events`, { headers: auth })
    ).json()) as {
      items?: { action: string }[];
    };
    // tenant.activated: the tenant's own log (tenant.created is in the platform's)
    return page.items?.filter((e) => e.action === 'tenant.activated').length ?? -1;
  };

  it('PostgreSQL down: 503s that say retry, nothing lost; back up: green again and everything stored', async () => {
    const before = await createTenant('before-pg-restart');
    expect(before.status).toBe(202);
    await active(before.body.tenant.id);

    await postgres.kill('SIGQUIT');
    const down = await waitFor('health to show the databases down', async () => {
      const h = await health();
      return h.status === 503 && h.body.services.tenants?.checks?.database?.status === 'down'
        ? h
        : undefined;
    });
    expect(down.body.services.audit!.checks!.database!.status).toBe('down');
    const refused = await createTenant('during-pg-outage');
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('SERVICE_UNAVAILABLE');

    await postgres.restart();
    await waitFor(
      'all services green after PostgreSQL restarted',
      async () => (await health()).status === 200,
      {
        timeoutMs: 30_000,
        intervalMs: 200,
      },
    );
    const after = await createTenant('after-pg-restart');
    expect(after.status).toBe(202);
    await active(after.body.tenant.id);
    // Both tenants' audit events are in the ledger: the one committed before the outage and the new one.
    await waitFor(
      'audit events of both tenants',
      async () =>
        (await auditCount(before.body.tenant.id)) === 1 &&
        (await auditCount(after.body.tenant.id)) === 1,
    );
  });

  it('Redis down: idempotent requests are refused with 503, others still work; back up: green again', async () => {
    await redis.kill();
    await waitFor('health to show redis down', async () => {
      const h = await health();
      return h.status === 503 && h.body.services.gateway?.checks?.redis?.status === 'down';
    });
    const keyed = await createTenant('keyed-during-redis-outage', {
      'idempotency-key': randomUUID(),
    });
    expect(keyed.status).toBe(503);
    expect(keyed.body.reason).toBe('IDEMPOTENCY_STORE_UNAVAILABLE');
    // Without Redis the tenant is still accepted: its run is in PostgreSQL, and is enqueued
    // (by the reconciler) once Redis is back.
    const plain = await createTenant('plain-during-redis-outage');
    expect(plain.status).toBe(202);

    await redis.restart();
    await waitFor(
      'gateway green after Redis restarted',
      async () => (await health()).status === 200,
      {
        timeoutMs: 15_000,
        intervalMs: 200,
      },
    );
    const key = { 'idempotency-key': randomUUID() };
    const first = await createTenant('keyed-after-redis', key);
    const retry = await createTenant('keyed-after-redis', key);
    expect(first.status).toBe(202);
    expect(retry.body).toEqual(first.body);
    await active(first.body.tenant.id);
    // The one accepted while Redis was down finishes too.
    await active(plain.body.tenant.id, 90_000);
  });
});
