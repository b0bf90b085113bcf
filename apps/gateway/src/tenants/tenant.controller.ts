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
  type RpcPayload,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
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
  @ApiOperation({ summary: 'List tenants, oldest first' })
  @ApiContract({ status: 200, query: ListTenantsRequestSchema, response: TenantPageSchema })
  list(
    @Query(new ZodPipe(ListTenantsRequestSchema, 'query'))
    query: RpcPayload<typeof TenantRpc.list>,
  ) {
    return this.rpc.request(TenantRpc.list, query);
  }

  @Get(':id')
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
