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
  AuditEventPageSchema,
  AuditRpc,
  CreateTenantRequestSchema,
  GetTenantRequestSchema,
  PageQuerySchema,
  TenantPageSchema,
  TenantSchema,
  TenantsRpc,
  type CreateTenantRequest,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import { z } from 'zod';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { IdempotencyInterceptor } from '../idempotency/idempotency.interceptor.js';

const TenantPath = GetTenantRequestSchema;
const TenantIdPath = z.object({ tenantId: GetTenantRequestSchema.shape.id });

/** Thin HTTP edge of the tenants and audit services: validate, forward over NATS, return. */
@ApiTags('tenants')
@Controller('v1/tenants')
export class TenantsController {
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
    problems: [400, 409, 503, 504],
  })
  create(@Body(new ZodPipe(CreateTenantRequestSchema, 'body')) body: CreateTenantRequest) {
    return this.rpc.request(TenantsRpc.create, body);
  }

  @Get()
  @ApiOperation({ summary: 'List tenants, oldest first' })
  @ApiContract({
    status: 200,
    query: PageQuerySchema,
    response: TenantPageSchema,
    problems: [400, 503, 504],
  })
  list(@Query(new ZodPipe(PageQuerySchema, 'query')) query: z.output<typeof PageQuerySchema>) {
    return this.rpc.request(TenantsRpc.list, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a tenant' })
  @ApiContract({
    status: 200,
    path: TenantPath,
    response: TenantSchema,
    problems: [400, 404, 503, 504],
  })
  get(@Param(new ZodPipe(TenantPath, 'path')) params: z.output<typeof TenantPath>) {
    return this.rpc.request(TenantsRpc.get, params);
  }

  @Get(':tenantId/audit-events')
  @ApiTags('audit')
  @ApiOperation({ summary: "A tenant's audit events, newest first" })
  @ApiContract({
    status: 200,
    path: TenantIdPath,
    query: PageQuerySchema,
    response: AuditEventPageSchema,
    problems: [400, 503, 504],
  })
  auditEvents(
    @Param(new ZodPipe(TenantIdPath, 'path')) params: z.output<typeof TenantIdPath>,
    @Query(new ZodPipe(PageQuerySchema, 'query')) query: z.output<typeof PageQuerySchema>,
  ) {
    return this.rpc.request(AuditRpc.list, { ...query, tenantId: params.tenantId });
  }
}
