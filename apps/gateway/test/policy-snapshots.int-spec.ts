/**
 * The gateway's policy snapshots against a real NATS key-value bucket: when it cannot watch the
 * bucket for longer than the snapshots may be used it fails closed (503, not ready), then
 * recovers by itself. (How the follower follows puts and deletes:
 * libs/policy-client/src/policy-snapshot.follower.int-spec.ts.)
 */
import { Controller, Get, Logger, type INestApplication } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Kvm } from '@nats-io/kv';
import {
  actorOf,
  Namespace,
  PLATFORM_TENANT_ID,
  PolicySnapshots,
  type Principal,
} from '@tenantry/contracts';
import type { NatsService } from '@tenantry/messaging';
import { PolicySnapshotFollower } from '@tenantry/policy-client';
import { defaultPolicy, type PolicyDocument } from '@tenantry/policy-engine';
import {
  connectTestNats,
  double,
  startNatsServer,
  testNamespace,
  waitFor,
  type ServerProcess,
} from '@tenantry/testing';
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
import { ApiCallLimiter, MemoryApiCallCounter } from '../src/tenant-access/api-call-limiter.js';
import { TenantAccessGate } from '../src/tenant-access/tenant-access.gate.js';
import { TenantAccessFollower } from '../src/tenant-access/tenant-access.follower.js';

const A = '0193a000-0000-7000-8000-00000000000a';
const encoder = new TextEncoder();
const json = (document: PolicyDocument) => encoder.encode(JSON.stringify(document));

const member: Principal = {
  kind: 'user',
  id: '0193c000-0000-7000-8000-000000000003',
  tenantId: A,
  roles: ['member'],
  scopes: [],
  sessionId: '0193d000-0000-7000-8000-000000000003',
};
const operator: Principal = {
  kind: 'operator',
  id: '0193c000-0000-7000-8000-000000000001',
  tenantId: null,
  roles: ['platform-operator'],
  scopes: [],
  sessionId: '0193d000-0000-7000-8000-000000000001',
};
const principals: Record<string, Principal> = { member, operator };

@Controller('v1')
class ProbeController {
  @Get('profile')
  @Permission('profile:read')
  profile(@Caller() caller: Principal) {
    return { caller: caller.id };
  }
}

/** The guard and the authorizer over `snapshots`, on Fastify in memory (no tenant access states). */
async function gatewayOver(snapshots: PolicySnapshotFollower, nats: NatsService) {
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
      {
        provide: TenantAccessGate,
        useValue: new TenantAccessGate(
          new TenantAccessFollower(nats),
          new ApiCallLimiter(new MemoryApiCallCounter()),
        ),
      },
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
  const call = async (as: string) => {
    const response = await app
      .getHttpAdapter()
      .getInstance()
      .inject({ method: 'GET', url: '/v1/profile', headers: { authorization: `Bearer ${as}` } });
    return { status: response.statusCode, headers: response.headers, body: response.json() };
  };
  return { app: app as INestApplication, call };
}

function readiness(snapshots: PolicySnapshotFollower): string {
  try {
    snapshots.assertReady();
    return 'ready';
  } catch (error) {
    return (error as Error).message;
  }
}

beforeAll(() => Logger.overrideLogger(['error']));

describe('gateway policy snapshots when NATS goes away (its own nats-server)', () => {
  const namespace = new Namespace(testNamespace('authz'));
  const maxAgeMs = 2_000;
  let server: ServerProcess;
  let nats: NatsService;
  let snapshots: PolicySnapshotFollower;
  let gateway: Awaited<ReturnType<typeof gatewayOver>>;

  beforeAll(async () => {
    server = await startNatsServer();
    nats = await connectTestNats(server.url, namespace);
    const kv = await new Kvm(nats.js).create(namespace.bucket(PolicySnapshots.bucket), {
      history: 1,
    });
    await kv.put(PLATFORM_TENANT_ID, json(defaultPolicy(PLATFORM_TENANT_ID)));
    await kv.put(A, json(defaultPolicy(A)));
    // maxStaleSeconds is 30 in production; 2 s here, the same mechanism, so the test is quick.
    snapshots = new PolicySnapshotFollower(nats, { maxAgeMs, confirmEveryMs: 100 });
    snapshots.start();
    gateway = await gatewayOver(snapshots, nats);
  });

  afterAll(async () => {
    await gateway?.app.close();
    await snapshots?.stop();
    await nats?.nc.close();
    await server?.stop();
  });

  it('keeps deciding while the watch is live, fails closed (503, not ready) once it has been lost for longer than allowed, and recovers', async () => {
    await waitFor('ready', async () => readiness(snapshots) === 'ready' || undefined, {
      timeoutMs: 10_000,
    });
    // Live: confirmed continually, so snapshots older than maxAgeMs are still fresh.
    await new Promise((resolve) => setTimeout(resolve, maxAgeMs + 500));
    expect((await gateway.call('member')).status).toBe(200);
    expect((await gateway.call('operator')).status).toBe(200);

    // Taken before the kill: the watch may see the end of the connection before kill() returns
    // (CI once measured 1,876 ms from after the kill to the 503).
    const lostAt = Date.now();
    await server.kill();
    await waitFor('not live', async () => !snapshots.live || undefined, { timeoutMs: 5_000 });
    expect(readiness(snapshots)).toMatch(/^not watching the policy snapshots \(bucket .*\) since /);
    // Within maxAgeMs of the loss the snapshots are still used.
    if (Date.now() - lostAt < maxAgeMs - 500)
      expect((await gateway.call('member')).status).toBe(200);

    const stale = await waitFor(
      'a 503',
      async () => {
        const answer = await gateway.call('member');
        return answer.status === 503 ? answer : undefined;
      },
      { timeoutMs: maxAgeMs + 3_000, intervalMs: 100 },
    );
    // Stale maxAgeMs after the last confirmation, which came at most one interval (100 ms)
    // before the loss, or two when the machine delayed that interval's timer.
    expect(Date.now() - lostAt).toBeGreaterThanOrEqual(maxAgeMs - 2 * 100);
    expect(stale.headers['retry-after']).toBe('2');
    expect(stale.body).toMatchObject({
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
      reason: 'AUTHZ_POLICY_UNAVAILABLE',
    });
    expect((await gateway.call('operator')).status).toBe(503);

    await server.restart();
    await waitFor('ready again', async () => readiness(snapshots) === 'ready' || undefined, {
      timeoutMs: 20_000,
    });
    expect((await gateway.call('member')).status).toBe(200);
    expect((await gateway.call('operator')).status).toBe(200);
  }, 60_000);
});
