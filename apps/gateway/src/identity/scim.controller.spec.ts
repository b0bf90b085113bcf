import {
  Body,
  Controller,
  HttpCode,
  Logger,
  Post,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import {
  AppError,
  ErrorCode,
  parseContract,
  ScimErrorReason,
  ScimErrorSchema,
  ScimRpc,
  type RpcContract,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import type { FastifyRequest } from 'fastify';
import { AccessRegistry } from '../auth/access-registry.js';
import { installHttpEdge } from '../http/http-edge.js';
import { documentAccess } from '../http/openapi.js';
import { ProblemDetailsFilter } from '../http/problem-details.filter.js';
import { RouteTable } from '../http/route-table.js';
import { ScimDirectoryController } from './scim-directory.controller.js';
import { ScimController } from './scim.controller.js';

const TOKEN = '0193a000-0000-7000-8000-000000000001.' + 'A'.repeat(43);
const USER_ID = '0193a000-0000-7000-8000-0000000000aa';

/** A guard that refuses requests carrying `x-refuse`, to show guard errors come out as SCIM errors. */
class RefusingGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (request.headers['x-refuse'])
      throw new AppError(ErrorCode.RateLimited, 'slow down', { retryAfterSeconds: 7 });
    return true;
  }
}

/** A route outside SCIM that takes a JSON body. */
@Controller('v1')
class EchoController {
  @Post('echo')
  @HttpCode(200)
  echo(@Body() body: unknown) {
    return { body };
  }
}

interface Sent {
  subject: string;
  payload: unknown;
}

/**
 * The SCIM controller on Fastify in memory, with the gateway's HTTP edge and global problem
 * filter; identity is an RPC double that checks each request against its contract (as the
 * real client does) and answers with `answer(subject, payload)`.
 */
async function gateway(answer: (subject: string, payload: Record<string, unknown>) => unknown) {
  const sent: Sent[] = [];
  // A plain object, not `double`: Nest probes providers for lifecycle hooks.
  const rpc: Pick<RpcClient, 'request'> = {
    request: (async (contract: RpcContract, payload: unknown) => {
      const body = parseContract(contract.request, payload) as Record<string, unknown>;
      sent.push({ subject: contract.subject, payload: body });
      return answer(contract.subject, body);
    }) as RpcClient['request'],
  };
  const moduleRef = await Test.createTestingModule({
    controllers: [ScimController, EchoController],
    providers: [
      RouteTable,
      { provide: RpcClient, useValue: rpc },
      { provide: APP_FILTER, useClass: ProblemDetailsFilter },
      { provide: APP_GUARD, useClass: RefusingGuard },
    ],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
    logger: false,
    bodyParser: false,
  });
  installHttpEdge(app);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  const inject = (options: {
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
    url: string;
    headers?: Record<string, string>;
    payload?: string;
  }) => app.getHttpAdapter().getInstance().inject(options);
  return { app, inject, sent };
}

const user = (id = USER_ID) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  id,
  userName: 'ana@example.com',
  meta: { resourceType: 'User', location: `https://tenantry.test/scim/v2/Users/${id}` },
});

beforeAll(() => Logger.overrideLogger(false));

describe('the SCIM routes at the gateway', () => {
  let g: Awaited<ReturnType<typeof gateway>>;
  let answer: (subject: string, payload: Record<string, unknown>) => unknown;

  beforeAll(async () => {
    g = await gateway((subject, payload) => answer(subject, payload));
  });

  afterAll(async () => {
    await g?.app.close();
  });

  it('takes an application/scim+json body, passes the bearer token to identity, answers 201 with Location', async () => {
    answer = () => user();
    const response = await g.inject({
      method: 'POST',
      url: '/scim/v2/Users',
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/scim+json; charset=utf-8',
      },
      payload: JSON.stringify({ userName: 'ana@example.com' }),
    });
    expect(response.statusCode).toBe(201);
    expect(response.headers['content-type']).toBe('application/scim+json; charset=utf-8');
    expect(response.headers.location).toBe(`https://tenantry.test/scim/v2/Users/${USER_ID}`);
    expect(response.json()).toEqual(user());
    expect(g.sent.at(-1)).toEqual({
      subject: ScimRpc.createUser.subject,
      payload: { token: TOKEN, body: { userName: 'ana@example.com' } },
    });
  });

  it('takes application/json too, and passes list queries on', async () => {
    answer = () => ({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: 0,
      startIndex: 1,
      itemsPerPage: 0,
      Resources: [],
    });
    const list = await g.inject({
      method: 'GET',
      url: `/scim/v2/Users?filter=${encodeURIComponent('userName eq "a@b.c"')}&startIndex=1&count=100&sortBy=userName`,
      headers: { authorization: `bearer ${TOKEN}` },
    });
    expect(list.statusCode).toBe(200);
    expect(g.sent.at(-1)).toEqual({
      subject: ScimRpc.listUsers.subject,
      payload: { token: TOKEN, filter: 'userName eq "a@b.c"', startIndex: 1, count: 100 },
    });
    answer = () => user();
    const patched = await g.inject({
      method: 'PATCH',
      url: `/scim/v2/Users/${USER_ID}`,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ Operations: [] }),
    });
    expect(patched.statusCode).toBe(200);
    expect(g.sent.at(-1)!.subject).toBe(ScimRpc.patchUser.subject);
  });

  it('answers DELETE with 204 and no body', async () => {
    answer = () => ({ deleted: true });
    const response = await g.inject({
      method: 'DELETE',
      url: `/scim/v2/Groups/${USER_ID}`,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
    expect(g.sent.at(-1)).toEqual({
      subject: ScimRpc.deleteGroup.subject,
      payload: { token: TOKEN, id: USER_ID },
    });
  });

  it('answers a missing or malformed token with a SCIM 401, without asking identity', async () => {
    const before = g.sent.length;
    for (const authorization of [undefined, 'Basic abc', 'Bearer', `Bearer ${'x'.repeat(201)}`]) {
      const response = await g.inject({
        method: 'GET',
        url: '/scim/v2/Users',
        headers: authorization ? { authorization } : {},
      });
      expect(response.statusCode).toBe(401);
      expect(response.headers['content-type']).toBe('application/scim+json; charset=utf-8');
      expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
      const body = ScimErrorSchema.parse(response.json());
      expect(body).toEqual({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        status: '401',
        detail: expect.stringContaining('Authorization: Bearer'),
      });
    }
    expect(g.sent.length).toBe(before);
  });

  it("turns identity's errors into SCIM errors with their scimType", async () => {
    const cases: [AppError, number, string | undefined][] = [
      [
        new AppError(ErrorCode.Conflict, 'userName: taken', {
          reason: ScimErrorReason.Uniqueness,
          errors: [{ field: 'userName', message: 'taken' }],
        }),
        409,
        'uniqueness',
      ],
      [
        new AppError(ErrorCode.ValidationFailed, 'filter: nope', {
          reason: ScimErrorReason.InvalidFilter,
        }),
        400,
        'invalidFilter',
      ],
      [
        new AppError(ErrorCode.ValidationFailed, 'Operations[0].path: bad', {
          reason: ScimErrorReason.InvalidPath,
        }),
        400,
        'invalidPath',
      ],
      [
        new AppError(ErrorCode.ValidationFailed, 'x', { reason: ScimErrorReason.NoTarget }),
        400,
        'noTarget',
      ],
      [
        new AppError(ErrorCode.Unauthenticated, 'the SCIM bearer token is not valid', {
          reason: ScimErrorReason.TokenInvalid,
        }),
        401,
        undefined,
      ],
      [
        new AppError(ErrorCode.NotFound, 'User "x" does not exist in this SCIM directory', {
          reason: ScimErrorReason.ResourceNotFound,
        }),
        404,
        undefined,
      ],
    ];
    for (const [error, status, scimType] of cases) {
      answer = () => {
        throw error;
      };
      const response = await g.inject({
        method: 'GET',
        url: '/scim/v2/Users/x',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect({ reason: error.reason, status: response.statusCode }).toEqual({
        reason: error.reason,
        status,
      });
      expect(response.json()).toEqual({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        status: String(status),
        ...(scimType ? { scimType } : {}),
        detail: error.message,
      });
    }
  });

  it('answers a body that breaks the contract with 400 invalidValue, an outage with 503 and Retry-After, a bug with 500 and no internals', async () => {
    const array = await g.inject({
      method: 'POST',
      url: '/scim/v2/Groups',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' },
      payload: '[1, 2]',
    });
    expect(array.statusCode).toBe(400);
    expect(array.json()).toMatchObject({ status: '400', scimType: 'invalidValue' });

    answer = () => {
      throw new AppError(ErrorCode.ServiceUnavailable, 'identity is not available', {
        retryAfterSeconds: 2,
      });
    };
    const down = await g.inject({
      method: 'GET',
      url: '/scim/v2/Groups',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(down.statusCode).toBe(503);
    expect(down.headers['retry-after']).toBe('2');
    expect(down.json()).toMatchObject({ status: '503' });

    answer = () => {
      throw new Error('secret internals');
    };
    const bug = await g.inject({
      method: 'GET',
      url: '/scim/v2/Groups',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(bug.statusCode).toBe(500);
    expect(bug.body).not.toContain('secret internals');
    expect(bug.json()).toMatchObject({
      status: '500',
      detail: expect.stringMatching(/request id/),
    });
  });

  it('answers what a guard refuses as a SCIM error too', async () => {
    const response = await g.inject({
      method: 'GET',
      url: '/scim/v2/ServiceProviderConfig',
      headers: { 'x-refuse': 'yes' },
    });
    expect(response.statusCode).toBe(429);
    expect(response.headers['retry-after']).toBe('7');
    expect(response.json()).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '429',
      detail: 'slow down',
    });
  });

  it('serves the discovery documents without a token', async () => {
    answer = (subject, payload) => ({ subject, ...payload });
    const response = await g.inject({ method: 'GET', url: '/scim/v2/ResourceTypes/User' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      subject: ScimRpc.discovery.subject,
      document: 'ResourceTypes',
      id: 'User',
    });
  });

  it('takes application/scim+json only on the SCIM routes: elsewhere it is a 415', async () => {
    const post = (contentType: string) =>
      g.inject({
        method: 'POST',
        url: '/v1/echo',
        headers: { 'content-type': contentType },
        payload: '{"a":1}',
      });
    const json = await post('application/json');
    expect(json.statusCode).toBe(200);
    expect(json.json()).toEqual({ body: { a: 1 } });
    const scim = await post('application/scim+json');
    expect(scim.statusCode).toBe(415);
    expect(scim.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('declares who may call every route (SCIM with its token, discovery open, directories by permission) and documents them', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [DiscoveryModule],
      controllers: [ScimController, ScimDirectoryController],
      providers: [AccessRegistry, { provide: RpcClient, useValue: {} }],
    }).compile();
    const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
      logger: false,
    });
    await app.init();
    try {
      const registry = app.get(AccessRegistry);
      expect(() => registry.assertEveryRouteDeclared()).not.toThrow();
      const access = Object.fromEntries(
        registry.routes().map((r) => [`${r.method} ${r.path}`, r.access]),
      );
      expect(access['PATCH /scim/v2/Users/:id']).toEqual({
        kind: 'public',
        credential: 'scimToken',
      });
      expect(access['GET /scim/v2/ServiceProviderConfig']).toEqual({ kind: 'public' });
      expect(access['POST /v1/tenants/:tenantId/scim-directories']).toMatchObject({
        kind: 'permission',
        requirement: { permission: 'scim-directories:write' },
      });
      expect(access['GET /v1/tenants/:tenantId/scim-directories']).toMatchObject({
        requirement: { permission: 'scim-directories:read' },
      });
      const document = SwaggerModule.createDocument(
        app,
        new DocumentBuilder().setTitle('t').setOpenAPIVersion('3.1.0').build(),
      );
      documentAccess(document, registry.routes());
      const patch = document.paths['/scim/v2/Users/{id}']!.patch!;
      expect(patch.security).toEqual([{ scimToken: [] }]);
      expect(document.paths['/scim/v2/Schemas']!.get!.security).toEqual([]);
      expect(patch.description).toMatch(/verifies on every request/);
      expect(Object.keys(patch.responses).sort()).toEqual([
        '200',
        '400',
        '401',
        '404',
        '409',
        '503',
      ]);
      expect(
        (patch.responses['409'] as { content: Record<string, unknown> }).content,
      ).toHaveProperty(['application/scim+json']);
      expect(document.paths['/v1/tenants/{tenantId}/scim-directories']!.post!.security).toEqual([
        { bearer: ['scim-directories:write'] },
        { apiKey: ['scim-directories:write'] },
      ]);
    } finally {
      await app.close();
    }
  });
});
