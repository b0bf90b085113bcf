import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  ApiKeyPageSchema,
  ApiKeyRpc,
  ApiKeySchema,
  CreateApiKeyBodySchema,
  CreatedApiKeySchema,
  PageQuerySchema,
  PLATFORM_TENANT_ID,
  RotateApiKeyBodySchema,
  strictObject,
  UuidSchema,
  type PageQuery,
  type Principal,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import { z } from 'zod';
import { Caller, PLATFORM_ADMINISTRATION, Permission } from '../auth/access.decorators.js';
import { ApiKeyVerifier } from '../auth/api-key.verifier.js';
import { AuthErrors } from '../auth/auth.errors.js';
import { Revocations } from '../auth/revocations.js';
import { uncoveredScopes } from '../auth/scopes.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { MAX_ACCESS_TOKEN_MS } from './caller.js';

const TenantPath = strictObject({ tenantId: UuidSchema });
const KeyPath = strictObject({ tenantId: UuidSchema, keyId: UuidSchema });
const PlatformKeyPath = strictObject({ keyId: UuidSchema });
type CreateBody = z.output<typeof CreateApiKeyBodySchema>;
type RotateBody = z.output<typeof RotateApiKeyBodySchema>;

/** What the tenant and platform API key routes share. */
abstract class ApiKeyRoutes {
  constructor(
    protected readonly rpc: RpcClient,
    private readonly revocations: Revocations,
    private readonly apiKeys: ApiKeyVerifier,
  ) {}

  protected create(caller: Principal, tenantId: string, body: CreateBody) {
    // A key that may make keys may not make one that can do more than itself.
    if (caller.kind === 'api_key') {
      const beyond = uncoveredScopes(caller.scopes, body.scopes);
      if (beyond.length) throw AuthErrors.scopesNotCovered(beyond);
    }
    return this.rpc.request(ApiKeyRpc.create, { ...body, tenantId });
  }

  protected async revoke(tenantId: string, keyId: string) {
    const key = await this.rpc.request(ApiKeyRpc.revoke, { tenantId, keyId });
    // Refused here at once; every other instance as soon as the revocation event arrives.
    this.revocations.revokeApiKey(keyId, Date.now() + MAX_ACCESS_TOKEN_MS);
    this.apiKeys.evict(keyId);
    return key;
  }
}

/** A tenant's API keys. The secret is shown once, when a key is made or rotated. */
@ApiTags('api-keys')
@Controller('v1/tenants/:tenantId/api-keys')
export class ApiKeyController extends ApiKeyRoutes {
  constructor(
    @Inject(RpcClient) rpc: RpcClient,
    @Inject(Revocations) revocations: Revocations,
    @Inject(ApiKeyVerifier) apiKeys: ApiKeyVerifier,
  ) {
    super(rpc, revocations, apiKeys);
  }

  @Post()
  @HttpCode(201)
  @Permission('api-keys:write')
  @ApiOperation({
    summary: 'Make an API key of the tenant (its secret is in the answer, and only there)',
    description: 'An API key may only make keys with scopes it has itself.',
  })
  @ApiContract({
    status: 201,
    path: TenantPath,
    body: CreateApiKeyBodySchema,
    response: CreatedApiKeySchema,
  })
  createKey(
    @Caller() caller: Principal,
    @Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>,
    @Body(new ZodPipe(CreateApiKeyBodySchema, 'body')) body: CreateBody,
  ) {
    return this.create(caller, path.tenantId, body);
  }

  @Get()
  @Permission('api-keys:read')
  @ApiOperation({ summary: "The tenant's API keys (without secrets)" })
  @ApiContract({
    status: 200,
    path: TenantPath,
    query: PageQuerySchema,
    response: ApiKeyPageSchema,
  })
  list(
    @Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>,
    @Query(new ZodPipe(PageQuerySchema, 'query')) query: PageQuery,
  ) {
    return this.rpc.request(ApiKeyRpc.list, { ...query, tenantId: path.tenantId });
  }

  @Get(':keyId')
  @Permission('api-keys:read')
  @ApiOperation({ summary: 'Get an API key (without its secret)' })
  @ApiContract({ status: 200, path: KeyPath, response: ApiKeySchema, problems: [404] })
  get(@Param(new ZodPipe(KeyPath, 'path')) path: z.output<typeof KeyPath>) {
    return this.rpc.request(ApiKeyRpc.get, path);
  }

  @Delete(':keyId')
  @Permission('api-keys:write')
  @ApiOperation({ summary: 'Revoke an API key: refused from now on' })
  @ApiContract({ status: 200, path: KeyPath, response: ApiKeySchema, problems: [404] })
  revokeKey(@Param(new ZodPipe(KeyPath, 'path')) path: z.output<typeof KeyPath>) {
    return this.revoke(path.tenantId, path.keyId);
  }

  @Post(':keyId/rotate')
  @HttpCode(200)
  @Permission('api-keys:write')
  @ApiOperation({
    summary: 'Rotate an API key: a new secret; the old one works for `overlapSeconds` more',
  })
  @ApiContract({
    status: 200,
    path: KeyPath,
    body: RotateApiKeyBodySchema,
    response: CreatedApiKeySchema,
    problems: [404, 409],
  })
  rotate(
    @Param(new ZodPipe(KeyPath, 'path')) path: z.output<typeof KeyPath>,
    @Body(new ZodPipe(RotateApiKeyBodySchema, 'body')) body: RotateBody,
  ) {
    return this.rpc.request(ApiKeyRpc.rotate, { ...body, ...path });
  }
}

/** The platform's API keys (of no tenant), for operators. */
@ApiTags('platform')
@Controller('v1/platform/api-keys')
export class PlatformApiKeyController extends ApiKeyRoutes {
  constructor(
    @Inject(RpcClient) rpc: RpcClient,
    @Inject(Revocations) revocations: Revocations,
    @Inject(ApiKeyVerifier) apiKeys: ApiKeyVerifier,
  ) {
    super(rpc, revocations, apiKeys);
  }

  @Post()
  @HttpCode(201)
  @Permission('api-keys:write', PLATFORM_ADMINISTRATION)
  @ApiOperation({
    summary: 'Make a platform API key (its secret is in the answer, and only there)',
  })
  @ApiContract({ status: 201, body: CreateApiKeyBodySchema, response: CreatedApiKeySchema })
  createKey(
    @Caller() caller: Principal,
    @Body(new ZodPipe(CreateApiKeyBodySchema, 'body')) body: CreateBody,
  ) {
    return this.create(caller, PLATFORM_TENANT_ID, body);
  }

  @Get()
  @Permission('api-keys:read', PLATFORM_ADMINISTRATION)
  @ApiOperation({ summary: "The platform's API keys (without secrets)" })
  @ApiContract({ status: 200, query: PageQuerySchema, response: ApiKeyPageSchema })
  list(@Query(new ZodPipe(PageQuerySchema, 'query')) query: PageQuery) {
    return this.rpc.request(ApiKeyRpc.list, { ...query, tenantId: PLATFORM_TENANT_ID });
  }

  @Get(':keyId')
  @Permission('api-keys:read', PLATFORM_ADMINISTRATION)
  @ApiOperation({ summary: 'Get a platform API key (without its secret)' })
  @ApiContract({ status: 200, path: PlatformKeyPath, response: ApiKeySchema, problems: [404] })
  get(@Param(new ZodPipe(PlatformKeyPath, 'path')) path: z.output<typeof PlatformKeyPath>) {
    return this.rpc.request(ApiKeyRpc.get, { tenantId: PLATFORM_TENANT_ID, keyId: path.keyId });
  }

  @Delete(':keyId')
  @Permission('api-keys:write', PLATFORM_ADMINISTRATION)
  @ApiOperation({ summary: 'Revoke a platform API key: refused from now on' })
  @ApiContract({ status: 200, path: PlatformKeyPath, response: ApiKeySchema, problems: [404] })
  revokeKey(@Param(new ZodPipe(PlatformKeyPath, 'path')) path: z.output<typeof PlatformKeyPath>) {
    return this.revoke(PLATFORM_TENANT_ID, path.keyId);
  }

  @Post(':keyId/rotate')
  @HttpCode(200)
  @Permission('api-keys:write', PLATFORM_ADMINISTRATION)
  @ApiOperation({
    summary: 'Rotate a platform API key: a new secret; the old one works for `overlapSeconds` more',
  })
  @ApiContract({
    status: 200,
    path: PlatformKeyPath,
    body: RotateApiKeyBodySchema,
    response: CreatedApiKeySchema,
    problems: [404, 409],
  })
  rotate(
    @Param(new ZodPipe(PlatformKeyPath, 'path')) path: z.output<typeof PlatformKeyPath>,
    @Body(new ZodPipe(RotateApiKeyBodySchema, 'body')) body: RotateBody,
  ) {
    return this.rpc.request(ApiKeyRpc.rotate, {
      ...body,
      tenantId: PLATFORM_TENANT_ID,
      keyId: path.keyId,
    });
  }
}
