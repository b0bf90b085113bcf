import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Query,
  UseInterceptors,
} from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  CreatePolicyBodySchema,
  PageQuerySchema,
  PolicyIdSchema,
  PolicyPageSchema,
  PolicyRpc,
  PolicySchema,
  strictObject,
  UpdatePolicyBodySchema,
  UuidSchema,
  type PageQuery,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import { z } from 'zod';
import { Permission } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { IdempotencyInterceptor } from '../idempotency/idempotency.interceptor.js';

const TenantPath = strictObject({ tenantId: UuidSchema });
const PolicyPath = strictObject({ tenantId: UuidSchema, policyId: PolicyIdSchema });
type PolicyRef = z.output<typeof PolicyPath>;

/** Policies: the tenant's explicit deny rules, which override every allow. */
@ApiTags('policies')
@Controller('v1/tenants/:tenantId/policies')
export class PolicyController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Post()
  @HttpCode(201)
  @Permission('policies:write')
  @UseInterceptors(IdempotencyInterceptor)
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Retry-safe creation (the id is the server’s): a retry with the same key and body replays the first response (24 h)',
  })
  @ApiOperation({ summary: 'Create a policy (an explicit deny rule)' })
  @ApiContract({
    status: 201,
    path: TenantPath,
    body: CreatePolicyBodySchema,
    response: PolicySchema,
    problems: [404, 413],
  })
  create(
    @Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>,
    @Body(new ZodPipe(CreatePolicyBodySchema, 'body'))
    body: z.output<typeof CreatePolicyBodySchema>,
  ) {
    return this.rpc.request(PolicyRpc.create, { ...body, tenantId: path.tenantId });
  }

  @Get()
  @Permission('policies:read')
  @ApiOperation({ summary: "The tenant's policies (deny rules)" })
  @ApiContract({
    status: 200,
    path: TenantPath,
    query: PageQuerySchema,
    response: PolicyPageSchema,
    problems: [404],
  })
  list(
    @Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>,
    @Query(new ZodPipe(PageQuerySchema, 'query')) query: PageQuery,
  ) {
    return this.rpc.request(PolicyRpc.list, { ...query, tenantId: path.tenantId });
  }

  @Get(':policyId')
  @Permission('policies:read')
  @ApiOperation({ summary: 'Get a policy (deny rule)' })
  @ApiContract({ status: 200, path: PolicyPath, response: PolicySchema, problems: [404] })
  get(@Param(new ZodPipe(PolicyPath, 'path')) path: PolicyRef) {
    return this.rpc.request(PolicyRpc.get, path);
  }

  @Patch(':policyId')
  @Permission('policies:write')
  @ApiOperation({ summary: 'Change a policy (`null` removes description, subjects or scope)' })
  @ApiContract({
    status: 200,
    path: PolicyPath,
    body: UpdatePolicyBodySchema,
    response: PolicySchema,
    problems: [404, 413],
  })
  update(
    @Param(new ZodPipe(PolicyPath, 'path')) path: PolicyRef,
    @Body(new ZodPipe(UpdatePolicyBodySchema, 'body'))
    body: z.output<typeof UpdatePolicyBodySchema>,
  ) {
    return this.rpc.request(PolicyRpc.update, { ...body, ...path });
  }

  @Delete(':policyId')
  @Permission('policies:write')
  @ApiOperation({ summary: 'Delete a policy (deny rule)' })
  @ApiContract({
    status: 200,
    path: PolicyPath,
    response: z.object({ deleted: z.literal(true) }),
    problems: [404],
  })
  delete(@Param(new ZodPipe(PolicyPath, 'path')) path: PolicyRef) {
    return this.rpc.request(PolicyRpc.delete, path);
  }
}
