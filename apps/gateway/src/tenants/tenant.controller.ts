import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  UseInterceptors,
} from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  CreateTenantRequestSchema,
  GetTenantRequestSchema,
  ListTenantsRequestSchema,
  TenantPageSchema,
  TenantRpc,
  TenantSchema,
  type CreateTenantRequest,
  type Principal,
  type RpcPayload,
  type TenantPage,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import { Caller, PLATFORM_ADMINISTRATION, Permission } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { IdempotencyInterceptor } from '../idempotency/idempotency.interceptor.js';

/** HTTP edge of the tenants service's tenant feature: validate, forward over NATS, return. */
@ApiTags('tenants')
@Controller('v1/tenants')
export class TenantController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Post()
  @HttpCode(201)
  @Permission('tenants:write', PLATFORM_ADMINISTRATION)
  @UseInterceptors(IdempotencyInterceptor)
  @ApiOperation({ summary: 'Create a tenant' })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Retry-safe creation: a retry with the same key and body replays the first response (24 h)',
  })
  @ApiContract({
    status: 201,
    body: CreateTenantRequestSchema,
    response: TenantSchema,
    problems: [409],
  })
  create(@Body(new ZodPipe(CreateTenantRequestSchema, 'body')) body: CreateTenantRequest) {
    return this.rpc.request(TenantRpc.create, body);
  }

  @Get()
  @Permission('tenants:read')
  @ApiOperation({
    summary: 'List tenants, oldest first',
    description:
      'Operators and platform API keys see every tenant; a user or API key of a tenant a page with only its own.',
  })
  @ApiContract({ status: 200, query: ListTenantsRequestSchema, response: TenantPageSchema })
  async list(
    @Caller() caller: Principal,
    @Query(new ZodPipe(ListTenantsRequestSchema, 'query'))
    query: RpcPayload<typeof TenantRpc.list>,
  ): Promise<TenantPage> {
    if (caller.tenantId === null) return this.rpc.request(TenantRpc.list, query);
    // Its own tenant is the whole list: one page, and nothing after any cursor.
    if (query.cursor) return { items: [], nextCursor: null };
    const own = await this.rpc.request(TenantRpc.get, { id: caller.tenantId });
    return { items: [own], nextCursor: null };
  }

  @Get(':id')
  @Permission('tenants:read', { tenantParam: 'id' })
  @ApiOperation({ summary: 'Get a tenant' })
  @ApiContract({
    status: 200,
    path: GetTenantRequestSchema,
    response: TenantSchema,
    problems: [404],
  })
  get(
    @Param(new ZodPipe(GetTenantRequestSchema, 'path')) params: RpcPayload<typeof TenantRpc.get>,
  ) {
    return this.rpc.request(TenantRpc.get, params);
  }
}
