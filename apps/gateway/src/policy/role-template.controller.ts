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
  CreateRoleTemplateBodySchema,
  PageQuerySchema,
  PolicyIdSchema,
  RoleTemplatePageSchema,
  RoleTemplateRpc,
  RoleTemplateSchema,
  strictObject,
  UuidSchema,
  type PageQuery,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import { z } from 'zod';
import { Permission } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';

const TenantPath = strictObject({ tenantId: UuidSchema });
const TemplatePath = strictObject({ tenantId: UuidSchema, templateId: PolicyIdSchema });
type TemplateRef = z.output<typeof TemplatePath>;

/** Role templates: the system ones and the tenant's own, with `{variables}`. */
@ApiTags('role-templates')
@Controller('v1/tenants/:tenantId/role-templates')
export class RoleTemplateController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Post()
  @HttpCode(201)
  @Permission('role-templates:write')
  @ApiOperation({ summary: 'Create a role template of the tenant (`{variable}` placeholders)' })
  @ApiContract({
    status: 201,
    path: TenantPath,
    body: CreateRoleTemplateBodySchema,
    response: RoleTemplateSchema,
    problems: [404, 409, 413],
  })
  create(
    @Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>,
    @Body(new ZodPipe(CreateRoleTemplateBodySchema, 'body'))
    body: z.output<typeof CreateRoleTemplateBodySchema>,
  ) {
    return this.rpc.request(RoleTemplateRpc.create, { ...body, tenantId: path.tenantId });
  }

  @Get()
  @Permission('role-templates:read')
  @ApiOperation({ summary: 'The system templates and the tenant’s own, by id' })
  @ApiContract({
    status: 200,
    path: TenantPath,
    query: PageQuerySchema,
    response: RoleTemplatePageSchema,
    problems: [404],
  })
  list(
    @Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>,
    @Query(new ZodPipe(PageQuerySchema, 'query')) query: PageQuery,
  ) {
    return this.rpc.request(RoleTemplateRpc.list, { ...query, tenantId: path.tenantId });
  }

  @Get(':templateId')
  @Permission('role-templates:read')
  @ApiOperation({ summary: 'Get a role template' })
  @ApiContract({ status: 200, path: TemplatePath, response: RoleTemplateSchema, problems: [404] })
  get(@Param(new ZodPipe(TemplatePath, 'path')) path: TemplateRef) {
    return this.rpc.request(RoleTemplateRpc.get, path);
  }

  @Delete(':templateId')
  @Permission('role-templates:write')
  @ApiOperation({ summary: 'Delete a template of the tenant (refused while roles use it)' })
  @ApiContract({
    status: 200,
    path: TemplatePath,
    response: z.object({ deleted: z.literal(true) }),
    problems: [404, 409],
  })
  delete(@Param(new ZodPipe(TemplatePath, 'path')) path: TemplateRef) {
    return this.rpc.request(RoleTemplateRpc.delete, path);
  }
}
