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
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  CreateRoleBodySchema,
  PageQuerySchema,
  PolicyIdSchema,
  RolePageSchema,
  RoleRpc,
  strictObject,
  TenantRoleSchema,
  UpdateRoleBodySchema,
  UuidSchema,
  type PageQuery,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import { z } from 'zod';
import { Permission } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';

const TenantPath = strictObject({ tenantId: UuidSchema });
const RolePath = strictObject({ tenantId: UuidSchema, roleId: PolicyIdSchema });
type RoleRef = z.output<typeof RolePath>;

/** A tenant's roles: the system roles (read-only) and its custom ones. */
@ApiTags('roles')
@Controller('v1/tenants/:tenantId/roles')
export class RoleController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Post()
  @HttpCode(201)
  @Permission('roles:write')
  @ApiOperation({
    summary: 'Create a custom role: its own permissions, or a template with variables',
    description:
      'The id is kebab-case, unique in the tenant and not a system role’s. The tenant’s whole policy is validated: an unknown inherited role or an inheritance cycle is a 400 naming the field.',
  })
  @ApiContract({
    status: 201,
    path: TenantPath,
    body: CreateRoleBodySchema,
    response: TenantRoleSchema,
    problems: [404, 409, 413],
  })
  create(
    @Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>,
    @Body(new ZodPipe(CreateRoleBodySchema, 'body')) body: z.output<typeof CreateRoleBodySchema>,
  ) {
    return this.rpc.request(RoleRpc.create, { ...body, tenantId: path.tenantId });
  }

  @Get()
  @Permission('roles:read')
  @ApiOperation({ summary: "The tenant's roles (system ones marked `system: true`), by id" })
  @ApiContract({
    status: 200,
    path: TenantPath,
    query: PageQuerySchema,
    response: RolePageSchema,
    problems: [404],
  })
  list(
    @Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>,
    @Query(new ZodPipe(PageQuerySchema, 'query')) query: PageQuery,
  ) {
    return this.rpc.request(RoleRpc.list, { ...query, tenantId: path.tenantId });
  }

  @Get(':roleId')
  @Permission('roles:read')
  @ApiOperation({ summary: 'Get a role, with everything it grants' })
  @ApiContract({ status: 200, path: RolePath, response: TenantRoleSchema, problems: [404] })
  get(@Param(new ZodPipe(RolePath, 'path')) path: RoleRef) {
    return this.rpc.request(RoleRpc.get, path);
  }

  @Patch(':roleId')
  @Permission('roles:write')
  @ApiOperation({
    summary: 'Change a custom role (`null` removes description, template or variables)',
  })
  @ApiContract({
    status: 200,
    path: RolePath,
    body: UpdateRoleBodySchema,
    response: TenantRoleSchema,
    problems: [404, 409, 413],
  })
  update(
    @Param(new ZodPipe(RolePath, 'path')) path: RoleRef,
    @Body(new ZodPipe(UpdateRoleBodySchema, 'body')) body: z.output<typeof UpdateRoleBodySchema>,
  ) {
    return this.rpc.request(RoleRpc.update, { ...body, ...path });
  }

  @Delete(':roleId')
  @Permission('roles:write')
  @ApiOperation({
    summary:
      'Delete a custom role (refused, naming them, while bindings, policies or roles use it)',
  })
  @ApiContract({
    status: 200,
    path: RolePath,
    response: z.object({ deleted: z.literal(true) }),
    problems: [404, 409],
  })
  delete(@Param(new ZodPipe(RolePath, 'path')) path: RoleRef) {
    return this.rpc.request(RoleRpc.delete, path);
  }
}
