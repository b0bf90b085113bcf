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
  UseInterceptors,
} from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  CreateRoleBindingBodySchema,
  ListRoleBindingsQuerySchema,
  PolicyIdSchema,
  RoleBindingPageSchema,
  RoleBindingRpc,
  RoleBindingSchema,
  strictObject,
  UuidSchema,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import { z } from 'zod';
import { Permission } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { IdempotencyInterceptor } from '../idempotency/idempotency.interceptor.js';

const TenantPath = strictObject({ tenantId: UuidSchema });
const BindingPath = strictObject({ tenantId: UuidSchema, bindingId: PolicyIdSchema });
type BindingRef = z.output<typeof BindingPath>;

/** Role bindings: a role given to a user, group, API key or service account. */
@ApiTags('role-bindings')
@Controller('v1/tenants/:tenantId/role-bindings')
export class RoleBindingController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Post()
  @HttpCode(201)
  @Permission('role-bindings:write')
  @UseInterceptors(IdempotencyInterceptor)
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Retry-safe creation (the id is the server’s): a retry with the same key and body replays the first response (24 h)',
  })
  @ApiOperation({
    summary:
      'Bind a role to a subject, optionally within a resource path, until a time, on conditions',
  })
  @ApiContract({
    status: 201,
    path: TenantPath,
    body: CreateRoleBindingBodySchema,
    response: RoleBindingSchema,
    problems: [404, 413],
  })
  create(
    @Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>,
    @Body(new ZodPipe(CreateRoleBindingBodySchema, 'body'))
    body: z.output<typeof CreateRoleBindingBodySchema>,
  ) {
    return this.rpc.request(RoleBindingRpc.create, { ...body, tenantId: path.tenantId });
  }

  @Get()
  @Permission('role-bindings:read')
  @ApiOperation({ summary: "The tenant's role bindings, by subject and role" })
  @ApiContract({
    status: 200,
    path: TenantPath,
    query: ListRoleBindingsQuerySchema,
    response: RoleBindingPageSchema,
    problems: [404],
  })
  list(
    @Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>,
    @Query(new ZodPipe(ListRoleBindingsQuerySchema, 'query'))
    query: z.output<typeof ListRoleBindingsQuerySchema>,
  ) {
    return this.rpc.request(RoleBindingRpc.list, { ...query, tenantId: path.tenantId });
  }

  @Get(':bindingId')
  @Permission('role-bindings:read')
  @ApiOperation({ summary: 'Get a role binding' })
  @ApiContract({ status: 200, path: BindingPath, response: RoleBindingSchema, problems: [404] })
  get(@Param(new ZodPipe(BindingPath, 'path')) path: BindingRef) {
    return this.rpc.request(RoleBindingRpc.get, path);
  }

  @Delete(':bindingId')
  @Permission('role-bindings:write')
  @ApiOperation({ summary: 'Delete a role binding' })
  @ApiContract({
    status: 200,
    path: BindingPath,
    response: z.object({ deleted: z.literal(true) }),
    problems: [404],
  })
  delete(@Param(new ZodPipe(BindingPath, 'path')) path: BindingRef) {
    return this.rpc.request(RoleBindingRpc.delete, path);
  }
}
