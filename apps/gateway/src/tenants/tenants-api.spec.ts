/**
 * The gateway's routes to the tenants service, on Fastify in memory with the real guard, the
 * default policies and the problem details: who may call what, what each route forwards over
 * NATS (the RpcClient is a double that records and answers), and the splits the controllers
 * make themselves (a tenant PATCH by a tenant's admin, a bulk operation of another tenant).
 */
import { Logger, type Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import {
  actorOf,
  AppError,
  DEFAULT_TENANT_SETTINGS,
  ErrorCode,
  Namespace,
  PLATFORM_TENANT_ID,
  ProblemSchema,
  tenantNotFound,
  type BulkOperation,
  type Principal,
  type RpcContract,
  type Tenant,
} from '@tenantry/contracts';
import { NatsService, RpcClient, type MessagingOptions } from '@tenantry/messaging';
import { PolicySnapshotFollower } from '@tenantry/policy-client';
import { defaultPolicy } from '@tenantry/policy-engine';
import { double } from '@tenantry/testing';
import { AccessRegistry } from '../auth/access-registry.js';
import { AccessTokenVerifier } from '../auth/access-token.verifier.js';
import { ApiKeyVerifier } from '../auth/api-key.verifier.js';
import { AuthErrors } from '../auth/auth.errors.js';
import { AuthGuard } from '../auth/auth.guard.js';
import { Authenticator } from '../auth/authenticator.js';
import { Revocations } from '../auth/revocations.js';
import { TenantDirectory } from '../auth/tenant-directory.js';
import { VerifiedTokenCache } from '../auth/token-cache.js';
import { Authorizer } from '../authz/authorizer.js';
import { installHttpEdge } from '../http/http-edge.js';
import { ProblemDetailsFilter } from '../http/problem-details.filter.js';
import { RouteTable } from '../http/route-table.js';
import type { IdempotencyRecord } from '../idempotency/idempotency.js';
import { IdempotencyInterceptor } from '../idempotency/idempotency.interceptor.js';
import { IdempotencyRepository } from '../idempotency/idempotency.repository.js';
import { ApiCallLimiter, MemoryApiCallCounter } from '../tenant-access/api-call-limiter.js';
import { TenantAccessGate } from '../tenant-access/tenant-access.gate.js';
import { TenantAccessFollower } from '../tenant-access/tenant-access.follower.js';
import { BulkOperationController, visibleBulkOperation } from './bulk-operation.controller.js';
import { OrganizationController } from './organization.controller.js';
import { PlanController } from './plan.controller.js';
import { ProvisioningController } from './provisioning.controller.js';
import { QueueController } from './queue.controller.js';
import { TemplateController } from './template.controller.js';
import { checkTenantUpdate, TenantController } from './tenant.controller.js';

const A = '0193a000-0000-7000-8000-00000000000a';
const B = '0193b000-0000-7000-8000-00000000000b';
const RUN = '0193e000-0000-7000-8000-00000000000e';
const OP = '0193f000-0000-7000-8000-0000000000f1';
const ORG = '0193f000-0000-7000-8000-0000000000f2';
const NOW = '2026-03-01T12:00:00.000Z';

const principal = (
  kind: Principal['kind'],
  n: number,
  tenantId: string | null,
  roles: string[],
  scopes: string[] = [],
): Principal => ({
  kind,
  id: `0193c000-0000-7000-8000-00000000000${n}`,
  tenantId,
  roles,
  scopes,
  ...(kind === 'api_key' ? {} : { sessionId: `0193d000-0000-7000-8000-00000000000${n}` }),
});

const principals: Record<string, Principal> = {
  operator: principal('operator', 1, null, ['platform-operator']),
  adminOfA: principal('user', 2, A, ['tenant-admin']),
  memberOfA: principal('user', 3, A, ['member']),
  writerKeyOfA: principal('api_key', 4, A, [], ['tenants:write', 'organizations:read']),
  platformKey: principal('api_key', 5, null, [], ['*:*']),
  adminOfB: principal('user', 6, B, ['tenant-admin']),
};

function tenant(id: string, over: Partial<Tenant> = {}): Tenant {
  return {
    id,
    name: 'Acme',
    slug: 'acme',
    status: 'active',
    statusReason: null,
    plan: 'free',
    region: 'local',
    isolation: 'rls',
    settings: DEFAULT_TENANT_SETTINGS,
    limitOverrides: {},
    limits: {
      users: 5,
      apiCallsPerMinute: 60,
      apiCallsPerDay: 10_000,
      storageMb: 100,
      customRoles: 0,
      ssoConnections: 0,
      meteredUnitsPerMonth: null,
      auditRetentionDays: 30,
    },
    features: [],
    pendingPlanChange: null,
    runId: null,
    trialEndsAt: null,
    deleteAfter: null,
    createdAt: NOW,
    updatedAt: NOW,
    ...over,
  };
}

function bulk(tenantId: string | null): BulkOperation {
  return {
    id: OP,
    kind: tenantId ? 'users.create' : 'tenants.create',
    tenantId,
    status: 'running',
    total: 1,
    succeeded: 0,
    failed: 0,
    items: [{ index: 0, status: 'pending', id: null, error: null }],
    createdAt: NOW,
    finishedAt: null,
  };
}

/** What the tenants service answers, by subject (the double records every request). */
function answer(subject: string, payload: Record<string, unknown>): unknown {
  switch (subject) {
    case 'tenants.tenants.create':
      return { tenant: tenant(A, { status: 'provisioning', runId: RUN }), runId: RUN };
    case 'tenants.tenants.get':
      if (![A, B].includes(payload.id as string)) throw tenantNotFound(payload.id as string);
      return tenant(payload.id as string);
    case 'tenants.bulk-operations.get':
      if (payload.id === OP) return bulk(B);
      throw new AppError(ErrorCode.NotFound, `no bulk operation ${String(payload.id)} here`);
    default:
      return { forwarded: subject, payload };
  }
}

class MemoryIdempotency {
  readonly records = new Map<string, IdempotencyRecord>();
  async claim(key: string, fingerprint: string) {
    if (this.records.has(key)) return false;
    this.records.set(key, { state: 'pending', fingerprint });
    return true;
  }
  async get(key: string) {
    return this.records.get(key) ?? null;
  }
  async complete(key: string, record: IdempotencyRecord) {
    this.records.set(key, record);
  }
  async release(key: string) {
    this.records.delete(key);
  }
}

const encoder = new TextEncoder();
const CONTROLLERS: Type[] = [
  TenantController,
  ProvisioningController,
  PlanController,
  TemplateController,
  OrganizationController,
  BulkOperationController,
  QueueController,
];

async function start() {
  const sent: { subject: string; payload: Record<string, unknown> }[] = [];
  const nats = double(NatsService, {
    options: { namespace: new Namespace('unit') } as MessagingOptions,
  });
  const snapshots = new PolicySnapshotFollower(nats);
  for (const tenantId of [A, B, PLATFORM_TENANT_ID]) {
    snapshots.put({
      key: tenantId,
      value: encoder.encode(JSON.stringify(defaultPolicy(tenantId))),
    });
  }
  const rpc: Pick<RpcClient, 'request'> = {
    request: (async (contract: RpcContract, payload: Record<string, unknown>) => {
      sent.push({ subject: contract.subject, payload });
      return answer(contract.subject, payload);
    }) as unknown as RpcClient['request'],
  };
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule],
    controllers: CONTROLLERS,
    providers: [
      RouteTable,
      AccessRegistry,
      { provide: RpcClient, useValue: rpc },
      { provide: IdempotencyRepository, useValue: new MemoryIdempotency() },
      IdempotencyInterceptor,
      {
        provide: Authenticator,
        useValue: new Authenticator({
          tokens: double(AccessTokenVerifier, {
            verify: async (token) => {
              const who = principals[token];
              if (!who) throw AuthErrors.tokenInvalid();
              return { principal: who, actor: actorOf(who), expiresAt: Date.now() + 60_000 };
            },
          }),
          tokenCache: new VerifiedTokenCache(),
          apiKeys: double(ApiKeyVerifier, {}),
          revocations: new Revocations(),
          revocationsLoaded: () => true,
        }),
      },
      {
        provide: TenantDirectory,
        useValue: new TenantDirectory(async (id) => answer('tenants.tenants.get', { id })),
      },
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
  const call = async (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    as: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    sent.length = 0;
    const response = await app
      .getHttpAdapter()
      .getInstance()
      .inject({
        method,
        url,
        remoteAddress: '203.0.113.7',
        headers: {
          authorization: `Bearer ${as}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      });
    return {
      status: response.statusCode,
      headers: response.headers,
      body: response.json() as Record<string, unknown>,
      sent: [...sent],
    };
  };
  return { app, call, registry: app.get(AccessRegistry) };
}

beforeAll(() => Logger.overrideLogger(false));

describe('the tenants API', () => {
  let gateway: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    gateway = await start();
  });
  afterAll(async () => {
    await gateway?.app.close();
  });

  it('declares who may call every route (the gateway starts), with the routes the issue names', () => {
    const routes = gateway.registry
      .routes()
      .map((r) => `${r.method} ${r.path}`)
      .sort();
    expect(routes).toEqual(
      [
        'POST /v1/tenants',
        'GET /v1/tenants',
        'GET /v1/tenants/:id',
        'PATCH /v1/tenants/:id',
        'POST /v1/tenants/:id/plan',
        'POST /v1/tenants/:id/suspend',
        'POST /v1/tenants/:id/reactivate',
        'POST /v1/tenants/:id/deprovision',
        'DELETE /v1/tenants/:id/deprovision',
        'GET /v1/tenants/:id/provisioning',
        'GET /v1/tenants/:id/provisioning/runs',
        'POST /v1/tenants/:id/provisioning/retry',
        'GET /v1/plans',
        'GET /v1/plans/:key',
        'PATCH /v1/plans/:key',
        'POST /v1/tenant-templates',
        'GET /v1/tenant-templates',
        'GET /v1/tenant-templates/:key',
        'PATCH /v1/tenant-templates/:key',
        'DELETE /v1/tenant-templates/:key',
        'POST /v1/tenant-templates/:key/render',
        'POST /v1/tenant-templates/:key/tenants',
        'POST /v1/tenants/:tenantId/organizations',
        'GET /v1/tenants/:tenantId/organizations',
        'GET /v1/tenants/:tenantId/organizations/:id',
        'PATCH /v1/tenants/:tenantId/organizations/:id',
        'POST /v1/tenants/:tenantId/organizations/:id/move',
        'DELETE /v1/tenants/:tenantId/organizations/:id',
        'POST /v1/bulk-operations/tenants',
        'POST /v1/tenants/:tenantId/users/bulk',
        'GET /v1/bulk-operations/:id',
        'GET /v1/operations/queues',
        'GET /v1/operations/queues/:queue/jobs',
        'POST /v1/operations/queues/:queue/jobs/:jobId/retry',
      ].sort(),
    );
    expect(gateway.registry.routes().every((r) => r.access)).toBe(true);
  });

  it('documents POST /v1/tenants as a 202 with the tenant and its run', () => {
    const document = SwaggerModule.createDocument(gateway.app, new DocumentBuilder().build());
    const responses = document.paths['/v1/tenants']!.post!.responses as Record<
      string,
      { content?: Record<string, { schema: { properties?: Record<string, unknown> } }> }
    >;
    expect(Object.keys(responses)).toContain('202');
    expect(Object.keys(responses)).not.toContain('201');
    expect(
      Object.keys(responses['202']!.content!['application/json']!.schema.properties!).sort(),
    ).toEqual(['runId', 'tenant']);
    expect(document.paths['/v1/tenants/{id}/deprovision']).toHaveProperty('delete');
  });

  describe('POST /v1/tenants', () => {
    it('answers 202 with the tenant in provisioning and its run, and replays it for the same Idempotency-Key', async () => {
      const body = { name: 'Acme', slug: 'acme', admin: { email: 'ada@acme.test' } };
      const first = await gateway.call('POST', '/v1/tenants', 'operator', body, {
        'idempotency-key': 'create-acme-1',
      });
      expect(first.status).toBe(202);
      expect(first.body).toMatchObject({
        runId: RUN,
        tenant: { status: 'provisioning', runId: RUN },
      });
      expect(first.sent).toEqual([
        {
          subject: 'tenants.tenants.create',
          payload: { ...body, plan: 'free', isolation: 'rls' },
        },
      ]);
      const retry = await gateway.call('POST', '/v1/tenants', 'operator', body, {
        'idempotency-key': 'create-acme-1',
      });
      expect(retry).toMatchObject({ status: 202, body: first.body, sent: [] });
      expect(retry.headers['idempotent-replayed']).toBe('true');
    });

    it('is platform administration: operators only', async () => {
      for (const who of ['adminOfA', 'platformKey']) {
        const refused = await gateway.call('POST', '/v1/tenants', who, { name: 'X', slug: 'x' });
        expect({ who, status: refused.status, sent: refused.sent }).toEqual({
          who,
          status: 403,
          sent: [],
        });
      }
    });
  });

  describe('PATCH /v1/tenants/{id}', () => {
    it("lets a tenant's admin change its own name and settings", async () => {
      const answer = await gateway.call('PATCH', `/v1/tenants/${A}`, 'adminOfA', {
        name: 'Acme GmbH',
        settings: { mfaRequired: true, ipAllowList: ['203.0.113.0/24'] },
      });
      expect(answer.status).toBe(200);
      expect(answer.sent).toEqual([
        {
          subject: 'tenants.tenants.update',
          payload: {
            id: A,
            name: 'Acme GmbH',
            settings: { mfaRequired: true, ipAllowList: ['203.0.113.0/24'] },
          },
        },
      ]);
    });

    it('refuses limits and trial from a tenant’s principal with a 403 naming each field', async () => {
      const refused = await gateway.call('PATCH', `/v1/tenants/${A}`, 'adminOfA', {
        name: 'Acme',
        limitOverrides: { users: 1000 },
        trialEndsAt: null,
      });
      expect(refused.sent).toEqual([]);
      expect(ProblemSchema.parse(refused.body)).toMatchObject({
        status: 403,
        reason: 'TENANT_FIELD_PLATFORM_ONLY',
        errors: [
          {
            field: 'limitOverrides',
            message: 'limitOverrides can only be changed by a platform operator',
          },
          {
            field: 'trialEndsAt',
            message: 'trialEndsAt can only be changed by a platform operator',
          },
        ],
      });
      expect(refused.body.detail).toContain(
        'limitOverrides, trialEndsAt are platform administration',
      );
      const key = await gateway.call('PATCH', `/v1/tenants/${A}`, 'writerKeyOfA', {
        clearOverrides: ['users'],
      });
      expect(key).toMatchObject({ status: 403, body: { reason: 'TENANT_FIELD_PLATFORM_ONLY' } });
      expect(key.body.detail).toMatch(/^clearOverrides is platform administration/);
    });

    it('lets an operator change everything, and refuses members, platform API keys and other tenants', async () => {
      const operator = await gateway.call('PATCH', `/v1/tenants/${A}`, 'operator', {
        limitOverrides: { users: 1000, apiCallsPerDay: null },
        clearOverrides: ['customRoles'],
        trialEndsAt: '2026-04-01T00:00:00.000Z',
      });
      expect(operator.status).toBe(200);
      expect(operator.sent[0]?.payload).toEqual({
        id: A,
        limitOverrides: { users: 1000, apiCallsPerDay: null },
        clearOverrides: ['customRoles'],
        trialEndsAt: '2026-04-01T00:00:00.000Z',
      });
      const member = await gateway.call('PATCH', `/v1/tenants/${A}`, 'memberOfA', { name: 'X' });
      expect(member).toMatchObject({ status: 403, body: { reason: 'AUTH_NOT_PERMITTED' } });
      const platformKey = await gateway.call('PATCH', `/v1/tenants/${A}`, 'platformKey', {
        name: 'X',
      });
      expect(platformKey).toMatchObject({
        status: 403,
        body: { reason: 'TENANT_FIELD_PLATFORM_ONLY' },
        sent: [],
      });
      const other = await gateway.call('PATCH', `/v1/tenants/${A}`, 'adminOfB', { name: 'X' });
      expect(other).toMatchObject({ status: 404, body: { reason: 'TENANT_NOT_FOUND' }, sent: [] });
    });

    it("refuses a tenant's IP allow list that leaves out the caller's own address", async () => {
      const refused = await gateway.call('PATCH', `/v1/tenants/${A}`, 'adminOfA', {
        settings: { ipAllowList: ['10.0.0.0/8'] },
      });
      expect(refused).toMatchObject({
        status: 400,
        body: {
          reason: 'TENANT_IP_ALLOW_LIST_EXCLUDES_CALLER',
          errors: [{ field: 'settings.ipAllowList' }],
        },
        sent: [],
      });
      expect(refused.body.detail).toContain('203.0.113.7');
      // An operator may (it is not refused by the list), and an empty list is no list.
      expect(
        (
          await gateway.call('PATCH', `/v1/tenants/${A}`, 'operator', {
            settings: { ipAllowList: ['10.0.0.0/8'] },
          })
        ).status,
      ).toBe(200);
      expect(
        (
          await gateway.call('PATCH', `/v1/tenants/${A}`, 'adminOfA', {
            settings: { ipAllowList: [] },
          })
        ).status,
      ).toBe(200);
    });
  });

  it('forwards the lifecycle routes for operators only', async () => {
    const cases: [string, string, unknown, string, unknown, number][] = [
      [
        'POST',
        `/v1/tenants/${A}/suspend`,
        { reason: 'unpaid' },
        'tenants.tenants.suspend',
        { id: A, reason: 'unpaid' },
        200,
      ],
      [
        'POST',
        `/v1/tenants/${A}/reactivate`,
        undefined,
        'tenants.tenants.reactivate',
        { id: A },
        200,
      ],
      ['POST', `/v1/tenants/${A}/deprovision`, {}, 'tenants.tenants.deprovision', { id: A }, 202],
      [
        'DELETE',
        `/v1/tenants/${A}/deprovision`,
        undefined,
        'tenants.tenants.cancel-deprovision',
        { id: A },
        200,
      ],
      [
        'POST',
        `/v1/tenants/${A}/plan`,
        { plan: 'starter' },
        'tenants.tenants.change-plan',
        { id: A, plan: 'starter', when: 'now' },
        200,
      ],
      [
        'POST',
        `/v1/tenants/${A}/provisioning/retry`,
        undefined,
        'tenants.provisioning.retry',
        { tenantId: A },
        202,
      ],
    ];
    for (const [method, url, body, subject, payload, status] of cases) {
      const m = method as 'POST' | 'DELETE';
      const ok = await gateway.call(m, url, 'operator', body);
      expect({ url, status: ok.status, sent: ok.sent }).toEqual({
        url,
        status,
        sent: [{ subject, payload }],
      });
      const admin = await gateway.call(m, url, 'adminOfA', body);
      expect({ url, status: admin.status, reason: admin.body.reason }).toEqual({
        url,
        status: 403,
        reason: 'AUTH_PRINCIPAL_KIND_REFUSED',
      });
    }
  });

  it("shows a tenant's provisioning to its own principals and operators", async () => {
    const own = await gateway.call('GET', `/v1/tenants/${A}/provisioning`, 'memberOfA');
    expect(own.sent).toEqual([{ subject: 'tenants.provisioning.get', payload: { tenantId: A } }]);
    const runs = await gateway.call('GET', `/v1/tenants/${A}/provisioning/runs`, 'operator');
    expect(runs.sent).toEqual([{ subject: 'tenants.provisioning.list', payload: { tenantId: A } }]);
    expect((await gateway.call('GET', `/v1/tenants/${B}/provisioning`, 'memberOfA')).status).toBe(
      404,
    );
  });

  it('shows the plans to anyone signed in; operators change them', async () => {
    const list = await gateway.call('GET', '/v1/plans', 'memberOfA');
    expect(list.sent).toEqual([{ subject: 'tenants.plans.list', payload: {} }]);
    expect((await gateway.call('GET', '/v1/plans/starter', 'writerKeyOfA')).status).toBe(200);
    const bad = await gateway.call('GET', '/v1/plans/gold', 'memberOfA');
    expect(bad).toMatchObject({ status: 400, body: { errors: [{ field: 'key' }] } });
    expect(
      (await gateway.call('PATCH', '/v1/plans/free', 'adminOfA', { name: 'Free' })).status,
    ).toBe(403);
    const update = await gateway.call('PATCH', '/v1/plans/free', 'operator', {
      quotas: { users: 10 },
    });
    expect(update.sent).toEqual([
      { subject: 'tenants.plans.update', payload: { key: 'free', quotas: { users: 10 } } },
    ]);
  });

  it('serves templates to operators, creating a tenant from one with 202', async () => {
    const body = { variables: { name: 'Beta' }, overrides: { 'settings.mfaRequired': true } };
    const created = await gateway.call(
      'POST',
      '/v1/tenant-templates/starter-eu/tenants',
      'operator',
      body,
    );
    expect(created.status).toBe(202);
    expect(created.sent).toEqual([
      { subject: 'tenants.templates.instantiate', payload: { key: 'starter-eu', ...body } },
    ]);
    const rendered = await gateway.call(
      'POST',
      '/v1/tenant-templates/starter-eu/render',
      'operator',
      {},
    );
    expect(rendered).toMatchObject({ status: 200 });
    expect(rendered.sent[0]?.payload).toEqual({ key: 'starter-eu', variables: {}, overrides: {} });
    for (const [method, url] of [
      ['GET', '/v1/tenant-templates'],
      ['POST', '/v1/tenant-templates/starter-eu/tenants'],
    ] as const)
      expect(
        (await gateway.call(method, url, 'adminOfA', method === 'POST' ? body : undefined)).status,
      ).toBe(403);
  });

  it("serves a tenant's organizations to its principals with organizations:read|write", async () => {
    const list = await gateway.call(
      'GET',
      `/v1/tenants/${A}/organizations?parentId=root&limit=10`,
      'writerKeyOfA',
    );
    expect(list.sent).toEqual([
      {
        subject: 'tenants.organizations.list',
        payload: { tenantId: A, parentId: 'root', limit: 10 },
      },
    ]);
    const move = await gateway.call(
      'POST',
      `/v1/tenants/${A}/organizations/${ORG}/move`,
      'adminOfA',
      {
        parentId: null,
      },
    );
    expect(move.sent).toEqual([
      { subject: 'tenants.organizations.move', payload: { tenantId: A, id: ORG, parentId: null } },
    ]);
    // A member has neither; an API key only what its scopes cover.
    expect((await gateway.call('GET', `/v1/tenants/${A}/organizations`, 'memberOfA')).status).toBe(
      403,
    );
    expect(
      (
        await gateway.call('POST', `/v1/tenants/${A}/organizations`, 'writerKeyOfA', {
          name: 'Sales',
          slug: 'sales',
        })
      ).status,
    ).toBe(403);
    expect((await gateway.call('GET', `/v1/tenants/${B}/organizations`, 'adminOfA')).status).toBe(
      404,
    );
  });

  describe('bulk operations', () => {
    it('starts a bulk user creation of the tenant (202) and a bulk tenant creation for operators', async () => {
      const users = await gateway.call('POST', `/v1/tenants/${A}/users/bulk`, 'adminOfA', {
        users: [{ email: 'a@acme.test' }],
      });
      expect(users.status).toBe(202);
      expect(users.sent).toEqual([
        {
          subject: 'tenants.bulk-operations.create-users',
          payload: { tenantId: A, users: [{ email: 'a@acme.test' }] },
        },
      ]);
      const tenants = await gateway.call('POST', '/v1/bulk-operations/tenants', 'operator', {
        tenants: [{ name: 'One', slug: 'one' }],
      });
      expect(tenants.status).toBe(202);
      expect(
        (
          await gateway.call('POST', '/v1/bulk-operations/tenants', 'adminOfA', {
            tenants: [{ name: 'One', slug: 'one' }],
          })
        ).status,
      ).toBe(403);
    });

    it("answers another tenant's operation exactly as one that does not exist", async () => {
      const foreign = await gateway.call('GET', `/v1/bulk-operations/${OP}`, 'adminOfA');
      const missing = await gateway.call(
        'GET',
        '/v1/bulk-operations/0193f000-0000-7000-8000-0000000000ff',
        'adminOfA',
      );
      expect(foreign.status).toBe(404);
      const { requestId: _a, instance: _b, ...foreignProblem } = foreign.body;
      const { requestId: _c, instance: _d, ...missingProblem } = missing.body;
      expect(foreignProblem).toEqual({
        ...missingProblem,
        detail: missingProblem
          .detail!.toString()
          .replace('0193f000-0000-7000-8000-0000000000ff', OP),
      });
      expect(foreign.body).toMatchObject({ reason: 'BULK_OPERATION_NOT_FOUND' });
      expect((await gateway.call('GET', `/v1/bulk-operations/${OP}`, 'adminOfB')).status).toBe(200);
      expect((await gateway.call('GET', `/v1/bulk-operations/${OP}`, 'operator')).status).toBe(200);
    });

    it('shows a tenant’s principal nothing of a tenants.create operation', () => {
      expect(() => visibleBulkOperation(principals.adminOfA!, bulk(null))).toThrow(
        `bulk operation ${OP} does not exist`,
      );
      expect(visibleBulkOperation(principals.operator!, bulk(null)).id).toBe(OP);
    });
  });

  it('serves the queues to operators only', async () => {
    const jobs = await gateway.call(
      'GET',
      '/v1/operations/queues/provision/jobs?state=failed',
      'operator',
    );
    expect(jobs.sent).toEqual([
      {
        subject: 'tenants.queues.jobs',
        payload: { queue: 'provision', state: 'failed', limit: 50 },
      },
    ]);
    const retry = await gateway.call(
      'POST',
      `/v1/operations/queues/provision/jobs/${encodeURIComponent(`${RUN}:verify`)}/retry`,
      'operator',
    );
    expect(retry.sent).toEqual([
      { subject: 'tenants.queues.retry', payload: { queue: 'provision', jobId: `${RUN}:verify` } },
    ]);
    const badState = await gateway.call(
      'GET',
      '/v1/operations/queues/provision/jobs?state=lost',
      'operator',
    );
    expect(badState).toMatchObject({ status: 400, body: { errors: [{ field: 'state' }] } });
    expect((await gateway.call('GET', '/v1/operations/queues', 'adminOfA')).status).toBe(403);
  });
});

describe('checkTenantUpdate', () => {
  const ip = '203.0.113.7';
  it('lets an operator send anything', () => {
    expect(() =>
      checkTenantUpdate(principals.operator!, ip, {
        limitOverrides: { users: 1 },
        clearOverrides: ['users'],
        trialEndsAt: null,
        settings: { ipAllowList: ['10.0.0.0/8'] },
      }),
    ).not.toThrow();
  });

  it("lets a tenant's principal send its name and settings, and names every platform-only field otherwise", () => {
    expect(() =>
      checkTenantUpdate(principals.writerKeyOfA!, ip, {
        name: 'x',
        settings: { ssoRequired: true },
      }),
    ).not.toThrow();
    expect(() =>
      checkTenantUpdate(principals.adminOfA!, ip, { limitOverrides: {}, clearOverrides: [] }),
    ).toThrow('limitOverrides, clearOverrides are platform administration');
  });
});
