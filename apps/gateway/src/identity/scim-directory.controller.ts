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
  CreatedScimDirectorySchema,
  CreateScimDirectoryBodySchema,
  PageQuerySchema,
  ScimDirectoryPageSchema,
  ScimDirectoryRpc,
  ScimDirectorySchema,
  strictObject,
  UpdateScimDirectoryBodySchema,
  UuidSchema,
  type PageQuery,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import { z } from 'zod';
import { Permission } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';

const TenantPath = strictObject({ tenantId: UuidSchema });
const DirectoryPath = strictObject({ tenantId: UuidSchema, directoryId: UuidSchema });
type DirectoryRef = z.output<typeof DirectoryPath>;

const ROLE_RULE =
  "A directory's users get its `defaultRole` (default `member`; null for none) plus the roles of every " +
  '`groupRoles` entry whose `group` names a SCIM group they are a member of (by its displayName, ' +
  'ignoring case, its externalId or its id). The directory owns these roles: they are recomputed ' +
  'whenever a membership, a group name or this mapping changes, replacing roles given otherwise.';

/**
 * A tenant's SCIM directories: each gives an IdP (Okta, Entra ID, ...) a SCIM base URL and
 * a bearer token to provision the tenant's users and groups (the routes under /scim/v2).
 */
@ApiTags('scim-directories')
@Controller('v1/tenants/:tenantId/scim-directories')
export class ScimDirectoryController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Post()
  @HttpCode(201)
  @Permission('scim-directories:write')
  @ApiOperation({
    summary: 'Make a SCIM directory: its SCIM base URL and bearer token (shown here only)',
    description: `Give the IdP \`scimBaseUrl\` and \`token\` (as its bearer token / API token). ${ROLE_RULE}`,
  })
  @ApiContract({
    status: 201,
    path: TenantPath,
    body: CreateScimDirectoryBodySchema,
    response: CreatedScimDirectorySchema,
  })
  create(
    @Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>,
    @Body(new ZodPipe(CreateScimDirectoryBodySchema, 'body'))
    body: z.output<typeof CreateScimDirectoryBodySchema>,
  ) {
    return this.rpc.request(ScimDirectoryRpc.create, { ...body, tenantId: path.tenantId });
  }

  @Get()
  @Permission('scim-directories:read')
  @ApiOperation({ summary: "The tenant's SCIM directories (without tokens)" })
  @ApiContract({
    status: 200,
    path: TenantPath,
    query: PageQuerySchema,
    response: ScimDirectoryPageSchema,
  })
  list(
    @Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>,
    @Query(new ZodPipe(PageQuerySchema, 'query')) query: PageQuery,
  ) {
    return this.rpc.request(ScimDirectoryRpc.list, { ...query, tenantId: path.tenantId });
  }

  @Get(':directoryId')
  @Permission('scim-directories:read')
  @ApiOperation({ summary: 'Get a SCIM directory (without its token)' })
  @ApiContract({ status: 200, path: DirectoryPath, response: ScimDirectorySchema, problems: [404] })
  get(@Param(new ZodPipe(DirectoryPath, 'path')) path: DirectoryRef) {
    return this.rpc.request(ScimDirectoryRpc.get, path);
  }

  @Patch(':directoryId')
  @Permission('scim-directories:write')
  @ApiOperation({
    summary: 'Rename a SCIM directory or change its role mapping (applied to its users at once)',
    description: ROLE_RULE,
  })
  @ApiContract({
    status: 200,
    path: DirectoryPath,
    body: UpdateScimDirectoryBodySchema,
    response: ScimDirectorySchema,
    problems: [404],
  })
  update(
    @Param(new ZodPipe(DirectoryPath, 'path')) path: DirectoryRef,
    @Body(new ZodPipe(UpdateScimDirectoryBodySchema, 'body'))
    body: z.output<typeof UpdateScimDirectoryBodySchema>,
  ) {
    return this.rpc.request(ScimDirectoryRpc.update, { ...body, ...path });
  }

  @Post(':directoryId/rotate-token')
  @HttpCode(200)
  @Permission('scim-directories:write')
  @ApiOperation({
    summary: 'A new bearer token for a SCIM directory (shown here only); the old one stops at once',
  })
  @ApiContract({
    status: 200,
    path: DirectoryPath,
    response: CreatedScimDirectorySchema,
    problems: [404],
  })
  rotateToken(@Param(new ZodPipe(DirectoryPath, 'path')) path: DirectoryRef) {
    return this.rpc.request(ScimDirectoryRpc.rotateToken, path);
  }

  @Delete(':directoryId')
  @Permission('scim-directories:write')
  @ApiOperation({
    summary: 'Delete a SCIM directory: its token stops working and its groups go',
    description: 'Its users stay, with their status and roles, no longer managed by a directory.',
  })
  @ApiContract({
    status: 200,
    path: DirectoryPath,
    response: z.object({ deleted: z.literal(true) }),
    problems: [404],
  })
  delete(@Param(new ZodPipe(DirectoryPath, 'path')) path: DirectoryRef) {
    return this.rpc.request(ScimDirectoryRpc.delete, path);
  }
}
