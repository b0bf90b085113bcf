/**
 * Tenant access at the gateway against a real TENANT_ACCESS bucket, written as the tenants
 * service writes it (one key per tenant id in the namespace's bucket, a TenantAccessSchema
 * document as JSON), and the API call limits counted in the real Redis: the guard refuses a
 * suspended tenant's user and API key within moments of the write and admits them again after
 * reactivation, refuses addresses outside the allow list, holds a limit across two gateway
 * instances sharing Redis, tolerates the bucket not existing yet, and keeps following (and
 * refusing) across a NATS restart.
 */
import { Controller, Get, Logger, type INestApplication } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Kvm, type KV } from '@nats-io/kv';
import {
  actorOf,
  Namespace,
  PLATFORM_TENANT_ID,
  TENANT_ACCESS_BUCKET,
  TenantAccessSchema,
  type Principal,
  type TenantAccess,
} from '@tenantry/contracts';
import { NatsService, type MessagingOptions } from '@tenantry/messaging';
import { PolicySnapshotFollower } from '@tenantry/policy-client';
import { defaultPolicy } from '@tenantry/policy-engine';
import {
  cleanupNamespace,
  connectTestNats,
  double,
  LOCAL_INFRA,
  startNatsServer,
  testNamespace,
  waitFor,
  type ServerProcess,
} from '@tenantry/testing';
import { Redis } from 'ioredis';
import { AccessRegistry } from '../src/auth/access-registry.js';
import { AccessTokenVerifier } from '../src/auth/access-token.verifier.js';
import { Caller, Permission } from '../src/auth/access.decorators.js';
import { ApiKeyVerifier } from '../src/auth/api-key.verifier.js';
import { AuthGuard } from '../src/auth/auth.guard.js';
import { Authenticator } from '../src/auth/authenticator.js';
import { Revocations } from '../src/auth/revocations.js';
import { TenantDirectory } from '../src/auth/tenant-directory.js';
import { VerifiedTokenCache } from '../src/auth/token-cache.js';
import { Authorizer } from '../src/authz/authorizer.js';
import { installHttpEdge } from '../src/http/http-edge.js';
import { ProblemDetailsFilter } from '../src/http/problem-details.filter.js';
import { RouteTable } from '../src/http/route-table.js';
import { ApiCallLimiter, RedisApiCallCounter } from '../src/tenant-access/api-call-limiter.js';
import { TenantAccessGate } from '../src/tenant-access/tenant-access.gate.js';
import { TenantAccessFollower } from '../src/tenant-access/tenant-access.follower.js';

const A = '0193a000-0000-7000-8000-00000000000a';
const B = '0193b000-0000-7000-8000-00000000000b';
const encoder = new TextEncoder();

const principals: Record<string, Principal> = {
  adminOfA: {
    kind: 'user',
    id: '0193c000-0000-7000-8000-000000000002',
    tenantId: A,
    roles: ['tenant-admin'],
    scopes: [],
    sessionId: '0193d000-0000-7000-8000-000000000002',
  },
  keyOfA: {
    kind: 'api_key',
    id: '0193c000-0000-7000-8000-000000000004',
    tenantId: A,
    roles: [],
    scopes: ['tenants:read'],
  },
  adminOfB: {
    kind: 'user',
    id: '0193c000-0000-7000-8000-000000000007',
    tenantId: B,
    roles: ['tenant-admin'],
    scopes: [],
    sessionId: '0193d000-0000-7000-8000-000000000007',
  },
  operator: {
    kind: 'operator',
    id: '0193c000-0000-7000-8000-000000000001',
    tenantId: null,
    roles: ['platform-operator'],
    scopes: [],
    sessionId: '0193d000-0000-7000-8000-000000000001',
  },
};

@Controller('v1/tenants/:tenantId')
class ProbeController {
  @Get('probe')
  @Permission('tenants:read')
  probe(@Caller() caller: Principal) {
    return { caller: caller.id };
  }
}

/** A tenant's access document, as the tenants service puts it in the bucket. */
function accessOf(tenantId: string, over: Partial<TenantAccess> = {}): Uint8Array {
  return encoder.encode(
    JSON.stringify(
      TenantAccessSchema.parse({
        tenantId,
        status: 'active',
        statusReason: null,
        ipAllowList: [],
        apiCallsPerMinute: null,
        apiCallsPerDay: null,
        updatedAt: new Date().toISOString(),
        ...over,
      }),
    ),
  );
}

/** The tenants service's way of making the bucket: in the namespace, one value per key. */
function tenantAccessBucket(nats: NatsService, namespace: Namespace): Promise<KV> {
  return new Kvm(nats.js).create(namespace.bucket(TENANT_ACCESS_BUCKET), { history: 1 });
}

/** The guard over `gate`, with the default policies, on Fastify in memory. */
async function gatewayWith(gate: TenantAccessGate) {
  const snapshots = new PolicySnapshotFollower(
    double(NatsService, { options: { namespace: new Namespace('unit') } as MessagingOptions }),
  );
  for (const tenantId of [A, B, PLATFORM_TENANT_ID])
    snapshots.put({
      key: tenantId,
      value: encoder.encode(JSON.stringify(defaultPolicy(tenantId))),
    });
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule],
    controllers: [ProbeController],
    providers: [
      RouteTable,
      AccessRegistry,
      {
        provide: Authenticator,
        useValue: new Authenticator({
          tokens: double(AccessTokenVerifier, {
            verify: async (token) => {
              const principal = principals[token]!;
              return { principal, actor: actorOf(principal), expiresAt: Date.now() + 60_000 };
            },
          }),
          tokenCache: new VerifiedTokenCache(),
          apiKeys: double(ApiKeyVerifier, {}),
          revocations: new Revocations(),
          revocationsLoaded: () => true,
        }),
      },
      { provide: TenantDirectory, useValue: new TenantDirectory(async () => undefined) },
      { provide: Authorizer, useValue: new Authorizer(snapshots) },
      { provide: TenantAccessGate, useValue: gate },
      { provide: APP_FILTER, useClass: ProblemDetailsFilter },
      { provide: APP_GUARD, useClass: AuthGuard },
    ],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
    logger: false,
    bodyParser: false,
  });
  installHttpEdge(app);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  const call = async (as: string, tenantId = A, remoteAddress = '127.0.0.1') => {
    const response = await app
      .getHttpAdapter()
      .getInstance()
      .inject({
        method: 'GET',
        url: `/v1/tenants/${tenantId}/probe`,
        remoteAddress,
        headers: { authorization: `Bearer ${as}` },
      });
    return {
      status: response.statusCode,
      headers: response.headers,
      body: response.json() as Record<string, unknown>,
    };
  };
  return { app: app as INestApplication, call };
}

/** Waits until `as` gets `status` (the follower applies a put within moments). */
function until(
  gateway: Awaited<ReturnType<typeof gatewayWith>>,
  as: string,
  status: number,
  timeoutMs = 10_000,
) {
  return waitFor(
    `${as} answered ${status}`,
    async () => {
      const answer = await gateway.call(as);
      return answer.status === status ? answer : undefined;
    },
    { timeoutMs, intervalMs: 50 },
  );
}

async function readiness(follower: TenantAccessFollower): Promise<string> {
  try {
    await follower.assertReady();
    return 'ready';
  } catch (error) {
    return (error as Error).message;
  }
}

beforeAll(() => Logger.overrideLogger(['error']));

describe('tenant access at the gateway, from the TENANT_ACCESS bucket (shared NATS and Redis)', () => {
  const namespace = new Namespace(testNamespace('access'));
  let nats: NatsService;
  let redis: Redis;
  let follower: TenantAccessFollower;
  let gateway: Awaited<ReturnType<typeof gatewayWith>>;
  let kv: KV;

  beforeAll(async () => {
    nats = await connectTestNats(LOCAL_INFRA.natsUrl, namespace);
    redis = new Redis(LOCAL_INFRA.redisUrl, {
      keyPrefix: namespace.redisPrefix(),
      maxRetriesPerRequest: 1,
    });
    // Started before the tenants service has made the bucket.
    follower = new TenantAccessFollower(nats);
    follower.start();
    gateway = await gatewayWith(
      new TenantAccessGate(follower, new ApiCallLimiter(new RedisApiCallCounter(redis))),
    );
  });

  afterAll(async () => {
    await gateway?.app.close();
    await follower?.stop();
    await nats?.nc.close();
    redis?.disconnect();
    await cleanupNamespace(namespace.name!);
  });

  it('is ready while the bucket does not exist yet, and follows it once the tenants service makes it', async () => {
    expect(await readiness(follower)).toBe('ready');
    expect(follower.live).toBe(false);
    expect((await gateway.call('adminOfA')).status).toBe(200);

    kv = await tenantAccessBucket(nats, namespace);
    await kv.put(A, accessOf(A, { status: 'provisioning' }));
    await kv.put(B, accessOf(B));
    await waitFor('the watch to be live', async () => follower.live || undefined, {
      timeoutMs: 10_000,
    });
    expect(await readiness(follower)).toBe('ready');
    await waitFor('both tenants held', async () => follower.size === 2 || undefined);
    expect((await gateway.call('adminOfA')).status).toBe(200);
  });

  it("refuses a suspended tenant's user and API key with 403 TENANT_SUSPENDED, and admits them after reactivation", async () => {
    await kv.put(A, accessOf(A, { status: 'suspended', statusReason: 'invoice 2026-02 unpaid' }));
    const refused = await until(gateway, 'adminOfA', 403);
    expect(refused.body).toMatchObject({
      status: 403,
      code: 'FORBIDDEN',
      reason: 'TENANT_SUSPENDED',
      detail: `tenant ${A} is suspended (reason: invoice 2026-02 unpaid): its users and API keys are refused until a platform operator reactivates it`,
    });
    expect((await gateway.call('keyOfA')).body).toMatchObject({ reason: 'TENANT_SUSPENDED' });
    expect((await gateway.call('operator')).status).toBe(200);
    expect((await gateway.call('adminOfB', B)).status).toBe(200);

    await kv.put(A, accessOf(A, { status: 'deprovisioning', statusReason: 'customer left' }));
    await waitFor('TENANT_UNAVAILABLE', async () => {
      const answer = await gateway.call('keyOfA');
      return answer.body.reason === 'TENANT_UNAVAILABLE' ? answer : undefined;
    });

    await kv.put(A, accessOf(A, { status: 'active' }));
    await until(gateway, 'adminOfA', 200);
    expect((await gateway.call('keyOfA')).status).toBe(200);
  });

  it("refuses addresses outside the tenant's IP allow list with 403 TENANT_IP_NOT_ALLOWED", async () => {
    await kv.put(A, accessOf(A, { ipAllowList: ['192.0.2.0/24', '2001:db8::/32'] }));
    const refused = await until(gateway, 'adminOfA', 403);
    expect(refused.body).toMatchObject({ reason: 'TENANT_IP_NOT_ALLOWED' });
    expect((await gateway.call('adminOfA', A, '192.0.2.44')).status).toBe(200);
    expect((await gateway.call('keyOfA', A, '2001:db8::7')).status).toBe(200);
    expect((await gateway.call('operator', A, '198.51.100.1')).status).toBe(200);
    await kv.put(A, accessOf(A));
    await until(gateway, 'adminOfA', 200);
  });

  it('holds the per-minute limit across two gateway instances counting in the same Redis', async () => {
    const second = new Redis(LOCAL_INFRA.redisUrl, {
      keyPrefix: namespace.redisPrefix(),
      maxRetriesPerRequest: 1,
    });
    const other = await gatewayWith(
      new TenantAccessGate(follower, new ApiCallLimiter(new RedisApiCallCounter(second))),
    );
    try {
      // Far enough from the end of a minute that the window does not roll over meanwhile.
      const intoMinute = Date.now() % 60_000;
      if (intoMinute > 45_000) await new Promise((r) => setTimeout(r, 60_000 - intoMinute + 100));
      await kv.put(A, accessOf(A, { apiCallsPerMinute: 6 }));
      await waitFor(
        'the limit held',
        async () => follower.get(A)?.access.apiCallsPerMinute === 6 || undefined,
      );
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        statuses.push((await gateway.call('adminOfA')).status);
        statuses.push((await other.call('keyOfA')).status);
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429, 429]);
      const refused = await other.call('adminOfA');
      expect(refused.body).toMatchObject({ status: 429, reason: 'QUOTA_EXCEEDED' });
      expect(refused.body.detail).toContain(
        'its 6 API calls of this minute (limit apiCallsPerMinute',
      );
      const retryAfter = Number(refused.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      // Operators and other tenants are not counted against it.
      expect((await gateway.call('operator')).status).toBe(200);
      expect((await other.call('adminOfB', B)).status).toBe(200);
      // The count is in Redis, under the namespace, expiring.
      const keys = await second.keys(`${namespace.redisPrefix()}api-calls:${A}:m:*`);
      expect(keys).toHaveLength(1);
      expect(await redis.ttl(keys[0]!.slice(namespace.redisPrefix().length))).toBeGreaterThan(0);
    } finally {
      await other.app.close();
      second.disconnect();
      await kv.put(A, accessOf(A));
    }
  });

  it('forgets a tenant whose key is deleted', async () => {
    await kv.put(A, accessOf(A, { status: 'failed', statusReason: 'step verify: timed out' }));
    await until(gateway, 'adminOfA', 403);
    await kv.delete(A);
    await until(gateway, 'adminOfA', 200);
    expect(follower.get(A)).toBeUndefined();
  });
});

describe('tenant access across a NATS restart (its own nats-server)', () => {
  const namespace = new Namespace(testNamespace('accessnats'));
  let server: ServerProcess;
  let nats: NatsService;
  let follower: TenantAccessFollower;
  let gateway: Awaited<ReturnType<typeof gatewayWith>>;
  let kv: KV;

  beforeAll(async () => {
    server = await startNatsServer();
    nats = await connectTestNats(server.url, namespace);
    kv = await tenantAccessBucket(nats, namespace);
    await kv.put(A, accessOf(A, { status: 'suspended', statusReason: 'abuse report' }));
    follower = new TenantAccessFollower(nats);
    follower.start();
    // No limits here: a limiter that is never asked.
    gateway = await gatewayWith(
      new TenantAccessGate(follower, double<ApiCallLimiter>('ApiCallLimiter', {})),
    );
  });

  afterAll(async () => {
    await gateway?.app.close();
    await follower?.stop();
    await nats?.nc.close();
    await server?.stop();
  });

  it('keeps refusing while NATS is away (not ready), and catches up on changes after it is back', async () => {
    await waitFor('live', async () => follower.live || undefined, { timeoutMs: 10_000 });
    await until(gateway, 'adminOfA', 403);

    await server.kill();
    await waitFor('not live', async () => !follower.live || undefined, { timeoutMs: 5_000 });
    expect(await readiness(follower)).not.toBe('ready');
    // The state held stays in force.
    expect((await gateway.call('adminOfA')).body).toMatchObject({ reason: 'TENANT_SUSPENDED' });
    expect((await gateway.call('operator')).status).toBe(200);

    await server.restart();
    // The tenants service reactivates the tenant once NATS is back.
    await waitFor(
      'the put after the restart',
      async () => (await kv.put(A, accessOf(A, { status: 'active' }))) > 0 || undefined,
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    await until(gateway, 'adminOfA', 200, 20_000);
    await waitFor('ready again', async () => (await readiness(follower)) === 'ready' || undefined, {
      timeoutMs: 20_000,
    });
    expect(follower.live).toBe(true);
  }, 60_000);
});
