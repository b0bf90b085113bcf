import { Controller, Get, Logger, Param, Post, type Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import {
  actorOf,
  Namespace,
  PLATFORM_TENANT_ID,
  ProblemSchema,
  strictObject,
  tenantNotFound,
  UuidSchema,
  type AuditEvent,
  type Principal,
  type TenantAccess,
} from '@tenantry/contracts';
import { messageContext, NatsService, type MessagingOptions } from '@tenantry/messaging';
import { DecisionAuditor, PolicySnapshotFollower } from '@tenantry/policy-client';
import { defaultPolicy, type PolicyDocument } from '@tenantry/policy-engine';
import { double } from '@tenantry/testing';
import { Authorizer } from '../authz/authorizer.js';
import { installHttpEdge } from '../http/http-edge.js';
import { ProblemDetailsFilter } from '../http/problem-details.filter.js';
import { RouteTable } from '../http/route-table.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { ApiCallLimiter, MemoryApiCallCounter } from '../tenant-access/api-call-limiter.js';
import { TenantAccessGate } from '../tenant-access/tenant-access.gate.js';
import { TenantAccessFollower } from '../tenant-access/tenant-access.follower.js';
import { AccessRegistry, UndeclaredRoutesError } from './access-registry.js';
import { AccessTokenVerifier } from './access-token.verifier.js';
import {
  Authenticated,
  Caller,
  PLATFORM_ADMINISTRATION,
  OWN_ACCOUNT,
  Permission,
  Public,
} from './access.decorators.js';
import { ApiKeyVerifier } from './api-key.verifier.js';
import { AuthErrors } from './auth.errors.js';
import { AuthGuard } from './auth.guard.js';
import { Authenticator } from './authenticator.js';
import { Revocations } from './revocations.js';
import { TenantDirectory } from './tenant-directory.js';
import { VerifiedTokenCache } from './token-cache.js';

const A = '0193a000-0000-7000-8000-00000000000a';
const B = '0193b000-0000-7000-8000-00000000000b';
const C = '0193c000-0000-7000-8000-00000000000c';
/** A tenant that exists but whose policy was never published. */
const D = '0193d000-0000-7000-8000-00000000000d';
const NOWHERE = '0193f000-0000-7000-8000-00000000000f';

const principals: Record<string, Principal> = {
  operator: {
    kind: 'operator',
    id: '0193c000-0000-7000-8000-000000000001',
    tenantId: null,
    roles: ['platform-operator'],
    scopes: [],
    sessionId: '0193d000-0000-7000-8000-000000000001',
  },
  adminOfA: {
    kind: 'user',
    id: '0193c000-0000-7000-8000-000000000002',
    tenantId: A,
    roles: ['tenant-admin'],
    scopes: [],
    sessionId: '0193d000-0000-7000-8000-000000000002',
  },
  memberOfA: {
    kind: 'user',
    id: '0193c000-0000-7000-8000-000000000003',
    tenantId: A,
    roles: ['member'],
    scopes: [],
    sessionId: '0193d000-0000-7000-8000-000000000003',
  },
  readerKeyOfA: {
    kind: 'api_key',
    id: '0193c000-0000-7000-8000-000000000004',
    tenantId: A,
    roles: [],
    scopes: ['things:read'],
  },
  platformKey: {
    kind: 'api_key',
    id: '0193c000-0000-7000-8000-000000000005',
    tenantId: null,
    roles: [],
    scopes: ['*:read'],
  },
  /** A tenant user that carries the operator role: still a user of its tenant. */
  userNamedOperator: {
    kind: 'user',
    id: '0193c000-0000-7000-8000-000000000006',
    tenantId: A,
    roles: ['platform-operator'],
    scopes: [],
    sessionId: '0193d000-0000-7000-8000-000000000006',
  },
  adminOfB: {
    kind: 'user',
    id: '0193c000-0000-7000-8000-000000000007',
    tenantId: B,
    roles: ['tenant-admin'],
    scopes: [],
    sessionId: '0193d000-0000-7000-8000-000000000007',
  },
  /** Did MFA a minute ago. */
  adminOfBWithMfa: {
    kind: 'user',
    id: '0193c000-0000-7000-8000-000000000007',
    tenantId: B,
    roles: ['tenant-admin'],
    scopes: [],
    sessionId: '0193d000-0000-7000-8000-000000000008',
    amr: ['pwd', 'otp'],
    authTime: new Date(Date.now() - 60_000).toISOString(),
  },
  memberOfD: {
    kind: 'user',
    id: '0193c000-0000-7000-8000-000000000009',
    tenantId: D,
    roles: ['member'],
    scopes: [],
    sessionId: '0193d000-0000-7000-8000-000000000009',
  },
  /** Bound to `viewer` within things/42 only (tenant A's policy below). */
  scopedOfA: {
    kind: 'user',
    id: '0193c000-0000-7000-8000-00000000000a',
    tenantId: A,
    roles: [],
    scopes: [],
    sessionId: '0193d000-0000-7000-8000-00000000000a',
  },
};

/** A's policy: the default, an audit of every allow, and one user bound within things/42. */
const POLICY_A: PolicyDocument = {
  ...defaultPolicy(A),
  auditAllowSampleRate: 1,
  bindings: [
    ...defaultPolicy(A).bindings,
    {
      id: 'scoped',
      roleId: 'viewer',
      subject: { type: 'user', id: principals.scopedOfA!.id },
      scope: 'things/42',
    },
  ],
};
/** B's policy: the default, no allow audited, and writes to things need an MFA of at most 5 minutes. */
const POLICY_B: PolicyDocument = {
  ...defaultPolicy(B),
  version: 4,
  auditAllowSampleRate: 0,
  denyRules: [
    {
      id: 'mfa-writes',
      name: 'writes need a recent MFA',
      permissions: ['things:write'],
      unless: [{ type: 'mfa-within', minutes: 5 }],
    },
  ],
};

const ThingsPath = strictObject({ tenantId: UuidSchema });

@Controller('v1')
class ThingsController {
  @Get('open')
  @Public()
  open() {
    return { open: true, context: messageContext.current()?.actor ?? null };
  }

  @Get('tenants/:tenantId/things')
  @Permission('things:read')
  list(
    @Caller() caller: Principal,
    @Param(new ZodPipe(ThingsPath, 'path')) path: { tenantId: string },
  ) {
    const context = messageContext.current();
    return {
      caller: caller.id,
      tenantId: path.tenantId,
      actor: context?.actor,
      contextTenant: context?.tenantId,
    };
  }

  @Post('tenants/:tenantId/things')
  @Permission('things:write')
  write(@Caller() caller: Principal) {
    return { caller: caller.id };
  }

  @Get('tenants/:tenantId/things/:thingId')
  @Permission('things/{thingId}:read')
  one(@Param('thingId') thingId: string) {
    return { thingId };
  }

  @Get('platform-only')
  @Permission('things:write', PLATFORM_ADMINISTRATION)
  platformOnly(@Caller() caller: Principal) {
    return { caller: caller.id };
  }

  @Get('me')
  @Permission('profile:read', OWN_ACCOUNT)
  me(@Caller() caller: Principal) {
    return { caller: caller.id };
  }

  @Get('anyone')
  @Authenticated()
  anyone(@Caller() caller: Principal) {
    return { caller: caller.id };
  }
}

@Controller('v1/forgotten')
class ForgottenController {
  @Get(':id')
  forgotten() {
    return 'reachable without credentials';
  }

  @Get()
  @Public()
  fine() {
    return 'ok';
  }
}

const encoder = new TextEncoder();

/** The gateway's edge (problem details, route table, message context), the guard and the policies, on Fastify in memory. */
async function start(controllers: Type[], before?: (app: NestFastifyApplication) => void) {
  const tenantsAsked: string[] = [];
  const audited: AuditEvent[] = [];
  const clock = { now: Date.now() };
  const nats = double(NatsService, {
    options: { namespace: new Namespace('unit') } as MessagingOptions,
  });
  const snapshots = new PolicySnapshotFollower(nats, { clock: () => clock.now });
  for (const document of [POLICY_A, POLICY_B, defaultPolicy(C), defaultPolicy(PLATFORM_TENANT_ID)])
    snapshots.put({ key: document.tenantId, value: encoder.encode(JSON.stringify(document)) });
  const auditor = new DecisionAuditor(async (event) => {
    audited.push(event);
  });
  const access = new TenantAccessFollower(nats);
  /** The API call limits' clock (the snapshots' would go stale when it moves on). */
  const limitClock = { now: Date.now() };
  const putAccess = (tenantId: string, over: Partial<TenantAccess> = {}) =>
    access.put({
      key: tenantId,
      value: encoder.encode(
        JSON.stringify({
          tenantId,
          status: 'active',
          statusReason: null,
          ipAllowList: [],
          apiCallsPerMinute: null,
          apiCallsPerDay: null,
          updatedAt: new Date().toISOString(),
          ...over,
        } satisfies TenantAccess),
      ),
    });
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule],
    controllers,
    providers: [
      RouteTable,
      AccessRegistry,
      {
        provide: Authenticator,
        // The real authenticator, with tokens that name their principal ("Bearer operator").
        useValue: new Authenticator({
          tokens: double(AccessTokenVerifier, {
            verify: async (token) => {
              const principal = principals[token];
              if (!principal) throw AuthErrors.tokenInvalid();
              return { principal, actor: actorOf(principal), expiresAt: Date.now() + 60_000 };
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
        useValue: new TenantDirectory(async (id) => {
          tenantsAsked.push(id);
          if (![A, B, C, D].includes(id)) throw tenantNotFound(id);
        }),
      },
      { provide: Authorizer, useValue: new Authorizer(snapshots, auditor) },
      {
        provide: TenantAccessGate,
        useValue: new TenantAccessGate(
          access,
          new ApiCallLimiter(new MemoryApiCallCounter(() => limitClock.now), {
            clock: () => limitClock.now,
          }),
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
  before?.(app);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  const call = async (
    url: string,
    as?: string,
    method: 'GET' | 'POST' = 'GET',
    remoteAddress = '127.0.0.1',
  ) => {
    const response = await app
      .getHttpAdapter()
      .getInstance()
      .inject({
        method,
        url,
        remoteAddress,
        headers: as ? { authorization: `Bearer ${as}` } : {},
      });
    return {
      status: response.statusCode,
      headers: response.headers,
      body: response.json() as Record<string, unknown>,
    };
  };
  return { app, call, tenantsAsked, audited, clock, snapshots, access, putAccess, limitClock };
}

/** A problem document with what legitimately differs (the request id, the path) taken out. */
function comparable(body: Record<string, unknown>, tenantId: string) {
  const { requestId: _requestId, instance: _instance, ...rest } = body;
  return JSON.parse(JSON.stringify(rest).replaceAll(tenantId, '{tenantId}'));
}

/** Lets the auditor's background publishing run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

beforeAll(() => Logger.overrideLogger(false));

describe('AuthGuard', () => {
  describe('on a gateway whose routes all declare who may call them', () => {
    let gateway: Awaited<ReturnType<typeof start>>;
    beforeAll(async () => {
      gateway = await start([ThingsController]);
    });
    afterAll(async () => {
      await gateway?.app.close();
    });

    it('lets anyone call a public route', async () => {
      expect(await gateway.call('/v1/open')).toMatchObject({ status: 200, body: { open: true } });
    });

    it('answers a protected route without credentials with 401 and WWW-Authenticate: Bearer', async () => {
      for (const url of [`/v1/tenants/${A}/things`, '/v1/platform-only', '/v1/anyone']) {
        const refused = await gateway.call(url);
        expect(refused.status).toBe(401);
        expect(refused.headers['www-authenticate']).toBe('Bearer realm="tenantry"');
        expect(refused.body).toMatchObject({ code: 'UNAUTHENTICATED' });
        expect(JSON.stringify(refused.body)).not.toContain('caller');
      }
      expect((await gateway.call('/v1/platform-only', 'forged')).status).toBe(401);
    });

    it('puts the principal on the request, and its actor and tenant in the message context', async () => {
      const own = await gateway.call(`/v1/tenants/${A}/things`, 'adminOfA');
      expect(own).toMatchObject({
        status: 200,
        body: {
          caller: principals.adminOfA!.id,
          actor: `user:${principals.adminOfA!.id}`,
          contextTenant: A,
        },
      });
      // An operator acts in the route's tenant.
      const operator = await gateway.call(`/v1/tenants/${B}/things`, 'operator');
      expect(operator.body).toMatchObject({
        actor: `operator:${principals.operator!.id}`,
        contextTenant: B,
      });
    });

    it('decides with the default policy as the old rules did: admins, operators and keys by scope; not members', async () => {
      const cases: [string, string, 'GET' | 'POST', number][] = [
        ['adminOfA', `/v1/tenants/${A}/things`, 'GET', 200],
        ['adminOfA', `/v1/tenants/${A}/things`, 'POST', 201],
        ['memberOfA', `/v1/tenants/${A}/things`, 'GET', 403],
        ['memberOfA', `/v1/tenants/${A}/things`, 'POST', 403],
        ['userNamedOperator', `/v1/tenants/${A}/things`, 'GET', 403],
        ['readerKeyOfA', `/v1/tenants/${A}/things`, 'GET', 200],
        ['readerKeyOfA', `/v1/tenants/${A}/things`, 'POST', 403],
        ['operator', `/v1/tenants/${C}/things`, 'POST', 201],
        ['platformKey', `/v1/tenants/${C}/things`, 'GET', 200],
        ['platformKey', `/v1/tenants/${C}/things`, 'POST', 403],
        // Routes about one's own account: users and operators.
        ['memberOfA', '/v1/me', 'GET', 200],
        ['operator', '/v1/me', 'GET', 200],
        ['readerKeyOfA', '/v1/me', 'GET', 403],
        // Platform administration: operators only, in the platform's policy.
        ['operator', '/v1/platform-only', 'GET', 200],
        ['adminOfA', '/v1/platform-only', 'GET', 403],
        ['userNamedOperator', '/v1/platform-only', 'GET', 403],
        ['platformKey', '/v1/platform-only', 'GET', 403],
        // Any authenticated caller.
        ['memberOfA', '/v1/anyone', 'GET', 200],
        ['readerKeyOfA', '/v1/anyone', 'GET', 200],
      ];
      for (const [who, url, method, status] of cases) {
        const answer = await gateway.call(url, who, method);
        expect({ who, method, url, status: answer.status }).toEqual({ who, method, url, status });
      }
    });

    it('answers a deny with a 403 naming the permission and the reason, about the own tenant only', async () => {
      const member = await gateway.call(`/v1/tenants/${A}/things`, 'memberOfA', 'POST');
      expect(ProblemSchema.parse(member.body)).toMatchObject({
        status: 403,
        code: 'FORBIDDEN',
        reason: 'AUTH_NOT_PERMITTED',
      });
      expect(member.body.detail).toMatch(
        /^you are not allowed to do this: it takes the permission things:write \(no role bound to user .* grants write on things\)$/,
      );
      const key = await gateway.call(`/v1/tenants/${A}/things`, 'readerKeyOfA', 'POST');
      expect(key.body.detail).toContain('things:write');
      expect(key.body.detail).toMatch(/scope/);
      const kind = await gateway.call('/v1/me', 'readerKeyOfA');
      expect(kind.body).toMatchObject({
        reason: 'AUTH_PRINCIPAL_KIND_REFUSED',
        detail:
          'this route is for users and operators, not API keys (it takes the permission profile:read)',
      });
      const platform = await gateway.call('/v1/platform-only', 'adminOfA');
      expect(platform.body.detail).toContain('things:write');
      expect(platform.body.detail).not.toContain(B);
    });

    it('asks for step-up with a 403 STEP_UP_REQUIRED and the obligation, and allows after MFA', async () => {
      const without = await gateway.call(`/v1/tenants/${B}/things`, 'adminOfB', 'POST');
      expect(without.status).toBe(403);
      expect(ProblemSchema.parse(without.body)).toMatchObject({
        code: 'FORBIDDEN',
        reason: 'STEP_UP_REQUIRED',
        obligations: [{ type: 'step-up', mfaWithinMinutes: 5 }],
      });
      expect(without.body.detail).toContain('things:write');
      expect(without.body.detail).toContain('5 minutes');
      expect(
        (await gateway.call(`/v1/tenants/${B}/things`, 'adminOfBWithMfa', 'POST')).status,
      ).toBe(201);
      // Reads are not concerned.
      expect((await gateway.call(`/v1/tenants/${B}/things`, 'adminOfB')).status).toBe(200);
    });

    it('decides on the resource a route parameter names', async () => {
      expect((await gateway.call(`/v1/tenants/${A}/things/42`, 'scopedOfA')).status).toBe(200);
      expect((await gateway.call(`/v1/tenants/${A}/things/43`, 'scopedOfA')).status).toBe(403);
      expect((await gateway.call(`/v1/tenants/${A}/things/43`, 'adminOfA')).status).toBe(200);
      const bad = await gateway.call(`/v1/tenants/${A}/things/a%20b`, 'adminOfA');
      expect(bad).toMatchObject({ status: 400, body: { reason: 'AUTHZ_RESOURCE_INVALID' } });
    });

    it('gives a principal of another tenant exactly the 404 of a tenant that does not exist, before any decision', async () => {
      const missing = await gateway.call(`/v1/tenants/${NOWHERE}/things`, 'operator');
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual(
        JSON.parse(
          JSON.stringify({
            ...toBody(tenantNotFound(NOWHERE)),
            instance: `/v1/tenants/${NOWHERE}/things`,
            requestId: missing.body.requestId,
          }),
        ),
      );
      gateway.audited.length = 0;
      for (const who of ['adminOfA', 'memberOfA', 'readerKeyOfA', 'scopedOfA']) {
        for (const [other, url, method] of [
          [B, `/v1/tenants/${B}/things`, 'GET'],
          [B, `/v1/tenants/${B}/things`, 'POST'],
          [B, `/v1/tenants/${B}/things/42`, 'GET'],
          [NOWHERE, `/v1/tenants/${NOWHERE}/things`, 'GET'],
          [D, `/v1/tenants/${D}/things`, 'GET'],
        ] as const) {
          const answer = await gateway.call(url, who, method);
          expect({ who, url, status: answer.status }).toEqual({ who, url, status: 404 });
          expect(answer.body.instance).toBe(url);
          expect(comparable(answer.body, other)).toEqual(comparable(missing.body, NOWHERE));
          expect(Object.keys(answer.headers).sort()).toEqual(Object.keys(missing.headers).sort());
        }
      }
      await settle();
      // Nothing was decided, so nothing of another tenant was audited either.
      expect(gateway.audited).toEqual([]);
    });

    it('never takes the platform id as a tenant', async () => {
      for (const who of ['operator', 'platformKey', 'adminOfA']) {
        const answer = await gateway.call(`/v1/tenants/${PLATFORM_TENANT_ID}/things`, who);
        expect({ who, status: answer.status, reason: answer.body.reason }).toEqual({
          who,
          status: 404,
          reason: 'TENANT_NOT_FOUND',
        });
      }
    });

    it('asks whether the tenant exists only for principals of no tenant, after the decision', async () => {
      gateway.tenantsAsked.length = 0;
      await gateway.call(`/v1/tenants/${A}/things`, 'adminOfA');
      await gateway.call(`/v1/tenants/${B}/things`, 'readerKeyOfA');
      expect(gateway.tenantsAsked).toEqual([]);
      // Refused by the policy: not asked.
      expect((await gateway.call(`/v1/tenants/${D}/things`, 'platformKey', 'POST')).status).toBe(
        403,
      );
      expect(gateway.tenantsAsked).toEqual([]);
      // Decided in the platform's policy (D has none of its own yet), then D is asked for.
      expect((await gateway.call(`/v1/tenants/${D}/things`, 'platformKey')).status).toBe(200);
      // Asked once: the answer is kept.
      expect((await gateway.call(`/v1/tenants/${D}/things`, 'operator')).status).toBe(200);
      expect(gateway.tenantsAsked).toEqual([D]);
    });

    it("is 503 with Retry-After while the caller's tenant has no policy, or a stale one", async () => {
      const none = await gateway.call(`/v1/tenants/${D}/things`, 'memberOfD');
      expect(none.status).toBe(503);
      expect(none.headers['retry-after']).toBe('2');
      expect(none.body).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        reason: 'AUTHZ_POLICY_UNAVAILABLE',
      });
      expect(none.body.detail).toContain(`no policy of tenant ${D} is loaded`);
      // Nothing confirms the snapshots in this test: 31 s on, every one is stale.
      gateway.clock.now += 31_000;
      try {
        const stale = await gateway.call(`/v1/tenants/${A}/things`, 'adminOfA');
        expect(stale).toMatchObject({ status: 503, body: { reason: 'AUTHZ_POLICY_UNAVAILABLE' } });
        expect((await gateway.call('/v1/platform-only', 'operator')).status).toBe(503);
      } finally {
        gateway.clock.now -= 31_000;
      }
      expect((await gateway.call(`/v1/tenants/${A}/things`, 'adminOfA')).status).toBe(200);
    });

    it('audits every deny, and allows at the tenant document’s sample rate, without waiting', async () => {
      gateway.audited.length = 0;
      await gateway.call(`/v1/tenants/${A}/things`, 'memberOfA'); // deny, A
      await gateway.call(`/v1/tenants/${A}/things`, 'adminOfA'); // allow, A samples every allow
      await gateway.call(`/v1/tenants/${B}/things`, 'adminOfB'); // allow, B samples none
      await gateway.call(`/v1/tenants/${B}/things`, 'adminOfB', 'POST'); // step-up: a deny, B
      await gateway.call(`/v1/tenants/${D}/things`, 'memberOfD'); // no policy: an outage, not audited
      await settle();
      expect(
        gateway.audited.map((e) => [
          e.tenantId,
          e.action,
          e.actor.id,
          (e.data as { permission: string }).permission,
        ]),
      ).toEqual([
        [A, 'authz.denied', principals.memberOfA!.id, 'things:read'],
        [A, 'authz.allowed', principals.adminOfA!.id, 'things:read'],
        [B, 'authz.denied', principals.adminOfB!.id, 'things:write'],
      ]);
      expect(gateway.audited[2]).toMatchObject({
        category: 'authz',
        outcome: 'failure',
        data: {
          route: 'POST /v1/tenants/:tenantId/things',
          reason: { kind: 'step-up-required' },
          obligations: [{ type: 'step-up', mfaWithinMinutes: 5 }],
          policyVersion: 4,
        },
      });
    });

    it('leaves a tenant id that is not a UUID to the route validation (400)', async () => {
      for (const who of ['operator', 'adminOfA']) {
        const answer = await gateway.call('/v1/tenants/not-a-uuid/things', who);
        expect({ who, status: answer.status }).toEqual({ who, status: 400 });
      }
    });
  });

  describe("with the tenants' access states (TENANT_ACCESS bucket)", () => {
    let gateway: Awaited<ReturnType<typeof start>>;
    beforeEach(async () => {
      gateway = await start([ThingsController]);
    });
    afterEach(async () => {
      await gateway?.app.close();
    });

    it("refuses a suspended tenant's users and API keys on every route with 403 TENANT_SUSPENDED; operators go on", async () => {
      gateway.putAccess(A, { status: 'suspended', statusReason: 'invoice 2026-02 unpaid' });
      for (const [who, url] of [
        ['adminOfA', `/v1/tenants/${A}/things`],
        ['readerKeyOfA', `/v1/tenants/${A}/things`],
        ['memberOfA', '/v1/me'],
        ['memberOfA', '/v1/anyone'],
        // Another tenant's route: the tenant's refusal comes first.
        ['adminOfA', `/v1/tenants/${B}/things`],
      ] as const) {
        const answer = await gateway.call(url, who);
        expect({ who, url, status: answer.status, reason: answer.body.reason }).toEqual({
          who,
          url,
          status: 403,
          reason: 'TENANT_SUSPENDED',
        });
        expect(ProblemSchema.parse(answer.body).detail).toBe(
          `tenant ${A} is suspended (reason: invoice 2026-02 unpaid): its users and API keys are refused until a platform operator reactivates it`,
        );
      }
      expect((await gateway.call(`/v1/tenants/${A}/things`, 'operator')).status).toBe(200);
      expect((await gateway.call(`/v1/tenants/${A}/things`, 'platformKey')).status).toBe(200);
      expect((await gateway.call(`/v1/tenants/${B}/things`, 'adminOfB')).status).toBe(200);
      expect((await gateway.call('/v1/open')).status).toBe(200);

      gateway.putAccess(A, { status: 'active' });
      expect((await gateway.call(`/v1/tenants/${A}/things`, 'adminOfA')).status).toBe(200);
    });

    it('refuses the principals of a tenant being deleted, deleted or failed with 403 TENANT_UNAVAILABLE', async () => {
      for (const status of ['deprovisioning', 'deleted', 'failed'] as const) {
        gateway.putAccess(A, { status, statusReason: `because ${status}` });
        const answer = await gateway.call(`/v1/tenants/${A}/things`, 'readerKeyOfA');
        expect(answer).toMatchObject({ status: 403, body: { reason: 'TENANT_UNAVAILABLE' } });
        expect(answer.body.detail).toContain(
          `tenant ${A} is ${status} (reason: because ${status})`,
        );
      }
      gateway.access.remove(A);
      expect((await gateway.call(`/v1/tenants/${A}/things`, 'readerKeyOfA')).status).toBe(200);
    });

    it("refuses a client outside the tenant's IP allow list with 403 TENANT_IP_NOT_ALLOWED", async () => {
      gateway.putAccess(A, { ipAllowList: ['192.0.2.0/24'] });
      expect(
        (await gateway.call(`/v1/tenants/${A}/things`, 'adminOfA', 'GET', '192.0.2.10')).status,
      ).toBe(200);
      const outside = await gateway.call(`/v1/tenants/${A}/things`, 'adminOfA', 'GET', '127.0.0.1');
      expect(outside).toMatchObject({ status: 403, body: { reason: 'TENANT_IP_NOT_ALLOWED' } });
      expect(outside.body.detail).toContain('127.0.0.1 is not on any of them');
      // Operators, and other tenants, from anywhere.
      expect((await gateway.call(`/v1/tenants/${A}/things`, 'operator')).status).toBe(200);
      expect((await gateway.call(`/v1/tenants/${B}/things`, 'adminOfB')).status).toBe(200);
    });

    it("counts a tenant's allowed calls against its limits: 429 QUOTA_EXCEEDED naming the limit, with Retry-After", async () => {
      gateway.putAccess(A, { apiCallsPerMinute: 3 });
      gateway.limitClock.now = Math.floor(Date.now() / 60_000) * 60_000 + 15_000;
      // A refusal of the policy is not a call served: not counted.
      expect((await gateway.call(`/v1/tenants/${A}/things`, 'memberOfA')).status).toBe(403);
      for (let i = 0; i < 3; i++)
        expect((await gateway.call(`/v1/tenants/${A}/things`, 'adminOfA')).status).toBe(200);
      const refused = await gateway.call(`/v1/tenants/${A}/things`, 'readerKeyOfA');
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toBe('45');
      expect(ProblemSchema.parse(refused.body)).toMatchObject({
        code: 'RATE_LIMITED',
        reason: 'QUOTA_EXCEEDED',
      });
      expect(refused.body.detail).toContain('limit apiCallsPerMinute');
      // Operators are not counted against it; other tenants have their own.
      expect((await gateway.call(`/v1/tenants/${A}/things`, 'operator')).status).toBe(200);
      expect((await gateway.call(`/v1/tenants/${B}/things`, 'adminOfB')).status).toBe(200);
      gateway.limitClock.now += 45_000;
      expect((await gateway.call(`/v1/tenants/${A}/things`, 'adminOfA')).status).toBe(200);
    });
  });

  describe('at start-up', () => {
    it('refuses to start while a route declares nothing, naming it', async () => {
      const attempt = start([ThingsController, ForgottenController]);
      await expect(attempt).rejects.toThrow(UndeclaredRoutesError);
      await expect(attempt).rejects.toThrow(
        'GET /v1/forgotten/:id (ForgottenController.forgotten)',
      );
      await expect(attempt).rejects.toThrow('@Permission');
      await expect(attempt).rejects.not.toThrow('GET /v1/forgotten (');
    });

    it('refuses to start with a route registered on Fastify directly, past the guard', async () => {
      const attempt = start([ThingsController], (app) => {
        app
          .getHttpAdapter()
          .getInstance()
          .get('/backdoor', async () => 'open');
      });
      await expect(attempt).rejects.toThrow('GET /backdoor (registered on Fastify directly)');
    });

    it('refuses to start when a permission names a parameter the route does not have', async () => {
      @Controller('v1/misnamed')
      class MisnamedController {
        @Get(':tenant')
        @Permission('things:read', { tenantParam: 'tenantId' })
        get() {
          return 'x';
        }

        @Get(':tenant/items/:item')
        @Permission('items/{itemId}:read')
        item() {
          return 'x';
        }
      }
      const attempt = start([MisnamedController]);
      await expect(attempt).rejects.toThrow(
        'GET /v1/misnamed/:tenant (MisnamedController.get: no :tenantId parameter)',
      );
      await expect(attempt).rejects.toThrow(
        'GET /v1/misnamed/:tenant/items/:item (MisnamedController.item: no :itemId parameter)',
      );
    });

    it('refuses a malformed @Permission when the code loads', () => {
      expect(() => Permission('users')).toThrow("@Permission('users'): not a permission");
      expect(() => Permission('users:*')).toThrow('no *');
      expect(() => Permission('*:read')).toThrow('no *');
      expect(() => Permission('{kind}:read')).toThrow(
        'the resource type cannot be a route parameter',
      );
      expect(() => Permission('projects/p{id}:read')).toThrow('a whole path segment');
      expect(() => Permission('projects/{id}/x/{id}:read')).toThrow('named twice');
      expect(() => Permission('users:read', { principals: [] })).toThrow('at least one kind');
      expect(() => Permission('projects/{projectId}/tasks:write')).not.toThrow();
    });
  });
});

function toBody(error: ReturnType<typeof tenantNotFound>) {
  return {
    type: 'https://tenantry.dev/problems/not-found',
    title: 'Not found',
    status: 404,
    detail: error.message,
    code: 'NOT_FOUND',
    reason: error.reason,
  };
}
