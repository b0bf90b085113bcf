import { Controller, Get, Param, type Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import {
  actorOf,
  PLATFORM_TENANT_ID,
  strictObject,
  tenantNotFound,
  UuidSchema,
  type Principal,
} from '@tenantry/contracts';
import { messageContext } from '@tenantry/messaging';
import { double } from '@tenantry/testing';
import { installHttpEdge } from '../http/http-edge.js';
import { ProblemDetailsFilter } from '../http/problem-details.filter.js';
import { RouteTable } from '../http/route-table.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { Allow, Caller, Public } from './access.decorators.js';
import { AccessRegistry, UndeclaredRoutesError } from './access-registry.js';
import { AccessTokenVerifier } from './access-token.verifier.js';
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
  @Allow({ operator: true, tenantRoles: ['tenant-admin'], scopes: ['things:read'] })
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

  @Get('admin-only')
  @Allow({ operator: true })
  adminOnly(@Caller() caller: Principal) {
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

/** The gateway's edge (problem details, route table, message context) and the guard, on Fastify in memory. */
async function start(controllers: Type[], before?: (app: NestFastifyApplication) => void) {
  const tenantsAsked: string[] = [];
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
          if (![A, B, C].includes(id)) throw tenantNotFound(id);
        }),
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
  const call = async (url: string, as?: string) => {
    const response = await app
      .getHttpAdapter()
      .getInstance()
      .inject({ method: 'GET', url, headers: as ? { authorization: `Bearer ${as}` } : {} });
    return {
      status: response.statusCode,
      headers: response.headers,
      body: response.json() as Record<string, unknown>,
    };
  };
  return { app, call, tenantsAsked };
}

/** A problem document with what legitimately differs (the request id, the path's tenant id) taken out. */
function comparable(body: Record<string, unknown>, tenantId: string) {
  const { requestId: _requestId, ...rest } = body;
  return JSON.parse(JSON.stringify(rest).replaceAll(tenantId, '{tenantId}'));
}

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
      for (const url of [`/v1/tenants/${A}/things`, '/v1/admin-only']) {
        const refused = await gateway.call(url);
        expect(refused.status).toBe(401);
        expect(refused.headers['www-authenticate']).toBe('Bearer realm="tenantry"');
        expect(refused.body).toMatchObject({ code: 'UNAUTHENTICATED' });
        expect(JSON.stringify(refused.body)).not.toContain('caller');
      }
      expect((await gateway.call('/v1/admin-only', 'forged')).status).toBe(401);
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

    it('gives a principal of another tenant exactly the 404 of a tenant that does not exist', async () => {
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
      for (const who of ['adminOfA', 'memberOfA', 'readerKeyOfA']) {
        for (const [other, url] of [
          [B, `/v1/tenants/${B}/things`],
          [NOWHERE, `/v1/tenants/${NOWHERE}/things`],
        ] as const) {
          const answer = await gateway.call(url, who);
          expect({ who, status: answer.status }).toEqual({ who, status: 404 });
          expect(comparable(answer.body, other)).toEqual(comparable(missing.body, NOWHERE));
          expect(Object.keys(answer.headers).sort()).toEqual(Object.keys(missing.headers).sort());
        }
      }
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

    it('asks whether the tenant exists only for principals of no tenant', async () => {
      gateway.tenantsAsked.length = 0;
      await gateway.call(`/v1/tenants/${A}/things`, 'adminOfA');
      await gateway.call(`/v1/tenants/${B}/things`, 'readerKeyOfA');
      expect(gateway.tenantsAsked).toEqual([]);
      expect((await gateway.call(`/v1/tenants/${C}/things`, 'platformKey')).status).toBe(200);
      // Asked once: the answer is kept.
      expect((await gateway.call(`/v1/tenants/${C}/things`, 'operator')).status).toBe(200);
      expect(gateway.tenantsAsked).toEqual([C]);
    });

    it('is 403 for a principal of the tenant without the permission', async () => {
      const member = await gateway.call(`/v1/tenants/${A}/things`, 'memberOfA');
      expect(member).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
      expect((await gateway.call('/v1/admin-only', 'adminOfA')).status).toBe(403);
      expect((await gateway.call('/v1/admin-only', 'readerKeyOfA')).status).toBe(403);
      expect((await gateway.call('/v1/admin-only', 'operator')).status).toBe(200);
    });

    it('leaves a tenant id that is not a UUID to the route validation (400 for everyone)', async () => {
      for (const who of ['operator', 'adminOfA', 'memberOfA']) {
        const answer = await gateway.call('/v1/tenants/not-a-uuid/things', who);
        expect({ who, status: answer.status }).toEqual({
          who,
          status: who === 'memberOfA' ? 403 : 400,
        });
      }
    });
  });

  describe('at start-up', () => {
    it('refuses to start while a route declares no access rule, naming it', async () => {
      const attempt = start([ThingsController, ForgottenController]);
      await expect(attempt).rejects.toThrow(UndeclaredRoutesError);
      await expect(attempt).rejects.toThrow(
        'GET /v1/forgotten/:id (ForgottenController.forgotten)',
      );
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

    it('refuses to start when a rule names a tenant parameter the route does not have', async () => {
      @Controller('v1/misnamed')
      class MisnamedController {
        @Get(':tenant')
        @Allow({ operator: true, tenantParam: 'tenantId' })
        get() {
          return 'x';
        }
      }
      await expect(start([MisnamedController])).rejects.toThrow(
        'GET /v1/misnamed/:tenant (MisnamedController.get: no :tenantId parameter)',
      );
    });

    it('refuses an @Allow that allows nobody, or a malformed scope, when the code loads', () => {
      expect(() => Allow({})).toThrow('must allow someone');
      expect(() => Allow({ scopes: ['users'] })).toThrow('"users" is not a scope');
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
