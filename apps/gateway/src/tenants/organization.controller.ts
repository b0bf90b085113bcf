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
  CreateOrganizationBodySchema,
  ListOrganizationsQuerySchema,
  MoveOrganizationBodySchema,
  OrganizationPageSchema,
  OrganizationRefSchema,
  OrganizationRpc,
  OrganizationSchema,
  strictObject,
  UpdateOrganizationBodySchema,
  UuidSchema,
  type Organization,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import { z } from 'zod';
import { Permission } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';

const TenantPath = strictObject({ tenantId: UuidSchema });
type TenantRef = z.output<typeof TenantPath>;
type OrganizationRef = z.output<typeof OrganizationRefSchema>;

/**
 * A tenant's organizations: a tree (at most MAX_ORGANIZATION_DEPTH deep) whose settings cascade
 * down, each with the policy engine's resource path (`orgs/<slug>/…`) that role bindings can be
 * scoped to.
 */
@ApiTags('organizations')
@Controller('v1/tenants/:tenantId/organizations')
export class OrganizationController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Post()
  @HttpCode(201)
  @Permission('organizations:write')
  @ApiOperation({
    summary: 'Create an organization, at the top level or under `parentId`',
  })
  @ApiContract({
    status: 201,
    path: TenantPath,
    body: CreateOrganizationBodySchema,
    response: OrganizationSchema,
    problems: [404, 409],
  })
  create(
    @Param(new ZodPipe(TenantPath, 'path')) path: TenantRef,
    @Body(new ZodPipe(CreateOrganizationBodySchema, 'body'))
    body: z.output<typeof CreateOrganizationBodySchema>,
  ): Promise<Organization> {
    return this.rpc.request(OrganizationRpc.create, { ...body, tenantId: path.tenantId });
  }

  @Get()
  @Permission('organizations:read')
  @ApiOperation({
    summary: "The tenant's organizations",
    description:
      '`parentId` lists the direct children of one organization (`root`: the top level); `under` the ' +
      'whole subtree below one; neither, every organization.',
  })
  @ApiContract({
    status: 200,
    path: TenantPath,
    query: ListOrganizationsQuerySchema,
    response: OrganizationPageSchema,
  })
  list(
    @Param(new ZodPipe(TenantPath, 'path')) path: TenantRef,
    @Query(new ZodPipe(ListOrganizationsQuerySchema, 'query'))
    query: z.output<typeof ListOrganizationsQuerySchema>,
  ) {
    return this.rpc.request(OrganizationRpc.list, { ...query, tenantId: path.tenantId });
  }

  @Get(':id')
  @Permission('organizations:read')
  @ApiOperation({ summary: 'An organization, with the settings it inherits (`effectiveSettings`)' })
  @ApiContract({
    status: 200,
    path: OrganizationRefSchema,
    response: OrganizationSchema,
    problems: [404],
  })
  get(
    @Param(new ZodPipe(OrganizationRefSchema, 'path')) path: OrganizationRef,
  ): Promise<Organization> {
    return this.rpc.request(OrganizationRpc.get, path);
  }

  @Patch(':id')
  @Permission('organizations:write')
  @ApiOperation({
    summary: 'Rename an organization or replace its own settings (they cascade to its subtree)',
  })
  @ApiContract({
    status: 200,
    path: OrganizationRefSchema,
    body: UpdateOrganizationBodySchema,
    response: OrganizationSchema,
    problems: [404],
  })
  update(
    @Param(new ZodPipe(OrganizationRefSchema, 'path')) path: OrganizationRef,
    @Body(new ZodPipe(UpdateOrganizationBodySchema, 'body'))
    body: z.output<typeof UpdateOrganizationBodySchema>,
  ): Promise<Organization> {
    return this.rpc.request(OrganizationRpc.update, { ...body, ...path });
  }

  @Post(':id/move')
  @HttpCode(200)
  @Permission('organizations:write')
  @ApiOperation({
    summary: 'Move an organization and its subtree under another (or to the top level with null)',
    description: 'A move under itself or one of its own descendants (a cycle) is refused.',
  })
  @ApiContract({
    status: 200,
    path: OrganizationRefSchema,
    body: MoveOrganizationBodySchema,
    response: OrganizationSchema,
    problems: [404, 409],
  })
  move(
    @Param(new ZodPipe(OrganizationRefSchema, 'path')) path: OrganizationRef,
    @Body(new ZodPipe(MoveOrganizationBodySchema, 'body'))
    body: z.output<typeof MoveOrganizationBodySchema>,
  ): Promise<Organization> {
    return this.rpc.request(OrganizationRpc.move, { ...body, ...path });
  }

  @Delete(':id')
  @Permission('organizations:write')
  @ApiOperation({ summary: 'Delete an organization that has no children' })
  @ApiContract({
    status: 200,
    path: OrganizationRefSchema,
    response: z.object({ deleted: z.literal(true) }),
    problems: [404, 409],
  })
  delete(@Param(new ZodPipe(OrganizationRefSchema, 'path')) path: OrganizationRef) {
    return this.rpc.request(OrganizationRpc.delete, path);
  }
}
